"""Claiming and releasing property-nights inside transactions: the unique index refuses a second claim on a night,
and the listing's `claimed_nights` (what search reads) changes in the same transaction."""

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import BulkWriteError, DuplicateKeyError

from documents.duplicates import DUPLICATE_KEY
from documents.night_claim import ClaimKind, NightClaim, nights_of_stay, stored_date
from documents.property import Property
from gateway.bookings.problems import DatesUnavailable
from gateway.database import in_transaction
from gateway.properties.search_cache import bump_search_version
from gateway.services import Services


class NightsTaken(Exception):
    """Another claim already holds one of the nights."""


async def claim_nights(
    session: AsyncClientSession,
    property_id: PydanticObjectId,
    nights: list[date],
    kind: ClaimKind,
    booking_id: PydanticObjectId | None = None,
    import_id: PydanticObjectId | None = None,
) -> None:
    claims = [
        NightClaim(property_id=property_id, night=night, kind=kind, booking_id=booking_id, import_id=import_id)
        for night in nights
    ]
    try:
        await NightClaim.insert_many(claims, session=session)
    except DuplicateKeyError:
        raise NightsTaken() from None
    except BulkWriteError as error:
        if any(failure.get("code") == DUPLICATE_KEY for failure in error.details.get("writeErrors", [])):
            raise NightsTaken() from None
        raise
    await _listing_nights(session, property_id, {"$addToSet": {"claimed_nights": {"$each": [stored_date(night) for night in nights]}}})


async def release_claims(session: AsyncClientSession, booking_id: PydanticObjectId) -> None:
    await release_matching(session, {"booking_id": booking_id})


async def release_matching(session: AsyncClientSession, claims_filter: dict[str, Any]) -> int:
    """Delete the matching claims and free their nights on their listings; answers how many were deleted."""
    collection = NightClaim.get_pymongo_collection()
    claims = await collection.find(claims_filter, {"property_id": 1, "night": 1}, session=session).to_list()
    if not claims:
        return 0
    await collection.delete_many({"_id": {"$in": [claim["_id"] for claim in claims]}}, session=session)
    nights_by_listing: dict[ObjectId, list[datetime]] = defaultdict(list)
    for claim in claims:
        nights_by_listing[claim["property_id"]].append(claim["night"])
    for property_id, nights in nights_by_listing.items():
        await _listing_nights(session, property_id, {"$pull": {"claimed_nights": {"$in": nights}}})
    return len(claims)


async def _listing_nights(session: AsyncClientSession, property_id: ObjectId, change: dict[str, Any]) -> None:
    await Property.get_pymongo_collection().update_one({"_id": property_id}, change, session=session)


async def block_nights(services: Services, property_id: PydanticObjectId, start: date, end: date) -> list[date]:
    """An agent takes [start, end) off the market; all of it, or none when any night is already taken."""
    nights = nights_of_stay(start, end)

    async def claim(session: AsyncClientSession) -> None:
        await claim_nights(session, property_id, nights, ClaimKind.BLOCK)

    try:
        await in_transaction(services, claim)
    except NightsTaken:
        raise DatesUnavailable("some of these nights are already held, booked or blocked") from None
    await bump_search_version(services)
    return nights


async def unblock_nights(services: Services, property_id: PydanticObjectId, start: date, end: date) -> int:
    """Free the agent's own blocks in [start, end); nights held by bookings stay as they are."""
    blocks = {"property_id": property_id, "kind": ClaimKind.BLOCK.value, "night": {"$gte": stored_date(start), "$lt": stored_date(end)}}

    async def release(session: AsyncClientSession) -> int:
        return await release_matching(session, blocks)

    released = await in_transaction(services, release)
    await bump_search_version(services)
    return released


async def claimed_nights(property_id: PydanticObjectId, start: date, end: date) -> list[NightClaim]:
    """The taken nights of a property in [start, end), for its calendar."""
    return await NightClaim.find(
        {"property_id": property_id, "night": {"$gte": stored_date(start), "$lt": stored_date(end)}}
    ).sort("night").to_list()
