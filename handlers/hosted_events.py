"""Event routes: hosts create, publish and cancel events, add ticket types and door staff; anyone reads published ones."""

from typing import Annotated

from aiohttp import web
from pydantic import Field

from gateway.hosted_events.hosting import (
    EventFields,
    ScannerAssignment,
    TicketTypeFields,
    add_ticket_type,
    assign_scanner,
    create_event,
    event_for,
    hosts,
    list_events,
    publish_event,
    remove_scanner,
    ticket_types_of,
)
from gateway.hosted_events.views import EventPage, EventView, TicketTypeView
from gateway.http_access import AUTHENTICATED, roles
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES
from gateway.tickets.cancelled_events import cancel_event
from gateway.tickets.reminders import remind_holders_before

routes = ApiRoutes(tag="events")
HOST = roles("agent")
EVENT = "/v1/events/{event_id}"


class EventsQuery(RequestModel):
    hosted: bool = False
    scanning: bool = Field(False, description="The events still to end whose door the caller keeps: door staff or host")
    cursor: Annotated[str, Field(max_length=64)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


async def _view(caller: Caller | None, event_id: str) -> EventView:
    event = await event_for(caller, event_id)
    return EventView.of(event, await ticket_types_of(event), for_host=hosts(caller, event))


@routes.post("/v1/events", body=EventFields, response=EventView, status=201, access=HOST, problems=(401, 403, 422))
async def create_hosted_event(request: web.Request, caller: Caller, body: EventFields) -> EventView:
    """Create a draft event (its description's HTML is sanitised)"""
    event = await create_event(request.app[SERVICES], caller, body)
    return EventView.of(event, [], for_host=True)


@routes.get("/v1/events", query=EventsQuery, response=EventPage, access=AUTHENTICATED, problems=(400, 401))
async def list_hosted_events(request: web.Request, caller: Caller, query: EventsQuery) -> EventPage:
    """Published events still to end, newest first; hosted=true lists the caller's own events, drafts included"""
    found, next_cursor = await list_events(caller, query.hosted, query.cursor, query.limit, scanning=query.scanning)
    items = [EventView.of(event, await ticket_types_of(event), for_host=query.hosted) for event in found]
    return EventPage(items=items, next_cursor=next_cursor)


@routes.get(EVENT, response=EventView, access=AUTHENTICATED, problems=(401, 404))
async def read_hosted_event(request: web.Request, caller: Caller) -> EventView:
    """One event with its ticket types and how many are left"""
    return await _view(caller, request.match_info["event_id"])


@routes.post(f"{EVENT}/publish", response=EventView, access=HOST, problems=(401, 403, 404, 409))
async def publish_hosted_event(request: web.Request, caller: Caller) -> EventView:
    """Put a draft event on sale; its ticket holders are reminded before it starts"""
    event = await publish_event(caller, request.match_info["event_id"])
    await remind_holders_before(request.app[SERVICES], event)
    return await _view(caller, str(event.id))


@routes.post(
    f"{EVENT}/cancel",
    response=EventView,
    access=HOST,
    problems=(401, 403, 404, 409),
    description="Cancels the event for good. New orders and payments are refused at once; then a background job "
    "refunds every paid order (M-Pesa ones are left to the finance team), cancels every held order and its open "
    "payments, revokes every ticket and tells each buyer (`event_cancelled` notification, `payment.updated`).",
)
async def cancel_hosted_event(request: web.Request, caller: Caller) -> EventView:
    """Cancel an event: its buyers are refunded and its tickets revoked"""
    event = await cancel_event(request.app[SERVICES], caller, request.match_info["event_id"])
    return await _view(caller, str(event.id))


@routes.post(f"{EVENT}/ticket-types", body=TicketTypeFields, response=TicketTypeView, status=201, access=HOST,
             problems=(401, 403, 404, 409, 422))  # fmt: skip
async def create_ticket_type(request: web.Request, caller: Caller, body: TicketTypeFields) -> TicketTypeView:
    """Add a ticket type: price, quantity, sales window and per-order limit"""
    return TicketTypeView.of(await add_ticket_type(caller, request.match_info["event_id"], body))


@routes.post(f"{EVENT}/scanners", body=ScannerAssignment, response=EventView, access=HOST, problems=(401, 403, 404, 422))
async def add_event_scanner(request: web.Request, caller: Caller, body: ScannerAssignment) -> EventView:
    """Make an account with the scanner role door staff of the event"""
    event = await assign_scanner(request.app[SERVICES], caller, request.match_info["event_id"], body.user_id)
    return EventView.of(event, await ticket_types_of(event), for_host=True)


@routes.delete(f"{EVENT}/scanners/{{user_id}}", response=EventView, access=HOST, problems=(401, 403, 404))
async def remove_event_scanner(request: web.Request, caller: Caller) -> EventView:
    """Take an account off the event's door staff"""
    event = await remove_scanner(request.app[SERVICES], caller, request.match_info["event_id"], request.match_info["user_id"])
    return EventView.of(event, await ticket_types_of(event), for_host=True)
