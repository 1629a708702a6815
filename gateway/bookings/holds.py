"""Holding nights for a guest while payment is pending, replaying idempotent requests, and expiring lapsed holds."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from beanie import PydanticObjectId
from pydantic import Field
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from documents.booking import Booking, BookingStateConflict, BookingStatus
from documents.clock import stored_now
from documents.holder_gate import HolderGate
from documents.night_claim import ClaimKind, nights_of_stay
from documents.property import Property
from gateway.bookings.claims import NightsTaken, claim_nights, release_claims
from gateway.bookings.notify import publish_booking_updated
from gateway.bookings.problems import DatesUnavailable, IdempotencyKeyReused
from gateway.bookings.quotes import bookable_listing
from gateway.database import in_transaction
from gateway.hold_limits import admit_holder, enforce_cap
from gateway.idempotency import request_fingerprint
from gateway.input_types import ApiDate
from gateway.jobs import every
from gateway.logs import get_logger
from gateway.pricing.stays import ListingTerms, quote_stay
from gateway.properties.search_cache import bump_search_version
from gateway.request_models import RequestModel
from gateway.security.callers import Caller
from gateway.services import Services
from gateway.settings import Settings

SWEEP_BATCH = 500
log = get_logger("lango.bookings")


class StayRequest(RequestModel):
    property_id: Annotated[str, Field(pattern=r"^[0-9a-f]{24}$")]
    check_in: ApiDate
    check_out: ApiDate
    guests: Annotated[int, Field(ge=1, le=1_000)]


class _KeyAlreadyUsed(Exception):
    """Another booking by this guest carries the same Idempotency-Key."""


async def hold_nights(
    services: Services, caller: Caller, stay: StayRequest, idempotency_key: str | None
) -> tuple[Booking, bool]:
    """A `held` booking whose nights are claimed in the same transaction, and whether it was created now
    (False: the same request was already answered under this Idempotency-Key)."""
    request_hash = request_fingerprint(stay)
    if idempotency_key and (earlier := await _earlier_answer(caller, idempotency_key, request_hash)):
        return earlier, False
    listing = await bookable_listing(caller, stay.property_id)
    # Priced (and its rules checked) before the holder is admitted: a refused stay costs no hold.
    booking = _new_booking(caller, stay, listing, services.settings, idempotency_key, request_hash)
    await admit_holder(services, caller.user_id)
    try:
        await _insert_with_claims(services, booking)
    except _KeyAlreadyUsed:
        earlier = await _earlier_answer(caller, idempotency_key or "", request_hash)
        if earlier is None:
            raise
        return earlier, False
    except NightsTaken:
        # Nights of a hold that has lapsed but not been swept yet are free: expire such holds, then try once more.
        if not await expire_lapsed_holds(services, property_id=listing.id):
            raise DatesUnavailable(f"some nights between {stay.check_in} and {stay.check_out} are taken") from None
        try:
            await _insert_with_claims(services, booking)
        except NightsTaken:
            raise DatesUnavailable(f"some nights between {stay.check_in} and {stay.check_out} are taken") from None
    await bump_search_version(services)
    await publish_booking_updated(services, booking)
    return booking, True


def _new_booking(
    caller: Caller,
    stay: StayRequest,
    listing: Property,
    settings: Settings,
    idempotency_key: str | None,
    request_hash: str,
) -> Booking:
    price = quote_stay(
        ListingTerms.of(listing),
        stay.check_in,
        stay.check_out,
        stay.guests,
        settings.bookings,
        settings.commission.stays,
    )
    return Booking(
        property_id=listing.id,
        guest_id=caller.user_id,
        agent_id=listing.agent_id,
        check_in=stay.check_in,
        check_out=stay.check_out,
        guests=stay.guests,
        hold_expires_at=stored_now() + timedelta(seconds=settings.bookings.hold_ttl_s),
        price=price,
        cancellation_policy=listing.cancellation_policy,
        idempotency_key=idempotency_key,
        request_hash=request_hash if idempotency_key else None,
    )


async def _insert_with_claims(services: Services, booking: Booking) -> None:
    booking.id = PydanticObjectId()
    nights = nights_of_stay(booking.check_in, booking.check_out)
    settings = services.settings.bookings

    async def insert(session: AsyncClientSession) -> None:
        # First, so concurrent holds of this guest run one after the other and each counts the ones before it.
        await HolderGate.pass_through(booking.guest_id, session)
        try:
            await booking.insert(session=session)
        except DuplicateKeyError:
            raise _KeyAlreadyUsed() from None
        guest = {"guest_id": booking.guest_id}
        await enforce_cap(session, Booking, guest, settings.max_holds_per_guest, "stays")
        at_listing = {**guest, "property_id": booking.property_id}
        await enforce_cap(session, Booking, at_listing, settings.max_holds_per_guest_per_listing, "stays at this listing")
        await claim_nights(session, booking.property_id, nights, ClaimKind.BOOKING, booking.id)

    await in_transaction(services, insert)


async def _earlier_answer(caller: Caller, idempotency_key: str, request_hash: str) -> Booking | None:
    earlier = await Booking.find_one({"guest_id": caller.user_id, "idempotency_key": idempotency_key})
    if earlier is None:
        return None
    if earlier.request_hash != request_hash:
        raise IdempotencyKeyReused("this Idempotency-Key was sent with a different body; use a new key")
    return earlier


async def expire_booking(services: Services, booking: Booking, now: datetime) -> Booking | None:
    """held -> expired and its nights freed, in one transaction; None when it was confirmed or cancelled first."""

    async def expire(session: AsyncClientSession) -> Booking:
        expired = await booking.expire(now, session)
        await release_claims(session, booking.id)
        return expired

    try:
        expired = await in_transaction(services, expire)
    except BookingStateConflict:
        return None
    await bump_search_version(services)
    await publish_booking_updated(services, expired)
    return expired


async def expire_lapsed_holds(
    services: Services, *, property_id: PydanticObjectId | None = None, now: datetime | None = None
) -> int:
    """Expire every hold whose time ran out (of one property, or all); answer how many were expired."""
    now = now or datetime.now(UTC)
    lapsed: dict[str, Any] = {"status": BookingStatus.HELD.value, "hold_expires_at": {"$lte": now}}
    if property_id is not None:
        lapsed["property_id"] = property_id
    expired = 0
    while batch := await Booking.find(lapsed).limit(SWEEP_BATCH).to_list():
        for booking in batch:
            expired += await expire_booking(services, booking, now) is not None
    return expired


@every("* * * * *")
async def sweep_lapsed_holds(ctx: dict[str, Any]) -> int:
    """Every minute: free the nights of holds whose payment never came."""
    expired = await expire_lapsed_holds(ctx["services"])
    if expired:
        log.info("lapsed holds expired", count=expired)
    return expired
