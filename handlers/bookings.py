"""Booking routes: guests hold nights (idempotently), guests and agents read and cancel the bookings they share."""

from typing import Annotated

from aiohttp import web
from pydantic import Field

from gateway.bookings.holds import StayRequest, hold_nights
from gateway.bookings.lifecycle import BookingsView, booking_for, cancel_booking, list_bookings
from gateway.bookings.quotes import Quote, quote_for
from gateway.bookings.views import BookingPage, BookingView
from gateway.http_access import AUTHENTICATED, roles
from gateway.input_types import ApiDate
from gateway.payments.booking_payments import BookingAnswer, booking_answer
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes, created_response, idempotency_key
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="bookings")
GUEST = roles("guest")
BOOKING = "/v1/bookings/{booking_id}"


class BookingsQuery(RequestModel):
    view: BookingsView = "guest"
    cursor: Annotated[str, Field(max_length=64)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class QuoteQuery(RequestModel):
    check_in: ApiDate
    check_out: ApiDate
    guests: Annotated[int, Field(ge=1, le=1_000)] = 1


@routes.post(
    "/v1/bookings",
    body=StayRequest,
    response=BookingAnswer,
    status=201,
    access=GUEST,
    problems=(400, 401, 403, 404, 409, 422, 429),
    description="Send an Idempotency-Key header to make retries safe: the same key and body answer the same "
    "booking (200), the same key with another body is refused (422). Overlapping nights answer 409 dates-unavailable. "
    "A guest holds at most bookings.max_holds_per_guest stays unpaid at once, and "
    "bookings.max_holds_per_guest_per_listing at one listing (409 hold-limit-reached); paid, cancelled and expired "
    "holds do not count. New holds are limited by rate_limits.holds_per_user (429 rate-limited), and a guest whose "
    "holds lapsed unpaid rate_limits.lapsed_holds_per_user times may not hold again for a while (429 holds-lapsed).",
)
async def create_booking(request: web.Request, caller: Caller, body: StayRequest) -> web.Response:
    """Hold nights at a listing while the guest pays"""
    booking, created = await hold_nights(request.app[SERVICES], caller, body, idempotency_key(request))
    return created_response(await booking_answer(request.app[SERVICES], caller, booking), created)


@routes.get("/v1/bookings", query=BookingsQuery, response=BookingPage, access=AUTHENTICATED, problems=(400, 401, 403))
async def my_bookings(request: web.Request, caller: Caller, query: BookingsQuery) -> BookingPage:
    """The caller's stays (view=guest), the stays at the caller's listings (view=agent), or all (view=all, admins)"""
    bookings, next_cursor = await list_bookings(caller, query.view, query.cursor, query.limit)
    return BookingPage(items=[BookingView.of(booking) for booking in bookings], next_cursor=next_cursor)


@routes.get(BOOKING, response=BookingAnswer, access=AUTHENTICATED, problems=(401, 404))
async def read_booking(request: web.Request, caller: Caller) -> BookingAnswer:
    """One booking, for its guest, the listing's agent or an admin"""
    return await booking_answer(request.app[SERVICES], caller, await booking_for(caller, request.match_info["booking_id"]))


@routes.post(f"{BOOKING}/cancel", response=BookingView, access=AUTHENTICATED, problems=(401, 404, 409))
async def cancel(request: web.Request, caller: Caller) -> BookingView:
    """Cancel a held or confirmed booking; a confirmed one records the refund its policy allows"""
    return BookingView.of(await cancel_booking(request.app[SERVICES], caller, request.match_info["booking_id"]))


@routes.get(
    "/v1/properties/{property_id}/quote",
    query=QuoteQuery,
    response=Quote,
    access=AUTHENTICATED,
    problems=(400, 401, 404, 409, 422),
    description="The price `POST /v1/bookings` would freeze for these dates now, by the same calculation: each night at "
    "its rate (a season's, a weekend's, or the standard one), the weekly (7+ nights) or monthly (28+ nights) discount, "
    "the cleaning fee and the platform's commission. A stay the listing's rules refuse answers 422 stay-not-allowed "
    "whose `rules` name each rule broken (min_nights, max_nights, check_in_day, advance_notice, booking_window, "
    "check_in_past, stay_length, max_guests).",
)
async def quote_stay_price(request: web.Request, caller: Caller, query: QuoteQuery) -> Quote:
    """Quote a stay: the price breakdown, or the stay rules it breaks"""
    return await quote_for(
        request.app[SERVICES].settings,
        caller,
        request.match_info["property_id"],
        query.check_in,
        query.check_out,
        query.guests,
    )
