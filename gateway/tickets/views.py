"""What ticket and door routes answer: orders (with the Paybill for their buyer), tickets with their secret, pages of
them, scans and the scanner kit."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from documents.door_pass import DoorPass
from documents.payment import PaymentPurpose
from documents.ticket import Ticket
from documents.ticket_order import OrderLine, OrderStatus, TicketOrder
from gateway.payments.paybill import PaybillInstructions, paybill_instructions
from gateway.security.callers import Caller
from gateway.services import Services


class TicketOrderView(BaseModel):
    id: str
    event_id: str
    buyer_id: str
    holder_name: str
    lines: list[OrderLine]
    total_minor: int
    currency: str
    platform_fee_minor: int = Field(description="the platform's commission out of total_minor")
    host_earnings_minor: int = Field(description="what the event's host earns from the order: total_minor less the fee")
    status: str
    hold_expires_at: datetime
    payment_id: str | None
    paid_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, order: TicketOrder) -> "TicketOrderView":
        return cls(
            id=str(order.id),
            event_id=str(order.event_id),
            buyer_id=order.buyer_id,
            holder_name=order.holder_name,
            lines=order.lines,
            total_minor=order.total_minor,
            currency=order.currency,
            platform_fee_minor=order.platform_fee_minor,
            host_earnings_minor=order.total_minor - order.platform_fee_minor,
            status=order.status.value,
            hold_expires_at=order.hold_expires_at,
            payment_id=order.payment_id,
            paid_at=order.paid_at,
            created_at=order.created_at,
        )


class TicketOrderAnswer(TicketOrderView):
    paybill: PaybillInstructions | None = Field(
        None, description="How the buyer pays on the M-Pesa Paybill instead of the STK prompt; while the order is held"
    )


async def order_answer(services: Services, caller: Caller, order: TicketOrder) -> TicketOrderAnswer:
    """The order as `caller` sees it: its buyer, while it is held, also sees how to pay it on the Paybill."""
    paybill = None
    if order.status == OrderStatus.HELD and caller.user_id == order.buyer_id:
        paybill = await paybill_instructions(
            services, PaymentPurpose.TICKET_ORDER, str(order.id), order.buyer_id, order.total_minor, order.currency
        )
    return TicketOrderAnswer(**TicketOrderView.of(order).model_dump(), paybill=paybill)


class TicketOrderPage(BaseModel):
    items: list[TicketOrderView]
    next_cursor: str | None


class TicketView(BaseModel):
    id: str
    event_id: str
    order_id: str
    ticket_type_id: str
    ticket_type: str
    holder_name: str
    status: str
    paid: bool
    secret_version: int
    # What the QR code encodes; null once the ticket is revoked.
    secret: str | None
    valid_from: datetime
    valid_until: datetime
    inside: bool
    admitted_at: datetime | None
    admitted_gate: str | None

    @classmethod
    def of(cls, ticket: Ticket, door: DoorPass | None, secret: str | None) -> "TicketView":
        return cls(
            id=str(ticket.id),
            event_id=str(ticket.event_id),
            order_id=str(ticket.order_id),
            ticket_type_id=str(ticket.ticket_type_id),
            ticket_type=ticket.type_name,
            holder_name=ticket.holder_name,
            status=ticket.status.value,
            paid=ticket.paid,
            secret_version=ticket.secret_version,
            secret=secret,
            valid_from=ticket.valid_from,
            valid_until=ticket.valid_until,
            inside=door.inside if door else False,
            admitted_at=door.admitted_at if door else None,
            admitted_gate=door.admitted_gate if door else None,
        )


class TicketPage(BaseModel):
    items: list[TicketView]
    next_cursor: str | None


class ScanAnswer(BaseModel):
    """`result`: ok, already_redeemed (with redeemed_at and redeemed_gate), not_inside (an exit of a ticket not
    inside), invalid, revoked, unpaid, wrong_event or not_valid_now; holder_name and ticket_type for display."""

    result: str
    nonce: str
    type: str
    gate: str
    ticket_id: str | None
    holder_name: str | None = None
    ticket_type: str | None = None
    redeemed_at: str | None = None
    redeemed_gate: str | None = None
    conflict: bool | None = None
    scanned_at: str | None = None


class BatchAnswer(BaseModel):
    results: list[ScanAnswer]
    conflicts: list[ScanAnswer]


class ScannerKit(BaseModel):
    event_id: str
    secret_format: int
    algorithm: str
    keys: list[dict[str, Any]]
    reentry_allowed: bool
    status: str
    revoked: list[dict[str, Any]]
    generated_at: str
