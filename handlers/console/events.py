"""Hosts' event pages: their events newest first, each with its ticket sales and live door statistics, and the
short-lived access token the page's script opens its socket with."""

import time

from aiohttp import web

from gateway.hosted_events.hosting import event_for, hosts, list_events, ticket_types_of
from gateway.hosted_events.views import CheckinStats, EventView
from gateway.problems import NotFound
from gateway.responses import json_response
from gateway.state import SERVICES
from gateway.tickets.scanning import Scanner, scan_context_for
from handlers.console.session import check_form_token, console_page, render_for, signed_in
from handlers.hosted_events import HOST

routes = web.RouteTableDef()
EVENTS = "/console/events"
PAGE_SIZE = 20


@routes.get(EVENTS)
@console_page
async def list_hosted(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, HOST)
    found, next_cursor = await list_events(at.caller, True, request.query.get("cursor"), PAGE_SIZE)
    views = [EventView.of(event, await ticket_types_of(event), for_host=True) for event in found]
    return await render_for(request, at, "events.html", events=views, next_cursor=next_cursor)


@routes.get(EVENTS + "/{event_id}")
@console_page
async def show_event(request: web.Request) -> web.StreamResponse:
    """The event as GET /v1/events/{id} answers its host, and its counters as GET /v1/events/{id}/stats does."""
    at = await signed_in(request, HOST)
    event = await event_for(at.caller, request.match_info["event_id"])
    if not hosts(at.caller, event):
        raise NotFound("no such event")
    view = EventView.of(event, await ticket_types_of(event), for_host=True)
    services = request.app[SERVICES]
    await scan_context_for(services, Scanner(at.caller.user_id, at.caller.roles), view.id)
    stats = CheckinStats.model_validate(await services.tickets.counters.read(view.id))
    return await render_for(request, at, "event.html", event=view, stats=stats)


@routes.post("/console/socket-token")
@console_page
async def socket_token(request: web.Request) -> web.StreamResponse:
    """The session's current access token, for the page's socket: short-lived (auth.access_token_ttl_s) and asked for
    with the form token in a header, which a page of another site can neither send nor read the answer of. The refresh
    token never leaves the server."""
    at = await signed_in(request)
    await check_form_token(request, at.session)
    expires_in = max(0, int(at.session.access_expires_at - time.time()))
    return json_response({"access_token": at.session.access_token, "expires_in": expires_in}, headers={"Cache-Control": "no-store"})
