"""After the hold: confirming on payment, cancelling with the property's refund policy, completing after check-out,
and who may see which bookings."""

from datetime import UTC, date, datetime
from typing import Any, Literal

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo.asynchronous.client_session import AsyncClientSession

from documents.booking import Booking, BookingStateConflict, BookingStatus, CancelledBy
from documents.night_claim import stored_date
from gateway.bookings.claims import release_claims
from gateway.bookings.notify import publish_booking_updated
from gateway.bookings.problems import BookingStateProblem
from gateway.database import in_transaction
from gateway.jobs import every
from gateway.paging import newest_first
from gateway.problems import Forbidden, NotFound
from gateway.properties.search_cache import bump_search_version
from gateway.security.callers import Caller
from gateway.services import Services

BookingsView = Literal["guest", "agent", "all"]


async def confirm_booking(services: Services, booking_id: str | ObjectId, payment_id: str) -> Booking:
    """held -> confirmed when its payment succeeded; confirming again with the same payment changes nothing."""
    booking = await _booking(booking_id)
    if booking.status == BookingStatus.CONFIRMED and booking.payment_id == payment_id:
        return booking
    try:
        confirmed = await booking.confirm(payment_id)
    except BookingStateConflict as error:
        raise BookingStateProblem(str(error), status_now=error.current) from None
    await publish_booking_updated(services, confirmed)
    return confirmed


async def cancel_booking(services: Services, caller: Caller, booking_id: str) -> Booking:
    """Cancel a held or confirmed booking, free its nights in the same transaction, and ask for the refund due."""
    booking = await booking_for(caller, booking_id)
    by = _cancelled_by(caller, booking)
    refund_due = refund_due_minor(booking, by, datetime.now(UTC).date())

    async def cancel(session: AsyncClientSession) -> Booking:
        cancelled = await booking.cancel(by, refund_due, session)
        await release_claims(session, booking.id)
        return cancelled

    try:
        cancelled = await in_transaction(services, cancel)
    except BookingStateConflict as error:
        raise BookingStateProblem(str(error), status_now=error.current) from None
    await bump_search_version(services)
    await publish_booking_updated(services, cancelled)
    if refund_due:
        # The payments flow, as gateway.composition wires it, asks the vendor for `refund_due_minor`; without
        # one the refund stays recorded on the booking.
        for refund in services.booking_refunders:
            await refund(services, cancelled)
    return cancelled


def refund_due_minor(booking: Booking, by: CancelledBy, today: date) -> int:
    """Nothing was paid on a hold; a host or admin cancelling refunds everything; a guest gets the policy's share."""
    if booking.status != BookingStatus.CONFIRMED:
        return 0
    if by != "guest":
        return booking.price.total_minor
    return booking.cancellation_policy.refund_minor(booking.price.total_minor, booking.check_in, today)


def _cancelled_by(caller: Caller, booking: Booking) -> CancelledBy:
    if caller.user_id == booking.guest_id:
        return "guest"
    if caller.user_id == booking.agent_id:
        return "agent"
    return "admin"


async def complete_finished_stays(services: Services, today: date | None = None) -> int:
    """confirmed -> completed for every stay whose check-out day has come."""
    today = today or datetime.now(UTC).date()
    finished = {"status": BookingStatus.CONFIRMED.value, "check_out": {"$lte": stored_date(today)}}
    completed = 0
    async for booking in Booking.find(finished):
        try:
            done = await booking.complete(today)
        except BookingStateConflict:
            continue
        await publish_booking_updated(services, done)
        completed += 1
    return completed


@every("5 * * * *")
async def complete_stays(ctx: dict[str, Any]) -> int:
    """Hourly: stays past their check-out day become completed."""
    return await complete_finished_stays(ctx["services"])


async def _booking(booking_id: str | ObjectId) -> Booking:
    booking = await Booking.get(PydanticObjectId(booking_id)) if ObjectId.is_valid(booking_id) else None
    if booking is None:
        raise NotFound("no such booking")
    return booking


async def booking_for(caller: Caller, booking_id: str) -> Booking:
    """A booking its guest, the property's agent or an admin may see; 404 for anyone else."""
    booking = await _booking(booking_id)
    if not (caller.is_admin or caller.user_id in (booking.guest_id, booking.agent_id)):
        raise NotFound("no such booking")
    return booking


async def list_bookings(caller: Caller, view: BookingsView, after: str | None, limit: int) -> tuple[list[Booking], str | None]:
    """Newest first: the caller's stays, the stays at the caller's properties, or (admins) every booking.
    The cursor is the last id seen, so bookings made meanwhile never shift a page."""
    if view == "guest":
        whose: dict[str, Any] = {"guest_id": caller.user_id}
    elif view == "agent":
        whose = {"agent_id": caller.user_id}
    elif caller.is_admin:
        whose = {}
    else:
        raise Forbidden("only admins list every booking")
    return await newest_first(Booking, whose, after, limit)
