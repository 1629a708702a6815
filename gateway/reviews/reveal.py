"""The double-blind reveal: a stay's reviews become public together once both are in, or each once the window
closes; a public review's rating then joins the listing's and the subject's averages, exactly once."""

from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo.asynchronous.client_session import AsyncClientSession

from documents.booking import Booking
from documents.hosted_event import HostedEvent
from documents.notification import NotificationKind
from documents.profile import Profile
from documents.property import Property
from documents.ratings import apply_rating
from documents.review import Review, ReviewerRole
from gateway.database import in_transaction
from gateway.jobs import every
from gateway.logs import get_logger
from gateway.notifications.dispatch import notify
from gateway.properties.search_cache import bump_search_version
from gateway.services import Services

log = get_logger("lango.reviews")
# Reviews one sweep counts at most; the next run takes the rest.
SWEEP_BATCH = 500


async def reveal_if_both_in(services: Services, occasion: str) -> bool:
    """Reveal the stay's (or visit's) reviews when both sides wrote one. Each writer checks after its own insert, so
    of two reviews written at once at least one writer sees both."""
    if await Review.find({"occasion": occasion}).count() < 2:
        return False
    await Review.reveal_occasion(occasion, services.clock())
    await count_public_reviews(services, {"occasion": occasion})
    return True


async def count_public_reviews(services: Services, scope: dict[str, Any], batch: int = SWEEP_BATCH) -> int:
    """Put the public, not yet counted reviews in `scope` (up to `batch`) into the averages; answers how many went in."""
    now = services.clock()
    pending = await Review.find({**scope, "counted": False, **Review.visible_filter(now)}).limit(batch).to_list()
    counted = [review for review in pending if await count_review(services, review, counted=True)]
    for review in {review.occasion: review for review in counted}.values():
        await _tell_both_sides(services, review)
    return len(counted)


async def count_review(services: Services, review: Review, *, counted: bool) -> bool:
    """Add the review's rating to (or take it from) the averages of its listing (a guest's review) and of the person
    reviewed, in one transaction with the flag that says it is counted; False when the flag was already so."""

    async def move(session: AsyncClientSession) -> bool:
        if not await review.mark_counted(counted, session):
            return False
        sign = 1 if counted else -1
        if review.author_role is ReviewerRole.GUEST and review.property_id is not None:
            await apply_rating(
                Property.get_pymongo_collection(),
                {"_id": ObjectId(review.property_id)},
                review.overall,
                review.ratings,
                session,
                sign=sign,
            )
        await apply_rating(
            Profile.get_pymongo_collection(),
            {"user_id": review.subject_id},
            review.overall,
            review.ratings,
            session,
            sign=sign,
            upsert=True,
        )
        return True

    moved = await in_transaction(services, move)
    if moved and review.author_role is ReviewerRole.GUEST and review.property_id is not None:
        # Search filters and sorts on the listing's average: cached pages must not outlive it.
        await bump_search_version(services)
    return moved


def revealed_notice_key(occasion: str) -> str:
    """What makes the notice of an occasion's reviews going public one per person."""
    return f"review_revealed:{occasion}"


async def _tell_both_sides(services: Services, review: Review) -> None:
    """Both people of the stay or visit hear that its reviews are public."""
    if review.booking_id is not None:
        booking = await Booking.get(PydanticObjectId(review.booking_id))
        context = {"check_in": booking.check_in if booking else None, "event_title": None}
    else:
        event = await HostedEvent.get(PydanticObjectId(review.event_id))
        context = {"check_in": event.starts_at.date() if event else None, "event_title": event.title if event else ""}
    if context["check_in"] is None:
        return
    for user_id in (review.author_id, review.subject_id):
        await notify(
            services,
            user_id,
            NotificationKind.REVIEW_REVEALED,
            context,
            dedupe_key=revealed_notice_key(review.occasion),
            data={"booking_id": review.booking_id} if review.booking_id else {"event_id": str(review.event_id)},
        )


async def sweep_closed_windows(services: Services) -> int:
    """Count the reviews whose window closed with the other side silent (or whose counting was interrupted)."""
    return await count_public_reviews(services, {})


@every("*/10 * * * *")
async def reveal_closed_reviews(ctx: dict[str, Any]) -> int:
    """Every ten minutes: reviews public since their window closed join the averages."""
    swept = await sweep_closed_windows(ctx["services"])
    if swept:
        log.info("reviews counted after their window closed", count=swept)
    return swept
