"""Review routes: the two sides of a completed stay review each other, anyone signed in reads the public reviews,
the person reviewed replies once, abusive reviews are reported to admins, who hide them or dismiss the reports."""

from typing import Annotated

from aiohttp import web
from pydantic import Field, StringConstraints

from documents.review import ReportStatus
from gateway.http_access import AUTHENTICATED, roles
from gateway.input_types import ProseText
from gateway.request_models import RequestModel
from gateway.reviews.moderation import dismiss_reports, hide_review, open_reports, report_review
from gateway.reviews.occasions import Occasion, stay, visit
from gateway.reviews.reading import event_reviews, listing_reviews, occasion_reviews, reviews_about
from gateway.reviews.views import ReportPage, ReportView, ReviewPage, ReviewView, StayReviews
from gateway.reviews.writing import ReplyInput, ReviewInput, reply_to_review, write_review
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="reviews")
ADMINS = roles("admin")
Cursor = Annotated[str, Field(pattern=r"^[0-9a-f]{24}$", description="`next_cursor` of the previous page")]


class ReviewsQuery(RequestModel):
    cursor: Cursor | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class ReportsQuery(RequestModel):
    status: ReportStatus | None = ReportStatus.OPEN
    cursor: Cursor | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class ReportInput(RequestModel):
    reason: Annotated[ProseText, StringConstraints(min_length=3, max_length=500)]


@routes.post(
    "/v1/bookings/{booking_id}/reviews",
    body=ReviewInput,
    response=ReviewView,
    status=201,
    access=AUTHENTICATED,
    problems=(409, 429),
    summary="Review a completed stay: the guest reviews the host, the host the guest",
    description="Within reviews.window_days (14) of the check-out day (`review-window-closed`), once per side "
    "(`already-reviewed`), on a completed stay only (`not-reviewable`). Double-blind: the review stays sealed until "
    "the other side's is in or the window closes; then both are public, count in the averages of the listing and of "
    "the person reviewed, and both sides get a `review_revealed` notification. Limited by rate_limits.reviews_per_user.",
)
async def review_stay(request: web.Request, caller: Caller, body: ReviewInput) -> ReviewView:
    return await _write(request, caller, await stay(request.match_info["booking_id"]), body)


@routes.get(
    "/v1/bookings/{booking_id}/reviews",
    response=StayReviews,
    access=AUTHENTICATED,
    summary="A stay's reviews as its guest or host sees them",
    description="Your own review whatever its state; the other side's only once revealed (`theirs_submitted` says "
    "whether it is in). Anyone else finds no such booking.",
)
async def get_stay_reviews(request: web.Request, caller: Caller) -> StayReviews:
    return await occasion_reviews(request.app[SERVICES], caller, await stay(request.match_info["booking_id"]))


@routes.post(
    "/v1/events/{event_id}/reviews",
    body=ReviewInput,
    response=ReviewView,
    status=201,
    access=AUTHENTICATED,
    problems=(409, 429),
    summary="Review an event I was let in at: the attendee reviews its host",
    description="Once the event has ended, within reviews.window_days of its end, for someone one of whose paid "
    "tickets was scanned in; double-blind with the host's review of the attendee, like a stay's.",
)
async def review_event(request: web.Request, caller: Caller, body: ReviewInput) -> ReviewView:
    return await _write(request, caller, await _visit(request, caller.user_id), body)


@routes.post(
    "/v1/events/{event_id}/attendees/{user_id}/reviews",
    body=ReviewInput,
    response=ReviewView,
    status=201,
    access=AUTHENTICATED,
    problems=(409, 429),
    summary="Review an attendee of my event",
    description="The event's host, about someone let in at it; the same window and double-blind reveal.",
)
async def review_attendee(request: web.Request, caller: Caller, body: ReviewInput) -> ReviewView:
    return await _write(request, caller, await _visit(request, request.match_info["user_id"]), body)


@routes.get(
    "/v1/events/{event_id}/attendees/{user_id}/reviews",
    response=StayReviews,
    access=AUTHENTICATED,
    summary="An attendee's visit's reviews as the attendee or the host sees them",
)
async def get_visit_reviews(request: web.Request, caller: Caller) -> StayReviews:
    return await occasion_reviews(request.app[SERVICES], caller, await _visit(request, request.match_info["user_id"]))


