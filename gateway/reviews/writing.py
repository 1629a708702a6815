"""Writing reviews: each side of a completed stay once, within the window, rating the categories of its side; the
person reviewed may answer once in public."""

from datetime import UTC, datetime, time, timedelta
from typing import Annotated

from beanie import PydanticObjectId
from bson import ObjectId
from pydantic import Field, StringConstraints
from pymongo.errors import DuplicateKeyError

from documents.booking import Booking, BookingStatus
from documents.review import CATEGORIES, Review, ReviewerRole
from gateway.input_types import ProseText
from gateway.problems import NotFound, ValidationFailed
from gateway.reviews.problems import AlreadyReplied, AlreadyReviewed, NotReviewable, ReviewWindowClosed
from gateway.reviews.reveal import reveal_if_both_in
from gateway.routing import RequestModel
from gateway.security.callers import Caller
from gateway.services import Services
from gateway.settings import ReviewSettings

Stars = Annotated[int, Field(ge=1, le=5)]
Comment = Annotated[ProseText, StringConstraints(min_length=1, max_length=2000)]


class ReviewInput(RequestModel):
    overall: Stars
    ratings: dict[Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,20}$")], Stars] = Field(
        max_length=10,
        description="one to five stars for each category of the writer's side: a guest rates cleanliness, accuracy, "
        "communication, location, check_in and value; a host rates cleanliness, communication and house_rules",
    )
    comment: Comment


class ReplyInput(RequestModel):
    text: Annotated[ProseText, StringConstraints(min_length=1, max_length=1000)]


def window_closes_at(booking: Booking, settings: ReviewSettings) -> datetime:
    """The end of the review window: `window_days` after the check-out day began (UTC)."""
    return datetime.combine(booking.check_out, time(), tzinfo=UTC) + timedelta(days=settings.window_days)


def side_of(caller: Caller, booking: Booking) -> ReviewerRole:
    """The caller's side of the stay; anyone else (admins too) finds no such booking."""
    if caller.user_id == booking.guest_id:
        return ReviewerRole.GUEST
    if caller.user_id == booking.agent_id:
        return ReviewerRole.HOST
    raise NotFound("no such booking")


async def stay_of(caller: Caller, booking_id: str) -> tuple[Booking, ReviewerRole]:
    booking = await Booking.get(PydanticObjectId(booking_id)) if ObjectId.is_valid(booking_id) else None
    if booking is None:
        raise NotFound("no such booking")
    return booking, side_of(caller, booking)


async def write_review(services: Services, caller: Caller, booking_id: str, review: ReviewInput) -> Review:
    """The caller's review of the stay, sealed until the other side's is in or the window closes."""
    await services.limits.hit("reviews_per_user", caller.user_id)
    booking, side = await stay_of(caller, booking_id)
    if booking.status is not BookingStatus.COMPLETED:
        raise NotReviewable()
    closes_at = window_closes_at(booking, services.settings.reviews)
    if services.clock() >= closes_at:
        raise ReviewWindowClosed(window_closed_at=closes_at.isoformat())
    _check_categories(side, review.ratings)
    written = Review(
        booking_id=booking_id,
        property_id=str(booking.property_id),
        author_id=caller.user_id,
        subject_id=booking.agent_id if side is ReviewerRole.GUEST else booking.guest_id,
        author_role=side,
        overall=review.overall,
        ratings=review.ratings,
        comment=review.comment,
        created_at=services.clock(),
        window_closes_at=closes_at,
    )
    try:
        await written.insert()
    except DuplicateKeyError:
        raise AlreadyReviewed() from None
    await reveal_if_both_in(services, booking_id)
    return await Review.get(written.id) or written


def _check_categories(side: ReviewerRole, ratings: dict[str, int]) -> None:
    expected = set(CATEGORIES[side])
    errors = [
        {"field": f"body.ratings.{name}", "message": f"a {side.value} does not rate {name}", "code": "unknown_category"}
        for name in sorted(set(ratings) - expected)
    ] + [
        {"field": f"body.ratings.{name}", "message": "rate every category of your side", "code": "missing"}
        for name in sorted(expected - set(ratings))
    ]
    if errors:
        raise ValidationFailed(errors=errors)


async def reply_to_review(services: Services, caller: Caller, review_id: str, text: str) -> Review:
    """The person reviewed answers once, in public, once the review is public."""
    await services.limits.hit("reviews_per_user", caller.user_id)
    review = await Review.get(PydanticObjectId(review_id)) if ObjectId.is_valid(review_id) else None
    if review is None or review.subject_id != caller.user_id or not review.visible_at(services.clock()):
        raise NotFound("no such review")
    if not await review.add_reply(text, services.clock()):
        raise AlreadyReplied()
    return await Review.get(review.id) or review
