"""Creating, publishing and cancelling events, their ticket types and door staff; who may see or change which."""

from datetime import UTC, datetime
from typing import Annotated, Any

from beanie import PydanticObjectId
from bson import ObjectId
from pydantic import Field, model_validator

from documents.clock import stored_now
from documents.hosted_event import EventStateConflict, EventStatus, HostedEvent, Venue
from documents.ticket_type import TicketType
from documents.user import User
from gateway.hosted_events.keys import new_event_key, ticket_sealing_keys
from gateway.hosted_events.problems import EventNotValid, EventStateProblem, NotAScanner
from gateway.input_types import ApiDatetime, DisplayedPlace, DisplayText, ProseText
from gateway.paging import newest_first
from gateway.problems import NotFound
from gateway.properties.listings import listing_for, sanitised_description
from gateway.request_models import RequestModel
from gateway.security.callers import Caller
from gateway.services import Services

OBJECT_ID = r"^[0-9a-f]{24}$"


class EventFields(RequestModel):
    title: Annotated[DisplayText, Field(min_length=1, max_length=120)]
    description: Annotated[ProseText, Field(max_length=10_000)] = ""
    venue: Annotated[Venue, DisplayedPlace]
    starts_at: ApiDatetime
    ends_at: ApiDatetime
    capacity: Annotated[int, Field(ge=1, le=1_000_000)]
    reentry_allowed: bool = False

    @model_validator(mode="after")
    def _ends_after_start(self) -> "EventFields":
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class TicketTypeFields(RequestModel):
    name: Annotated[DisplayText, Field(min_length=1, max_length=60)]
    price_minor: Annotated[int, Field(ge=0, le=100_000_000_00)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    quantity: Annotated[int, Field(ge=1, le=1_000_000)]
    sales_start: ApiDatetime
    sales_end: ApiDatetime
    per_order_limit: Annotated[int, Field(ge=1, le=100)] = 10

    @model_validator(mode="after")
    def _window(self) -> "TicketTypeFields":
        if self.sales_end <= self.sales_start:
            raise ValueError("sales_end must be after sales_start")
        return self


class ScannerAssignment(RequestModel):
    user_id: Annotated[str, Field(pattern=OBJECT_ID)]


async def create_event(services: Services, caller: Caller, fields: EventFields) -> HostedEvent:
    """A draft event of the calling host, with its first signing key."""
    if fields.starts_at <= datetime.now(UTC):
        raise EventNotValid("starts_at is in the past")
    if fields.venue.property_id is not None:
        # Someone else's draft is as unknown here as it is everywhere else: naming it reveals nothing.
        try:
            await listing_for(caller, str(fields.venue.property_id))
        except NotFound:
            raise EventNotValid("venue.property_id names no listing") from None
    event_id = PydanticObjectId()
    event = HostedEvent(
        id=event_id,
        host_id=caller.user_id,
        title=fields.title,
        description=sanitised_description(fields.description),
        venue=fields.venue,
        starts_at=fields.starts_at.astimezone(UTC),
        ends_at=fields.ends_at.astimezone(UTC),
        capacity=fields.capacity,
        reentry_allowed=fields.reentry_allowed,
        keys=[new_event_key(str(event_id), 1, ticket_sealing_keys(services.settings.tickets))],
    )
    await event.insert()
    return event


async def publish_event(caller: Caller, event_id: str) -> HostedEvent:
    event = await hosted_event_for(caller, event_id)
    if not await TicketType.find({"event_id": event.id}).count():
        raise EventStateProblem("add at least one ticket type before publishing")
    return await _advanced(event.publish())


async def mark_cancelled(caller: Caller, event_id: str) -> HostedEvent:
    """Cancelled for good: sales and payments stop now. What it owes its buyers is settled by
    gateway.tickets.cancelled_events, which calls this."""
    return await _advanced((await hosted_event_for(caller, event_id)).cancel())


async def add_ticket_type(caller: Caller, event_id: str, fields: TicketTypeFields) -> TicketType:
    event = await hosted_event_for(caller, event_id)
    if event.status == EventStatus.CANCELLED:
        raise EventStateProblem("the event is cancelled")
    other = await TicketType.find_one({"event_id": event.id})
    if other is not None and other.currency != fields.currency:
        raise EventNotValid(f"this event sells in {other.currency}")
    if fields.sales_start.astimezone(UTC) >= event.ends_at:
        raise EventNotValid("sales_start must be before the event ends")
    ticket_type = TicketType(
        event_id=event.id,
        name=fields.name,
        price_minor=fields.price_minor,
        currency=fields.currency,
        quantity=fields.quantity,
        sales_start=fields.sales_start.astimezone(UTC),
        sales_end=min(fields.sales_end.astimezone(UTC), event.ends_at),
        per_order_limit=fields.per_order_limit,
    )
    await ticket_type.insert()
    return ticket_type


async def assign_scanner(services: Services, caller: Caller, event_id: str, user_id: str) -> HostedEvent:
    event = await hosted_event_for(caller, event_id)
    scanner = await User.get(PydanticObjectId(user_id))
    if scanner is None or "scanner" not in scanner.roles:
        raise NotAScanner("give the id of an account with the scanner role")
    return await _with_scanners(services, event, {"$addToSet": {"scanner_ids": user_id}})


async def remove_scanner(services: Services, caller: Caller, event_id: str, user_id: str) -> HostedEvent:
    return await _with_scanners(services, await hosted_event_for(caller, event_id), {"$pull": {"scanner_ids": user_id}})


async def _with_scanners(services: Services, event: HostedEvent, change: dict[str, Any]) -> HostedEvent:
    await HostedEvent.get_pymongo_collection().update_one({"_id": event.id}, {**change, "$set": {"updated_at": stored_now()}})
    # Scans read who may scan from a cached context: dropping it lets a removed scanner in no more on this node.
    services.tickets.contexts.forget(str(event.id))
    return await _event(event.id)


async def _advanced(change: Any) -> HostedEvent:
    try:
        return await change
    except EventStateConflict as error:
        raise EventStateProblem(str(error), status_now=error.current) from None


async def _event(event_id: str | ObjectId) -> HostedEvent:
    event = await HostedEvent.get(PydanticObjectId(event_id)) if ObjectId.is_valid(event_id) else None
    if event is None:
        raise NotFound("no such event")
    return event


def hosts(caller: Caller | None, event: HostedEvent) -> bool:
    """Whether the caller runs the event (its host, or an admin): they see its drafts, sales and door staff."""
    return caller is not None and (caller.is_admin or caller.user_id == event.host_id)


async def event_for(caller: Caller | None, event_id: str) -> HostedEvent:
    """A published or cancelled event for anyone; a draft only for its host and admins."""
    event = await _event(event_id)
    if event.status == EventStatus.DRAFT and not hosts(caller, event):
        raise NotFound("no such event")
    return event


async def hosted_event_for(caller: Caller, event_id: str) -> HostedEvent:
    """An event its host (or an admin) may change; 404 for anyone else."""
    event = await _event(event_id)
    if not hosts(caller, event):
        raise NotFound("no such event")
    return event


async def ticket_types_of(event: HostedEvent) -> list[TicketType]:
    return await TicketType.find({"event_id": event.id}).sort("_id").to_list()


async def list_events(
    caller: Caller | None, hosted: bool, after: str | None, limit: int, *, scanning: bool = False
) -> tuple[list[HostedEvent], str | None]:
    """Newest first: the caller's own events (hosted), the events still to end whose door the caller keeps
    (scanning: door staff or host), or every published event still to end."""
    if hosted and caller is not None:
        match: dict[str, Any] = {"host_id": caller.user_id}
    elif scanning and caller is not None:
        match = {"$or": [{"scanner_ids": caller.user_id}, {"host_id": caller.user_id}], "ends_at": {"$gt": datetime.now(UTC)}}
    else:
        match = {"status": EventStatus.PUBLISHED.value, "ends_at": {"$gt": datetime.now(UTC)}}
    return await newest_first(HostedEvent, match, after, limit)
