"""Ticket routes: buyers hold orders (idempotently), read their tickets and QR codes, re-issue a leaked one; hosts revoke."""

from typing import Annotated

from aiohttp import web
from pydantic import Field

from documents.door_pass import DoorPass
from gateway.http_access import AUTHENTICATED, authenticate
from gateway.problems import NotFound
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes, created_response, idempotency_key
from gateway.security.callers import Caller
from gateway.state import SERVICES
from gateway.tickets.holding import (
    door_passes,
    list_tickets,
    reissue_ticket,
    revoke_ticket,
    secret_of,
    ticket_by_id,
    ticket_for,  # fmt: skip
)
from gateway.tickets.orders import OrderRequest, cancel_order, hold_tickets, list_orders, order_for
from gateway.tickets.qr import CONTENT_TYPES, QrFormat, qr_image, qr_link_matches
from gateway.tickets.views import (
    TicketOrderAnswer,
    TicketOrderPage,
    TicketOrderView,
    TicketPage,
    TicketView,
    order_answer,
)

routes = ApiRoutes(tag="tickets")
ORDER = "/v1/ticket-orders/{order_id}"
TICKET = "/v1/tickets/{ticket_id}"


class PageQuery(RequestModel):
    cursor: Annotated[str, Field(max_length=64)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class QrQuery(RequestModel):
    key: Annotated[str, Field(max_length=64)] | None = None


@routes.post(
    "/v1/ticket-orders",
    body=OrderRequest,
    response=TicketOrderAnswer,
    status=201,
    access=AUTHENTICATED,
    problems=(400, 401, 404, 409, 422, 429),
    description="Holds the tickets for tickets.hold_ttl_s while the buyer pays (POST /v1/payments with purpose "
    "ticket_order). Send an Idempotency-Key header to make retries safe. Not enough left answers 409 sold-out. "
    "A buyer holds at most tickets.max_holds_per_buyer_per_event unpaid orders for one event (409 "
    "hold-limit-reached). New holds are limited by rate_limits.holds_per_user (429 rate-limited), and a buyer whose "
    "holds lapsed unpaid rate_limits.lapsed_holds_per_user times may not hold again for a while (429 holds-lapsed).",
)
async def create_ticket_order(request: web.Request, caller: Caller, body: OrderRequest) -> web.Response:
    """Hold tickets while the buyer pays"""
    order, created = await hold_tickets(request.app[SERVICES], caller, body, idempotency_key(request))
    return created_response(await order_answer(request.app[SERVICES], caller, order), created)


@routes.get("/v1/ticket-orders", query=PageQuery, response=TicketOrderPage, access=AUTHENTICATED, problems=(400, 401))
async def my_ticket_orders(request: web.Request, caller: Caller, query: PageQuery) -> TicketOrderPage:
    """The caller's ticket orders, newest first"""
    orders, next_cursor = await list_orders(caller, query.cursor, query.limit)
    return TicketOrderPage(items=[TicketOrderView.of(order) for order in orders], next_cursor=next_cursor)


@routes.get(ORDER, response=TicketOrderAnswer, access=AUTHENTICATED, problems=(401, 404))
async def read_ticket_order(request: web.Request, caller: Caller) -> TicketOrderAnswer:
    """One ticket order, for its buyer, the event's host or an admin"""
    return await order_answer(request.app[SERVICES], caller, await order_for(caller, request.match_info["order_id"]))


@routes.post(f"{ORDER}/cancel", response=TicketOrderView, access=AUTHENTICATED, problems=(401, 404, 409))
async def cancel_ticket_order(request: web.Request, caller: Caller) -> TicketOrderView:
    """Give up a held order; its tickets go back on sale"""
    return TicketOrderView.of(await cancel_order(caller, request.match_info["order_id"]))


@routes.get("/v1/tickets", query=PageQuery, response=TicketPage, access=AUTHENTICATED, problems=(400, 401))
async def my_tickets(request: web.Request, caller: Caller, query: PageQuery) -> TicketPage:
    """The caller's tickets with their QR secrets, newest first"""
    tickets, next_cursor = await list_tickets(caller, query.cursor, query.limit)
    doors = await door_passes(tickets)
    items = []
    for ticket in tickets:
        _, event = await ticket_for(caller, str(ticket.id))
        items.append(TicketView.of(ticket, doors.get(ticket.id), secret_of(request.app[SERVICES], event, ticket)))
    return TicketPage(items=items, next_cursor=next_cursor)


@routes.get(TICKET, response=TicketView, access=AUTHENTICATED, problems=(401, 404))
async def read_ticket(request: web.Request, caller: Caller) -> TicketView:
    """One ticket with the secret its QR code encodes"""
    ticket, event = await ticket_for(caller, request.match_info["ticket_id"])
    return TicketView.of(ticket, await DoorPass.get(ticket.id), secret_of(request.app[SERVICES], event, ticket))


@routes.post(f"{TICKET}/reissue", response=TicketView, access=AUTHENTICATED, problems=(401, 404, 409))
async def reissue_my_ticket(request: web.Request, caller: Caller) -> TicketView:
    """A new QR code for a ticket whose code leaked; the old one is revoked"""
    ticket, event = await reissue_ticket(request.app[SERVICES], caller, request.match_info["ticket_id"])
    return TicketView.of(ticket, await DoorPass.get(ticket.id), secret_of(request.app[SERVICES], event, ticket))


@routes.post(f"{TICKET}/revoke", response=TicketView, access=AUTHENTICATED, problems=(401, 404))
async def revoke_a_ticket(request: web.Request, caller: Caller) -> TicketView:
    """The event's host voids a ticket for good"""
    ticket, _ = await revoke_ticket(request.app[SERVICES], caller, request.match_info["ticket_id"])
    return TicketView.of(ticket, await DoorPass.get(ticket.id), None)


async def _qr(request: web.Request, query: QrQuery, image_format: QrFormat) -> web.Response:
    ticket_id = request.match_info["ticket_id"]
    if query.key is None:
        ticket, event = await ticket_for(await authenticate(request), ticket_id)
    else:
        ticket, event = await ticket_by_id(ticket_id)
        if not qr_link_matches(request.app[SERVICES], ticket, query.key):
            raise NotFound("no such ticket")
    secret = secret_of(request.app[SERVICES], event, ticket)
    if secret is None:
        raise NotFound("a revoked ticket has no QR code")
    body = await qr_image(secret, image_format)
    return web.Response(body=body, content_type=CONTENT_TYPES[image_format], headers={"Cache-Control": "private, no-store"})


@routes.get(f"{TICKET}/qr.png", query=QrQuery, problems=(401, 404), response_content_type="image/png",
            description="Send the bearer token, or the `key` of the signed link the ticket email carries.")  # fmt: skip
async def ticket_qr_png(request: web.Request, query: QrQuery) -> web.Response:
    """The ticket's QR code as a PNG"""
    return await _qr(request, query, "png")


@routes.get(f"{TICKET}/qr.svg", query=QrQuery, problems=(401, 404), response_content_type="image/svg+xml",
            description="Send the bearer token, or the `key` of the signed link the ticket email carries.")  # fmt: skip
async def ticket_qr_svg(request: web.Request, query: QrQuery) -> web.Response:
    """The ticket's QR code as an SVG"""
    return await _qr(request, query, "svg")
