"""Reminders scheduled on the job queue: a booking's before check-in, an event's before it starts; cancellable."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from beanie import PydanticObjectId

from documents.booking import Booking, BookingStatus
from documents.notification import NotificationKind
from gateway.jobs import JobPolicy, abort_job, enqueue, job
from gateway.logs import get_logger
from gateway.notifications.audiences import UnknownAudience, audience_for
from gateway.notifications.booking_context import booking_context
from gateway.notifications.dispatch import notify
from gateway.services import Services
from gateway.settings import NotificationSettings

log = get_logger("lango.notifications.reminders")
REMINDER_POLICY = JobPolicy(retries=3, retry_delay_s=30.0, timeout_s=300)
EVENT_REMINDER_BATCH = 500


def booking_reminder_key(booking_id: str) -> str:
    return f"reminder:booking:{booking_id}"


def event_reminder_key(event_id: str) -> str:
    return f"reminder:event:{event_id}"


def booking_reminder_time(check_in: date, settings: NotificationSettings) -> datetime:
    """`booking_reminder_lead_h` before check-in time on the check-in day, in the marketplace's time zone."""
    hour, minute = map(int, settings.check_in_time.split(":"))
    zone = ZoneInfo(settings.default_time_zone)
    check_in_at = datetime(check_in.year, check_in.month, check_in.day, hour, minute, tzinfo=zone)
    return (check_in_at - timedelta(hours=settings.booking_reminder_lead_h)).astimezone(UTC)


async def schedule_booking_reminder(services: Services, booking_id: str, check_in: date) -> datetime | None:
    """Queue the reminder (once per booking); None when its time has already passed."""
    due = booking_reminder_time(check_in, services.settings.notifications)
    if due <= datetime.now(UTC):
        return None
    await enqueue(
        services.queue,
        send_booking_reminder,
        key=booking_reminder_key(booking_id),
        at=due.timestamp(),
        booking_id=booking_id,
    )
    return due


async def cancel_booking_reminder(services: Services, booking_id: str) -> None:
    await abort_job(services.queue, booking_reminder_key(booking_id))


@job(REMINDER_POLICY)
async def send_booking_reminder(ctx: dict[str, Any], *, booking_id: str) -> bool:
    services: Services = ctx["services"]
    booking = await Booking.get(PydanticObjectId(booking_id))
    # A cancellation that raced the abort must not remind anyone of a stay that will not happen.
    if booking is None or booking.status != BookingStatus.CONFIRMED:
        return False
    context = await booking_context(services, booking)
    context["check_in_time"] = services.settings.notifications.check_in_time
    await notify(
        services,
        booking.guest_id,
        NotificationKind.BOOKING_REMINDER,
        context,
        dedupe_key=f"booking_reminder:{booking_id}",
        data={"booking_id": booking_id},
    )
    return True


async def schedule_event_reminder(
    services: Services, event_id: str, starts_at: datetime, event: dict[str, str]
) -> datetime | None:
    """For the tickets flow: remind the event's ticket holders `event_reminder_lead_h` before it starts.

    `event` carries the template values: event_title, venue, ticket_url. Scheduling again moves the reminder.
    """
    due = starts_at.astimezone(UTC) - timedelta(hours=services.settings.notifications.event_reminder_lead_h)
    await cancel_event_reminder(services, event_id)
    if due <= datetime.now(UTC):
        return None
    await enqueue(
        services.queue,
        send_event_reminder,
        key=event_reminder_key(event_id),
        at=due.timestamp(),
        event_id=event_id,
        starts_at=starts_at.astimezone(UTC).isoformat(),
        event=event,
    )
    return due


async def cancel_event_reminder(services: Services, event_id: str) -> None:
    await abort_job(services.queue, event_reminder_key(event_id))


@job(REMINDER_POLICY)
async def send_event_reminder(ctx: dict[str, Any], *, event_id: str, starts_at: str, event: dict[str, str]) -> int:
    """Notify each ticket holder once; a retried run skips those already reminded (their dedupe key exists)."""
    services: Services = ctx["services"]
    try:
        holders = audience_for("event", event_id)
    except UnknownAudience:
        log.warning("event reminder skipped: no resolver of event audiences is installed", event_id=event_id)
        return 0
    reminded, after = 0, None
    while batch := await holders.user_ids_after(after, EVENT_REMINDER_BATCH):
        for user_id in batch:
            await notify(
                services,
                user_id,
                NotificationKind.EVENT_REMINDER,
                {**event, "starts_at": starts_at},
                dedupe_key=f"event_reminder:{event_id}",
                data={"event_id": event_id},
            )
        reminded += len(batch)
        after = batch[-1]
    log.info("event reminder sent", event_id=event_id, holders=reminded)
    return reminded
