"""Reading reviews: a listing's, an event's and a person's public ones, and a stay's or visit's as its two sides
see them."""

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId

from documents.hosted_event import EventStatus, HostedEvent
from documents.profile import Profile
from documents.property import Property, PropertyStatus
from documents.review import Review, ReviewerRole
from gateway.paging import newest_first
from gateway.problems import NotFound
from gateway.reviews.occasions import Occasion
from gateway.reviews.views import ReviewPage, ReviewView, StayReviews
from gateway.security.callers import Caller
from gateway.services import Services


async def listing_reviews(services: Services, property_id: str, after: str | None, limit: int) -> ReviewPage:
    """Guests' public reviews of a published listing, newest first."""
    listing = await Property.get(PydanticObjectId(property_id)) if ObjectId.is_valid(property_id) else None
    if listing is None or listing.status is not PropertyStatus.PUBLISHED:
        raise NotFound("no such listing")
    return await _guests_reviews(services, {"property_id": property_id}, after, limit)


async def event_reviews(services: Services, event_id: str, after: str | None, limit: int) -> ReviewPage:
    """Attendees' public reviews of a published event, newest first."""
    event = await HostedEvent.get(PydanticObjectId(event_id)) if ObjectId.is_valid(event_id) else None
    if event is None or event.status is EventStatus.DRAFT:
        raise NotFound("no such event")
    return await _guests_reviews(services, {"event_id": event_id}, after, limit)


async def reviews_about(services: Services, viewer: Caller, user_id: str, after: str | None, limit: int) -> ReviewPage:
    """The public reviews written about a person, by guests and hosts alike, newest first."""
    await services.limits.hit("profile_reads_per_user", viewer.user_id)
    now = services.clock()
    return await _page({"subject_id": user_id, **Review.visible_filter(now)}, after, limit, now)


async def occasion_reviews(services: Services, caller: Caller, occasion: Occasion) -> StayReviews:
    """The caller's own review whatever its state, and the other side's only once it is public."""
    occasion.side_of(caller)
    now = services.clock()
    reviews = await Review.find({"occasion": occasion.key}).to_list()
    mine = next((review for review in reviews if review.author_id == caller.user_id), None)
    theirs = next((review for review in reviews if review.author_id != caller.user_id), None)
    names = await _names([review.author_id for review in reviews])
    return StayReviews(
        booking_id=occasion.booking_id,
        event_id=occasion.event_id,
        window_closes_at=occasion.window_closes_at(services.settings.reviews),
        mine=ReviewView.of(mine, now, names.get(mine.author_id)) if mine else None,
        theirs=ReviewView.of(theirs, now, names.get(theirs.author_id)) if theirs and theirs.visible_at(now) else None,
        theirs_submitted=theirs is not None,
    )


async def _guests_reviews(services: Services, scope: dict[str, Any], after: str | None, limit: int) -> ReviewPage:
    now = services.clock()
    return await _page(
        {**scope, "author_role": ReviewerRole.GUEST.value, **Review.visible_filter(now)}, after, limit, now
    )


async def _page(scope: dict[str, Any], after: str | None, limit: int, now: datetime) -> ReviewPage:
    found, next_cursor = await newest_first(Review, scope, after, limit)
    names = await _names([review.author_id for review in found])
    return ReviewPage(
        items=[ReviewView.of(review, now, names.get(review.author_id)) for review in found], next_cursor=next_cursor
    )


async def _names(user_ids: list[str]) -> dict[str, str | None]:
    """Display names of the writers, read at once."""
    profiles = await Profile.find({"user_id": {"$in": list(set(user_ids))}}).to_list()
    return {profile.user_id: profile.display_name for profile in profiles}
