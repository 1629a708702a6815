"""Writing reviews: each side of a finished stay or visit once, within the window, rating the categories of its
side; the person reviewed may answer once in public."""

from typing import Annotated

from beanie import PydanticObjectId
from bson import ObjectId
from pydantic import Field, StringConstraints
from pymongo.errors import DuplicateKeyError

from documents.review import Review
from gateway.input_types import ProseText
from gateway.problems import NotFound, ValidationFailed
from gateway.request_models import RequestModel
from gateway.reviews.occasions import Occasion
from gateway.reviews.problems import AlreadyReplied, AlreadyReviewed, NotReviewable, ReviewWindowClosed
from gateway.reviews.reveal import reveal_if_both_in
from gateway.security.callers import Caller
from gateway.services import Services

Stars = Annotated[int, Field(ge=1, le=5)]
Comment = Annotated[ProseText, StringConstraints(min_length=1, max_length=2000)]


class ReviewInput(RequestModel):
    overall: Stars
    ratings: dict[Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,20}$")], Stars] = Field(
        max_length=10,
        description="one to five stars for each category of the writer's side. After a stay a guest rates "
        "cleanliness, accuracy, communication, location, check_in and value, a host cleanliness, communication and "
        "house_rules; after an event an attendee rates organisation, venue and value, its host conduct",
    )
    comment: Comment


class ReplyInput(RequestModel):
    text: Annotated[ProseText, StringConstraints(min_length=1, max_length=1000)]


async def write_review(services: Services, caller: Caller, occasion: Occasion, review: ReviewInput) -> Review:
    """The caller's review of the stay or visit, sealed until the other side's is in or the window closes."""
    await services.limits.hit("reviews_per_user", caller.user_id)
    side = occasion.side_of(caller)
    if not occasion.finished:
        raise NotReviewable()
    closes_at = occasion.window_closes_at(services.settings.reviews)
    if services.clock() >= closes_at:
        raise ReviewWindowClosed(window_closed_at=closes_at.isoformat())
    _check_categories(occasion.categories(side), review.ratings)
    written = Review(
        occasion=occasion.key,
        booking_id=occasion.booking_id,
        event_id=occasion.event_id,
        property_id=occasion.property_id,
        author_id=caller.user_id,
        subject_id=occasion.subject_of(side),
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
    await reveal_if_both_in(services, occasion.key)
    return await Review.get(written.id) or written


def _check_categories(categories: tuple[str, ...], ratings: dict[str, int]) -> None:
    expected = set(categories)
    errors = [
        {"field": f"body.ratings.{name}", "message": f"{name} is not rated here", "code": "unknown_category"}
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
