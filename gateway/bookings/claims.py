"""Claiming and releasing property-nights inside transactions: the unique index refuses a second claim on a night."""

from datetime import date

from beanie import PydanticObjectId
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import BulkWriteError, DuplicateKeyError

from documents.duplicates import DUPLICATE_KEY
from documents.night_claim import ClaimKind, NightClaim, nights_of_stay, stored_date
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
) -> None:
    claims = [NightClaim(property_id=property_id, night=night, kind=kind, booking_id=booking_id) for night in nights]
    try:
        await NightClaim.insert_many(claims, session=session)
    except DuplicateKeyError:
        raise NightsTaken() from None
    except BulkWriteError as error:
        if any(failure.get("code") == DUPLICATE_KEY for failure in error.details.get("writeErrors", [])):
            raise NightsTaken() from None
        raise


async def release_claims(session: AsyncClientSession, booking_id: PydanticObjectId) -> None:
    await NightClaim.get_pymongo_collection().delete_many({"booking_id": booking_id}, session=session)


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
    deleted = await NightClaim.get_pymongo_collection().delete_many(
        {
            "property_id": property_id,
            "kind": ClaimKind.BLOCK.value,
            "night": {"$gte": stored_date(start), "$lt": stored_date(end)},
        }
    )
    await bump_search_version(services)
    return deleted.deleted_count


async def claimed_nights(property_id: PydanticObjectId, start: date, end: date) -> list[NightClaim]:
    """The taken nights of a property in [start, end), for its calendar."""
    return await NightClaim.find(
        {"property_id": property_id, "night": {"$gte": stored_date(start), "$lt": stored_date(end)}}
    ).sort("night").to_list()
