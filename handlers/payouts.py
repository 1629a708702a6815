"""Payout routes: a host or agent sets the M-Pesa phone they are paid on (confirmed by SMS code) and follows payouts."""

from typing import Annotated

from aiohttp import web
from beanie import PydanticObjectId
from pydantic import Field

from documents.payout import Payout
from documents.payout_destination import PayoutDestination
from gateway.http_access import AUTHENTICATED
from gateway.payouts.destinations import (
    DestinationCode,
    DestinationRequest,
    DestinationView,
    confirm_destination,
    request_destination,
)
from gateway.payouts.views import PayoutPage, PayoutView
from gateway.problems import NotFound
from gateway.request_models import RequestModel
from gateway.responses import json_response
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="payouts")
DESTINATION = "/v1/payouts/destination"


@routes.put(
    DESTINATION,
    body=DestinationRequest,
    status=202,
    access=AUTHENTICATED,
    problems=(400, 401, 422, 429),
    summary="Ask to be paid on an M-Pesa phone: a code is sent to it by SMS",
    description="Nothing changes until the code comes back (POST /v1/payouts/destination/confirm). Limited by "
    "rate_limits.payout_destination_requests_per_user and the SMS budgets (429); a code asked for again within "
    "auth.otp_resend_cooldown_s answers 429 otp-cooldown.",
)
async def ask_for_destination(request: web.Request, caller: Caller, body: DestinationRequest) -> web.Response:
    await request_destination(request.app[SERVICES], caller, body.phone, request.remote)
    return json_response({"code_sent": True}, status=202)


@routes.post(
    f"{DESTINATION}/confirm",
    body=DestinationCode,
    response=DestinationView,
    access=AUTHENTICATED,
    problems=(400, 401, 410, 429),
    summary="Confirm the payout phone with the code sent to it",
)
async def confirm_payout_destination(request: web.Request, caller: Caller, body: DestinationCode) -> DestinationView:
    return DestinationView.of(await confirm_destination(request.app[SERVICES], caller, body.code))


@routes.get(DESTINATION, response=DestinationView, access=AUTHENTICATED, problems=(401, 404))
async def payout_destination(request: web.Request, caller: Caller) -> DestinationView:
    """Where the caller's payouts go"""
    destination = await PayoutDestination.of(caller.user_id)
    if destination is None:
        raise NotFound("no payout destination yet")
    return DestinationView.of(destination)


class PayoutsQuery(RequestModel):
    cursor: Annotated[str, Field(pattern=r"^[0-9a-f]{24}$")] | None = Field(None, description="`next_cursor` of the previous page")
    limit: Annotated[int, Field(ge=1, le=100)] = 20


@routes.get(
    "/v1/payouts",
    query=PayoutsQuery,
    response=PayoutPage,
    access=AUTHENTICATED,
    problems=(400, 401),
    description="The caller's payouts, newest first. Each moves pending → sent → paid or failed (timed_out while M-Pesa "
    "is asked whether it paid); changes arrive as `payout.updated` events, and a paid one brings a notice with the "
    "M-Pesa receipt.",
)
async def my_payouts(request: web.Request, caller: Caller, query: PayoutsQuery) -> PayoutPage:
    """The caller's payouts"""
    filters: dict[str, object] = {"user_id": caller.user_id}
    if query.cursor:
        filters["_id"] = {"$lt": PydanticObjectId(query.cursor)}
    payouts = await Payout.find(filters).sort("-_id").limit(query.limit).to_list()
    next_cursor = str(payouts[-1].id) if len(payouts) == query.limit else None
    return PayoutPage(items=[PayoutView.of(payout) for payout in payouts], next_cursor=next_cursor)
