"""Admin routes for payouts: every payout, newest first, and retrying one as far as its state allows."""

from typing import Annotated

from aiohttp import web
from pydantic import Field

from documents.payout import PayoutStatus
from gateway.http_access import roles
from gateway.payouts.admin import payouts_page, retry_payout
from gateway.payouts.views import AdminPayoutPage, AdminPayoutView
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="admin")
ADMINS = roles("admin")


class AdminPayoutsQuery(RequestModel):
    status: PayoutStatus | None = None
    user_id: Annotated[str, Field(pattern=r"^[0-9a-f]{24}$")] | None = None
    cursor: Annotated[str, Field(pattern=r"^[0-9a-f]{24}$")] | None = Field(
        None, description="`next_cursor` of the previous page"
    )
    limit: Annotated[int, Field(ge=1, le=200)] = 50


@routes.get(
    "/v1/admin/payouts",
    query=AdminPayoutsQuery,
    response=AdminPayoutPage,
    access=ADMINS,
    problems=(400,),
    summary="Every payout, newest first; by status or by the person paid",
)
async def all_payouts(request: web.Request, caller: Caller, query: AdminPayoutsQuery) -> AdminPayoutPage:
    payouts, next_cursor = await payouts_page(caller, query.status, query.user_id, query.cursor, query.limit)
    return AdminPayoutPage(items=[AdminPayoutView.of(payout) for payout in payouts], next_cursor=next_cursor)


@routes.post(
    "/v1/admin/payouts/{payout_id}/retry",
    response=AdminPayoutView,
    access=ADMINS,
    problems=(404, 409),
    summary="Push a stuck or failed payout along",
    description="A `pending` payout is sent again with its own id (Daraja never pays one id twice); a `sent` or "
    "`timed_out` one is asked about with a transaction status query, whose Result settles it; a `failed` one moved "
    "no money, so what is payable to its person now is paid as a new payout (the answer), under the payout job's own "
    "rules. 409 `payout-not-retryable` for a paid payout, or when nothing is payable now.",
)
async def retry(request: web.Request, caller: Caller) -> AdminPayoutView:
    return AdminPayoutView.of(await retry_payout(request.app[SERVICES], caller, request.match_info["payout_id"]))
