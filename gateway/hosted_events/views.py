"""What event routes answer: an event with its ticket types, pages of events, and the door statistics."""

from datetime import datetime

from pydantic import BaseModel, Field

from documents.hosted_event import HostedEvent, Venue
from documents.ticket_type import TicketType


class TicketTypeView(BaseModel):
    id: str
    name: str
    price_minor: int
    currency: str
    quantity: int
    available: int
    sales_start: datetime
    sales_end: datetime
    per_order_limit: int

    @classmethod
    def of(cls, ticket_type: TicketType) -> "TicketTypeView":
        return cls(
            id=str(ticket_type.id),
            name=ticket_type.name,
            price_minor=ticket_type.price_minor,
            currency=ticket_type.currency,
            quantity=ticket_type.quantity,
            available=max(0, ticket_type.quantity - ticket_type.sold),
            sales_start=ticket_type.sales_start,
            sales_end=ticket_type.sales_end,
            per_order_limit=ticket_type.per_order_limit,
        )


class EventView(BaseModel):
    id: str
    host_id: str
    title: str
    description: str
    venue: Venue
    starts_at: datetime
    ends_at: datetime
    capacity: int
    available: int
    status: str
    reentry_allowed: bool
    scanner_ids: list[str] | None
    ticket_types: list[TicketTypeView]

    @classmethod
    def of(cls, event: HostedEvent, ticket_types: list[TicketType], *, for_host: bool) -> "EventView":
        return cls(
            id=str(event.id),
            host_id=event.host_id,
            title=event.title,
            description=event.description,
            venue=event.venue,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            capacity=event.capacity,
            available=max(0, event.capacity - event.sold),
            status=event.status.value,
            reentry_allowed=event.reentry_allowed,
            scanner_ids=event.scanner_ids if for_host else None,
            ticket_types=[TicketTypeView.of(ticket_type) for ticket_type in ticket_types],
        )


class EventPage(BaseModel):
    items: list[EventView]
    next_cursor: str | None


class CheckinStats(BaseModel):
    admitted: int
    inside: int
    by_ticket_type: dict[str, int]
    by_gate: dict[str, int]
    version: int = Field(description="Grows with every change of the counters: of two readings, the higher is newer")
