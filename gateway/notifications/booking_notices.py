"""Guests hear about their bookings: confirmation (and its reminder) and cancellation, from `booking.updated`."""

from datetime import date
from typing import Any

from beanie import PydanticObjectId

from documents.booking import Booking, BookingStatus
from documents.notification import NotificationKind
from gateway.jobs import JobPolicy, enqueue, job
from gateway.messaging.bus import Published
from gateway.messaging.catalogue import BOOKING_UPDATED
from gateway.messaging.targets import user_room
from gateway.notifications.booking_context import booking_context
from gateway.notifications.dispatch import notify
from gateway.notifications.reminders import cancel_booking_reminder, schedule_booking_reminder
from gateway.services import Services

NOTICE_KINDS = {
    BookingStatus.CONFIRMED: NotificationKind.BOOKING_CONFIRMED,
    BookingStatus.CANCELLED: NotificationKind.BOOKING_CANCELLED,
}


def install_booking_notices(services: Services) -> None:
    """Subscribe to `booking.updated`; the guest's copy of each event (the agent gets one too) drives the notices."""

    async def on_booking_updated(published: Published) -> None:
        if published.type != BOOKING_UPDATED or published.target != user_room(published.data["guest_id"]):
            return
        status = BookingStatus(published.data["status"])
        if status in NOTICE_KINDS:
            await booking_changed(services, published.data["id"], status, date.fromisoformat(published.data["check_in"]))

    services.bus.subscribe(on_booking_updated)


async def booking_changed(services: Services, booking_id: str, status: BookingStatus, check_in: date) -> None:
    """Queue the guest's notice and schedule or cancel the check-in reminder; flows without the bus call this."""
    notice_key = f"booking-notice:{booking_id}:{status}"
    await enqueue(services.queue, send_booking_notice, key=notice_key, booking_id=booking_id, status=status.value)
    if status == BookingStatus.CONFIRMED:
        await schedule_booking_reminder(services, booking_id, check_in)
    else:
        await cancel_booking_reminder(services, booking_id)


@job(JobPolicy(retries=5, retry_delay_s=2.0, timeout_s=60))
async def send_booking_notice(ctx: dict[str, Any], *, booking_id: str, status: str) -> bool:
    services: Services = ctx["services"]
    booking = await Booking.get(PydanticObjectId(booking_id))
    if booking is None:
        return False
    kind = NOTICE_KINDS[BookingStatus(status)]
    await notify(
        services,
        booking.guest_id,
        kind,
        await booking_context(services, booking),
        dedupe_key=f"{kind}:{booking_id}",
        data={"booking_id": booking_id},
    )
    return True
