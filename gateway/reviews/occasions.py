"""What is reviewed and by whom: a completed stay (its guest and its host), or an event someone was let in at (the
attendee and the event's host); each side's window, categories and the person it reviews."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from beanie import PydanticObjectId
from bson import ObjectId

from documents.booking import Booking, BookingStatus
from documents.door_pass import DoorPass
from documents.hosted_event import EventStatus, HostedEvent
from documents.review import CATEGORIES, EVENT_CATEGORIES, ReviewerRole
from documents.ticket import Ticket, TicketStatus
from gateway.problems import NotFound
from gateway.security.callers import Caller
from gateway.settings import ReviewSettings


@dataclass(frozen=True)
class Occasion:
    """One stay, or one attendee's visit to an event: the two people who may review each other about it."""

    key: str
    guest_id: str
    host_id: str
    # When the stay ended (the check-out day) or the event did.
    ended_at: datetime
    finished: bool
    day: date
    title: str
    booking_id: str | None = None
    event_id: str | None = None
    property_id: str | None = None

    def side_of(self, caller: Caller) -> ReviewerRole:
        """The caller's side; anyone else (admins too) finds nothing to review."""
        if caller.user_id == self.guest_id:
            return ReviewerRole.GUEST
        if caller.user_id == self.host_id:
            return ReviewerRole.HOST
        raise NotFound("nothing of yours to review here")

    def subject_of(self, side: ReviewerRole) -> str:
        return self.host_id if side is ReviewerRole.GUEST else self.guest_id

    def categories(self, side: ReviewerRole) -> tuple[str, ...]:
        return (EVENT_CATEGORIES if self.event_id else CATEGORIES)[side]

    def window_closes_at(self, settings: ReviewSettings) -> datetime:
        return self.ended_at + timedelta(days=settings.window_days)


def booking_key(booking_id: str) -> str:
    return f"booking:{booking_id}"


def visit_key(event_id: str, attendee_id: str) -> str:
    return f"event:{event_id}:{attendee_id}"


async def stay(booking_id: str) -> Occasion:
    booking = await Booking.get(PydanticObjectId(booking_id)) if ObjectId.is_valid(booking_id) else None
    if booking is None:
        raise NotFound("no such booking")
    return Occasion(
        key=booking_key(booking_id),
        guest_id=booking.guest_id,
        host_id=booking.agent_id,
        ended_at=datetime.combine(booking.check_out, time(), tzinfo=UTC),
        finished=booking.status is BookingStatus.COMPLETED,
        day=booking.check_in,
        title="",
        booking_id=booking_id,
        property_id=str(booking.property_id),
    )


async def visit(event_id: str, attendee_id: str, now: datetime) -> Occasion:
    """An attendee's visit to an event: finished once the event ended, for someone one of whose tickets was let in."""
    event = await HostedEvent.get(PydanticObjectId(event_id)) if ObjectId.is_valid(event_id) else None
    if event is None or event.status is EventStatus.DRAFT:
        raise NotFound("no such event")
    tickets = await Ticket.find(
        {"event_id": event.id, "holder_id": attendee_id, "status": TicketStatus.VALID.value, "paid": True}
    ).to_list()
    admitted = (
        bool(tickets)
        and await DoorPass.find({"_id": {"$in": [ticket.id for ticket in tickets]}, "entries": {"$gt": 0}}).count() > 0
    )
    if not admitted:
        raise NotFound("no such attendee")
    return Occasion(
        key=visit_key(event_id, attendee_id),
        guest_id=attendee_id,
        host_id=event.host_id,
        ended_at=event.ends_at,
        finished=event.status is EventStatus.PUBLISHED and event.ends_at <= now,
        day=event.starts_at.date(),
        title=event.title,
        event_id=event_id,
    )
