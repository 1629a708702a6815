"""Holding tickets while the buyer pays: seats taken by conditional counters, released on expiry or cancellation."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from beanie import PydanticObjectId
from bson import ObjectId
from pydantic import Field, field_validator
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from documents.clock import stored_now
from documents.holder_gate import HolderGate
from documents.hosted_event import EventStatus, HostedEvent
from documents.ticket_order import OrderLine, OrderStateConflict, OrderStatus, TicketOrder
from documents.ticket_type import TicketType
from gateway.database import in_transaction
from gateway.hold_limits import admit_holder, enforce_cap
from gateway.idempotency import IdempotencyKeyReused, request_fingerprint
from gateway.input_types import DisplayText
from gateway.jobs import every
from gateway.ledger.commission import platform_fee_minor
from gateway.logs import get_logger
from gateway.paging import newest_first
from gateway.problems import NotFound
from gateway.request_models import RequestModel
from gateway.security.callers import Caller
from gateway.services import Services
from gateway.tickets.problems import NotOnSale, OrderNotAllowed, OrderStateProblem, SoldOut

OBJECT_ID = r"^[0-9a-f]{24}$"
SWEEP_BATCH = 500
log = get_logger("lango.tickets")


class OrderLineRequest(RequestModel):
    ticket_type_id: Annotated[str, Field(pattern=OBJECT_ID)]
    quantity: Annotated[int, Field(ge=1, le=100)]


class OrderRequest(RequestModel):
    event_id: Annotated[str, Field(pattern=OBJECT_ID)]
    lines: Annotated[list[OrderLineRequest], Field(min_length=1, max_length=10)]
    holder_name: Annotated[DisplayText, Field(min_length=1, max_length=80)]

    @field_validator("lines")
    @classmethod
    def _one_line_per_type(cls, lines: list[OrderLineRequest]) -> list[OrderLineRequest]:
        if len({line.ticket_type_id for line in lines}) != len(lines):
            raise ValueError("give each ticket type once")
        return lines


async def hold_tickets(
    services: Services, caller: Caller, request: OrderRequest, idempotency_key: str | None
) -> tuple[TicketOrder, bool]:
    """A `held` order whose tickets are taken from their types' and the event's counters, and whether it was
    created now (False: the same request was already answered under this Idempotency-Key)."""
    request_hash = request_fingerprint(request)
    if idempotency_key and (earlier := await _earlier_answer(caller, idempotency_key, request_hash)):
        return earlier, False
    event = await HostedEvent.get(PydanticObjectId(request.event_id))
    if event is None or event.status != EventStatus.PUBLISHED:
        raise NotFound("no such event on sale")
    order = await _priced_order(services, caller, event, request, idempotency_key, request_hash)
    await admit_holder(services, caller.user_id)
    cap = services.settings.tickets.max_holds_per_buyer_per_event

    async def insert_within_cap(session: AsyncClientSession) -> None:
        # The buyer's gate first, so concurrent orders of one buyer run one after the other and each counts the others.
        await HolderGate.pass_through(order.buyer_id, session)
        await order.insert(session=session)
        for_this_event = {"buyer_id": order.buyer_id, "event_id": order.event_id}
        await enforce_cap(session, TicketOrder, for_this_event, cap, "orders for this event")

    # The order is stored before its tickets are taken, so a concurrent retry under the same key finds it
    # instead of competing for the last tickets.
    try:
        await in_transaction(services, insert_within_cap)
    except DuplicateKeyError:
        earlier = await _earlier_answer(caller, idempotency_key or "", request_hash)
        if earlier is None:
            raise
        return earlier, False
    if not await _reserve(event, order):
        # Tickets of holds that lapsed but were not swept yet are free: expire such holds, then try once more.
        if not await expire_lapsed_orders(services, event_id=event.id) or not await _reserve(event, order):
            await order.delete()
            raise SoldOut("not enough tickets are left for this order")
    await order.mark_seats_taken()
    return order, True


async def _priced_order(
    services: Services,
    caller: Caller,
    event: HostedEvent,
    request: OrderRequest,
    idempotency_key: str | None,
    request_hash: str,
) -> TicketOrder:
    wanted = {PydanticObjectId(line.ticket_type_id): line.quantity for line in request.lines}
    types = await TicketType.find({"_id": {"$in": list(wanted)}, "event_id": event.id}).to_list()
    if len(types) != len(wanted):
        raise NotFound("a ticket type is not one of this event's")
    now = datetime.now(UTC)
    settings = services.settings.tickets
    if sum(wanted.values()) > settings.max_per_order:
        raise OrderNotAllowed(f"at most {settings.max_per_order} tickets per order")
    for ticket_type in types:
        if not ticket_type.on_sale(now):
            raise NotOnSale(f"{ticket_type.name} is not on sale now")
        if wanted[ticket_type.id] > ticket_type.per_order_limit:
            raise OrderNotAllowed(f"at most {ticket_type.per_order_limit} {ticket_type.name} tickets per order")
    lines = [
        OrderLine(ticket_type_id=t.id, type_name=t.name, quantity=wanted[t.id], unit_price_minor=t.price_minor)
        for t in types
    ]
    total = sum(line.quantity * line.unit_price_minor for line in lines)
    fee = platform_fee_minor(services.settings.commission.tickets, total, types[0].currency, units=sum(wanted.values()))
    return TicketOrder(
        id=PydanticObjectId(),
        buyer_id=caller.user_id,
        event_id=event.id,
        host_id=event.host_id,
        holder_name=request.holder_name,
        lines=lines,
        total_minor=total,
        currency=types[0].currency,
        platform_fee_minor=fee,
        hold_expires_at=stored_now() + timedelta(seconds=settings.hold_ttl_s),
        idempotency_key=idempotency_key,
        request_hash=request_hash if idempotency_key else None,
    )


async def _reserve(event: HostedEvent, order: TicketOrder) -> bool:
    """Take every line's tickets, then the event's seats, each in one conditional update; on any refusal the
    ones already taken are given back. Concurrent buyers can never oversell: each counter only moves when the
    database sees room for it."""
    taken: list[OrderLine] = []
    for line in order.lines:
        if not await TicketType.reserve(line.ticket_type_id, line.quantity):
            break
        taken.append(line)
    else:
        if await HostedEvent.reserve_seats(event.id, order.seats):
            return True
    for line in taken:
        await TicketType.release(line.ticket_type_id, line.quantity)
    return False


async def release_order_seats(order: TicketOrder) -> None:
    if not order.seats_taken:
        return
    for line in order.lines:
        await TicketType.release(line.ticket_type_id, line.quantity)
    await HostedEvent.release_seats(order.event_id, order.seats)


async def _earlier_answer(caller: Caller, idempotency_key: str, request_hash: str) -> TicketOrder | None:
    earlier = await TicketOrder.find_one({"buyer_id": caller.user_id, "idempotency_key": idempotency_key})
    if earlier is None:
        return None
    if earlier.request_hash != request_hash:
        raise IdempotencyKeyReused("this Idempotency-Key was sent with a different body; use a new key")
    return earlier


async def cancel_order(caller: Caller, order_id: str) -> TicketOrder:
    """The buyer gives up a held order; its tickets go back on sale at once."""
    order = await order_for(caller, order_id)
    try:
        cancelled = await order.cancel()
    except OrderStateConflict as error:
        raise OrderStateProblem(str(error), status_now=error.current) from None
    await release_order_seats(cancelled)
    return cancelled


async def release_unpaid_order(order: TicketOrder) -> TicketOrder | None:
    """held -> cancelled after its payment failed for good; None when it was paid or closed first."""
    try:
        cancelled = await order.cancel()
    except OrderStateConflict:
        return None
    await release_order_seats(cancelled)
    return cancelled


async def expire_lapsed_orders(
    services: Services, *, event_id: PydanticObjectId | None = None, now: datetime | None = None
) -> int:
    """Expire every hold whose time ran out (of one event, or all) and free its tickets; answer how many."""
    now = now or datetime.now(UTC)
    lapsed: dict[str, Any] = {"status": OrderStatus.HELD.value, "hold_expires_at": {"$lte": now}}
    if event_id is not None:
        lapsed["event_id"] = event_id
    expired = 0
    while batch := await TicketOrder.find(lapsed).limit(SWEEP_BATCH).to_list():
        for order in batch:
            try:
                await order.expire(now)
            except OrderStateConflict:
                continue
            await release_order_seats(order)
            expired += 1
    return expired


@every("* * * * *")
async def sweep_lapsed_ticket_holds(ctx: dict[str, Any]) -> int:
    """Every minute: put back on sale the tickets of holds whose payment never came."""
    expired = await expire_lapsed_orders(ctx["services"])
    if expired:
        log.info("lapsed ticket holds expired", count=expired)
    return expired


async def order_for(caller: Caller, order_id: str) -> TicketOrder:
    """An order its buyer, the event's host or an admin may see; 404 for anyone else."""
    order = await TicketOrder.get(PydanticObjectId(order_id)) if ObjectId.is_valid(order_id) else None
    if order is None or not (caller.is_admin or caller.user_id in (order.buyer_id, order.host_id)):
        raise NotFound("no such ticket order")
    return order


async def list_orders(caller: Caller, after: str | None, limit: int) -> tuple[list[TicketOrder], str | None]:
    return await newest_first(TicketOrder, {"buyer_id": caller.user_id}, after, limit)
