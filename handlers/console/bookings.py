"""Bookings at the console: admins see every booking, agents the stays at their listings, newest first as GET
/v1/bookings lists them; either may cancel one as POST /v1/bookings/{id}/cancel does."""

from aiohttp import web

from gateway.bookings.lifecycle import cancel_booking, list_bookings
from gateway.bookings.views import BookingView
from gateway.problems import Problem
from gateway.state import SERVICES
from handlers.console.session import check_form_token, console_page, render_for, see_other, signed_in
from handlers.properties import AGENT

routes = web.RouteTableDef()
BOOKINGS = "/console/bookings"
PAGE_SIZE = 20


@routes.get(BOOKINGS)
@console_page
async def list_stays(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, AGENT)
    problem = None
    try:
        found, next_cursor = await list_bookings(at.caller, "all" if at.caller.is_admin else "agent", request.query.get("cursor"), PAGE_SIZE)
    except Problem as refused:
        found, next_cursor, problem = [], None, refused
    return await render_for(
        request, at, "bookings.html", bookings=[BookingView.of(booking) for booking in found], next_cursor=next_cursor,
        problem=problem, cancelled=request.query.get("done") == "cancelled",
    )  # fmt: skip


@routes.post(BOOKINGS + "/{booking_id}/cancel")
@console_page
async def cancel(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, AGENT)
    await check_form_token(request, at.session)
    await cancel_booking(request.app[SERVICES], at.caller, request.match_info["booking_id"])
    return see_other(f"{BOOKINGS}?done=cancelled")
