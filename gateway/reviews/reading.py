"""Reading reviews: a listing's and a person's public ones, and a stay's as its two sides see them."""

from datetime import datetime

from beanie import PydanticObjectId
from bson import ObjectId

from documents.profile import Profile
from documents.property import Property, PropertyStatus
from documents.review import Review, ReviewerRole
from gateway.paging import newest_first
from gateway.problems import NotFound
from gateway.reviews.views import ReviewPage, ReviewView, StayReviews
from gateway.reviews.writing import stay_of, window_closes_at
from gateway.security.callers import Caller
from gateway.services import Services


async def listing_reviews(services: Services, property_id: str, after: str | None, limit: int) -> ReviewPage:
    """Guests' public reviews of a published listing, newest first."""
    listing = await Property.get(PydanticObjectId(property_id)) if ObjectId.is_valid(property_id) else None
    if listing is None or listing.status is not PropertyStatus.PUBLISHED:
        raise NotFound("no such listing")
    now = services.clock()
    scope = {"property_id": property_id, "author_role": ReviewerRole.GUEST.value, **Review.visible_filter(now)}
    return await _page(scope, after, limit, now)


async def reviews_about(services: Services, viewer: Caller, user_id: str, after: str | None, limit: int) -> ReviewPage:
    """The public reviews written about a person, by guests and hosts alike, newest first."""
    await services.limits.hit("profile_reads_per_user", viewer.user_id)
    now = services.clock()
    return await _page({"subject_id": user_id, **Review.visible_filter(now)}, after, limit, now)


async def stay_reviews(services: Services, caller: Caller, booking_id: str) -> StayReviews:
    """The caller's own review of the stay whatever its state, and the other side's only once it is public."""
    booking, _ = await stay_of(caller, booking_id)
    now = services.clock()
    reviews = await Review.find({"booking_id": booking_id}).to_list()
    mine = next((review for review in reviews if review.author_id == caller.user_id), None)
    theirs = next((review for review in reviews if review.author_id != caller.user_id), None)
    names = await _names([review.author_id for review in reviews])
    return StayReviews(
        booking_id=booking_id,
        window_closes_at=window_closes_at(booking, services.settings.reviews),
        mine=ReviewView.of(mine, now, names.get(mine.author_id)) if mine else None,
        theirs=ReviewView.of(theirs, now, names.get(theirs.author_id)) if theirs and theirs.visible_at(now) else None,
        theirs_submitted=theirs is not None,
    )


async def _page(scope: dict[str, object], after: str | None, limit: int, now: datetime) -> ReviewPage:
    found, next_cursor = await newest_first(Review, scope, after, limit)
    names = await _names([review.author_id for review in found])
    return ReviewPage(
        items=[ReviewView.of(review, now, names.get(review.author_id)) for review in found], next_cursor=next_cursor
    )


async def _names(user_ids: list[str]) -> dict[str, str | None]:
    """Display names of the writers, read at once."""
    profiles = await Profile.find({"user_id": {"$in": list(set(user_ids))}}).to_list()
    return {profile.user_id: profile.display_name for profile in profiles}
