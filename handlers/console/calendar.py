"""A listing's month calendar at the console, for its agent and admins: each night free, blocked, held by a booking
awaiting payment or booked; blocking and freeing nights as POST and DELETE /v1/properties/{id}/blocks do; the iCal
feeds it imports, each with its last sync, error and conflicts."""

import calendar
from datetime import date

from aiohttp import web

from documents.night_claim import ClaimKind
from gateway.bookings.claims import block_nights, claimed_nights, unblock_nights
from gateway.bookings.lifecycle import booking_for
from gateway.calendar_sync.imports import imports_of
from gateway.problems import Problem
from gateway.properties.listings import managed_listing
from gateway.request_models import validate
from gateway.state import SERVICES
from handlers.console.session import SignedIn, check_form_token, console_page, render_for, see_other, signed_in
from handlers.properties import AGENT, DateRange

routes = web.RouteTableDef()
CALENDAR = "/console/listings/{listing_id}/calendar"


def _month_of(request: web.Request) -> date:
    """The first day of the month asked for (`month=YYYY-MM`), else of this one."""
    try:
        year, month = (int(part) for part in request.query.get("month", "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return date.today().replace(day=1)


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


async def _calendar_page(request: web.Request, at: SignedIn, first: date, *, status: int = 200, **outcome: object) -> web.Response:
    listing = await managed_listing(at.caller, request.match_info["listing_id"])
    after = _next_month(first)
    nights: dict[date, str] = {}
    states: dict[str, str] = {}
    for claim in await claimed_nights(listing.id, first, after):  # type: ignore[arg-type]
        if claim.kind == ClaimKind.BLOCK or claim.booking_id is None:
            nights[claim.night] = "blocked"
            continue
        booking_id = str(claim.booking_id)
        if booking_id not in states:
            states[booking_id] = "held" if (await booking_for(at.caller, booking_id)).status == "held" else "booked"
        nights[claim.night] = states[booking_id]
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    previous = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    context = {"problem": None, **outcome}
    return await render_for(
        request, at, "calendar.html", status=status, listing=listing, first=first, weeks=weeks, nights=nights,
        previous=previous.strftime("%Y-%m"), following=after.strftime("%Y-%m"), feeds=await imports_of(listing),
        **context,
    )  # fmt: skip


@routes.get(CALENDAR)
@console_page
async def show_calendar(request: web.Request) -> web.StreamResponse:
    return await _calendar_page(request, await signed_in(request, AGENT), _month_of(request))


@routes.post(CALENDAR)
@console_page
async def change_blocks(request: web.Request) -> web.StreamResponse:
    """Block (`change=block`) or free (`change=free`) the nights [start, end) of the listing."""
    at = await signed_in(request, AGENT)
    form = await check_form_token(request, at.session)
    first = _month_of(request)
    try:
        nights = validate(DateRange, {"start": form.get("start", ""), "end": form.get("end", "")}, location="body")
        listing = await managed_listing(at.caller, request.match_info["listing_id"])
        change = block_nights if form.get("change") == "block" else unblock_nights
        await change(request.app[SERVICES], listing.id, nights.start, nights.end)  # type: ignore[arg-type, attr-defined]
    except Problem as problem:
        return await _calendar_page(request, at, first, status=problem.status, problem=problem)
    return see_other(f"{request.path}?month={first.strftime('%Y-%m')}")