@routes.get(
    "/v1/events/{event_id}/reviews",
    query=ReviewsQuery,
    response=ReviewPage,
    access=AUTHENTICATED,
    problems=(400,),
    summary="Attendees' public reviews of an event, newest first",
)
async def get_event_reviews(request: web.Request, caller: Caller, query: ReviewsQuery) -> ReviewPage:
    return await event_reviews(request.app[SERVICES], request.match_info["event_id"], query.cursor, query.limit)


async def _visit(request: web.Request, attendee_id: str) -> Occasion:
    return await visit(request.match_info["event_id"], attendee_id, request.app[SERVICES].clock())


async def _write(request: web.Request, caller: Caller, occasion: Occasion, body: ReviewInput) -> ReviewView:
    services = request.app[SERVICES]
    return ReviewView.of(await write_review(services, caller, occasion, body), services.clock(), None)


@routes.get(
    "/v1/properties/{property_id}/reviews",
    query=ReviewsQuery,
    response=ReviewPage,
    access=AUTHENTICATED,
    problems=(400,),
    summary="Guests' public reviews of a listing, newest first",
)
async def get_listing_reviews(request: web.Request, caller: Caller, query: ReviewsQuery) -> ReviewPage:
    return await listing_reviews(request.app[SERVICES], request.match_info["property_id"], query.cursor, query.limit)


@routes.get(
    "/v1/users/{user_id}/reviews",
    query=ReviewsQuery,
    response=ReviewPage,
    access=AUTHENTICATED,
    problems=(400, 429),
    summary="The public reviews written about a person, newest first",
    description="Limited with public profiles by rate_limits.profile_reads_per_user.",
)
async def get_reviews_about(request: web.Request, caller: Caller, query: ReviewsQuery) -> ReviewPage:
    return await reviews_about(request.app[SERVICES], caller, request.match_info["user_id"], query.cursor, query.limit)


@routes.post(
    "/v1/reviews/{review_id}/reply",
    body=ReplyInput,
    response=ReviewView,
    access=AUTHENTICATED,
    problems=(409, 429),
    summary="Answer a public review of me, once",
    description="Only the person reviewed, once the review is public; a second reply is `already-replied`.",
)
async def reply_review(request: web.Request, caller: Caller, body: ReplyInput) -> ReviewView:
    review = await reply_to_review(request.app[SERVICES], caller, request.match_info["review_id"], body.text)
    return ReviewView.of(review, request.app[SERVICES].clock(), None)


@routes.post(
    "/v1/reviews/{review_id}/reports",
    body=ReportInput,
    status=202,
    access=AUTHENTICATED,
    problems=(429,),
    summary="Report a public review as abusive to the admins",
    description="Once per person and review (reporting again changes nothing). Limited by rate_limits.review_reports_per_user.",
)
async def report_abusive_review(request: web.Request, caller: Caller, body: ReportInput) -> None:
    await report_review(request.app[SERVICES], caller, request.match_info["review_id"], body.reason)


@routes.get(
    "/v1/admin/review-reports",
    query=ReportsQuery,
    response=ReportPage,
    access=ADMINS,
    problems=(400,),
    summary="Reports of abusive reviews, newest first (open ones unless asked otherwise)",
)
async def list_review_reports(request: web.Request, caller: Caller, query: ReportsQuery) -> ReportPage:
    found, next_cursor = await open_reports(query.status, query.cursor, query.limit)
    return ReportPage(items=[ReportView.of(report) for report in found], next_cursor=next_cursor)


@routes.post(
    "/v1/admin/reviews/{review_id}/hide",
    access=ADMINS,
    status=204,
    problems=(409,),
    summary="Hide a review: out of every public view and average; its reports are resolved",
    description="Audited (`review_hidden`). A review hidden already is `review-resolved` (409).",
)
async def hide_abusive_review(request: web.Request, caller: Caller) -> None:
    await hide_review(request.app[SERVICES], caller, request.match_info["review_id"])


@routes.post(
    "/v1/admin/reviews/{review_id}/dismiss-reports",
    access=ADMINS,
    status=204,
    summary="Keep a reported review: its open reports are closed as dismissed",
)
async def dismiss_review_reports(request: web.Request, caller: Caller) -> None:
    await dismiss_reports(caller, request.match_info["review_id"])
