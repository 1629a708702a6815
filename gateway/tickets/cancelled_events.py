"""What a cancelled event owes its buyers: every paid order refunded, every held one closed with its payments, every
ticket revoked, every buyer told; done by a job that pages through the orders and can run twice or resume."""

from datetime import UTC, datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo.asynchronous.client_session import AsyncClientSession
from redis.exceptions import RedisError

from documents.door_pass import DoorPass
from documents.hosted_event import EventStatus, HostedEvent
from documents.payment import COLLECTED, OPEN, Payment, PaymentPurpose, PaymentStatus, RefundStatus
from documents.ticket import Ticket, TicketStatus
from documents.ticket_order import OrderStatus, TicketOrder
from gateway.database import in_transaction
from gateway.hosted_events.hosting import mark_cancelled
from gateway.jobs import JobPolicy, enqueue, every, job
from gateway.logs import get_logger
from gateway.notifications import NotificationKind, notify
from gateway.payments.reconcile import settle_from_vendor
from gateway.payments.refunds import request_refund
from gateway.payments.settle import close_payment_unpaid
from gateway.security.callers import Caller
from gateway.services import Services
from gateway.tickets.orders import release_unpaid_order
from gateway.tickets.reminders import forget_reminder

log = get_logger("lango.events")
# Orders settled per job run: each may call a vendor, so a run stays well inside the job's timeout.
ORDERS_PER_RUN = 50
# A cancellation whose job has not moved for this long is queued again (its job was lost or kept failing).
STALLED_AFTER = timedelta(minutes=5)
CANCELLED_EVENT_REFUND = "The event was cancelled, so your payment is being returned."
CANCELLED_EVENT_CLOSED = "The event was cancelled. Nothing was charged."
# What a payment of an order may have collected and is now being returned.
RETURNED = (*COLLECTED, PaymentStatus.REFUNDED)


async def cancel_event(services: Services, caller: Caller, event_id: str) -> HostedEvent:
    """The host (or an admin) cancels an event: sales and payments stop now, its doors and reminder forget it, and a
    job settles every order."""
    event = await mark_cancelled(caller, event_id)
    services.tickets.contexts.forget(str(event.id))
    await forget_reminder(services, event)
    await queue_cancellation(services, str(event.id), None)
    return event


async def queue_cancellation(services: Services, event_id: str, after_order_id: PydanticObjectId | None) -> None:
    """Queue the job for the orders after `after_order_id`; a Redis that cannot take it now leaves it to the
    minute's `resume_event_cancellations`."""
    key = f"event-cancelled:{event_id}:{after_order_id or 'start'}"
    try:
        await enqueue(services.queue, settle_cancelled_event, key=key, event_id=event_id)
    except RedisError as error:
        log.warning("event cancellation not queued: resumed within minutes", event_id=event_id, error=str(error))


@job(JobPolicy(timeout_s=300))
async def settle_cancelled_event(ctx: dict[str, Any], *, event_id: str) -> int:
    """One page of the cancelled event's orders, from where the last run stopped; then the next page is queued, or
    the cancellation marked settled when none is left. Runs twice or side by side change nothing more: each order's
    refund has one key per event and every state change is conditional."""
    services: Services = ctx["services"]
    event = await HostedEvent.get(PydanticObjectId(event_id))
    if event is None or event.status != EventStatus.CANCELLED or event.cancellation is None:
        return 0
    after = event.cancellation.after_order_id
    match: dict[str, Any] = {"event_id": event.id, **({"_id": {"$gt": after}} if after else {})}
    page = await TicketOrder.find(match).sort("_id").limit(ORDERS_PER_RUN).to_list()
    if not page:
        await HostedEvent.finish_cancellation(event.id)
        log.info("event cancellation settled", event_id=event_id)
        return 0
    for order in page:
        await settle_cancelled_order(services, event, order)
    last = PydanticObjectId(page[-1].id)
    await HostedEvent.advance_cancellation(event.id, last)
    await queue_cancellation(services, event_id, last)
    return len(page)


@every("* * * * *")
async def resume_event_cancellations(ctx: dict[str, Any]) -> int:
    """Every minute: queue again each cancellation whose job stopped moving; its key makes a live one win."""
    services: Services = ctx["services"]
    stalled = {
        "status": EventStatus.CANCELLED.value,
        "cancellation.settled_at": None,
        "cancellation.progressed_at": {"$lte": datetime.now(UTC) - STALLED_AFTER},
    }
    resumed = 0
    async for event in HostedEvent.find(stalled):
        await queue_cancellation(services, str(event.id), event.cancellation.after_order_id if event.cancellation else None)
        resumed += 1
    return resumed


async def settle_cancelled_order(services: Services, event: HostedEvent, order: TicketOrder) -> None:
    """Read after the event was cancelled, so no order can still become paid (see HostedEvent.record_sale)."""
    if order.status == OrderStatus.HELD:
        await release_unpaid_order(order)
    if order.status in (OrderStatus.HELD, OrderStatus.EXPIRED, OrderStatus.CANCELLED):
        await _close_open_payments(services, order)
    if order.status == OrderStatus.PAID:
        payment = await Payment.get(PydanticObjectId(order.payment_id)) if ObjectId.is_valid(order.payment_id or "") else None
        if payment is not None:
            await request_refund(services, payment, payment.requested_amount_minor, CANCELLED_EVENT_REFUND, f"event-cancelled-{event.id}")
    await _revoke_tickets(services, order)
    if order.status in (OrderStatus.HELD, OrderStatus.PAID):
        await _tell_buyer(services, event, order)


async def _payments_of(order: TicketOrder, statuses: tuple[PaymentStatus, ...]) -> list[Payment]:
    return await Payment.find(
        {"purpose": PaymentPurpose.TICKET_ORDER.value, "target_id": str(order.id), "status": {"$in": [s.value for s in statuses]}}
    ).to_list()


async def _close_open_payments(services: Services, order: TicketOrder) -> None:
    """A payment the payer already made is applied (and, its order being closed, refunded); one still waiting
    is closed, and should its money arrive after all, it is refunded then."""
    for payment in await _payments_of(order, OPEN):
        await settle_from_vendor(services, payment)
        current = await Payment.get(payment.id)
        if current is not None and current.status in OPEN:
            await close_payment_unpaid(services, current, PaymentStatus.CANCELLED, CANCELLED_EVENT_CLOSED)


async def _revoke_tickets(services: Services, order: TicketOrder) -> None:
    """Every valid ticket of the order revoked, its door pass with it; the version bump lists it for offline doors."""

    async def revoke(session: AsyncClientSession) -> None:
        valid = await Ticket.find({"order_id": order.id, "status": TicketStatus.VALID.value}, session=session).to_list()
        if not valid:
            return
        ids = [ticket.id for ticket in valid]
        change = {"$set": {"status": TicketStatus.REVOKED.value}, "$inc": {"secret_version": 1}}
        await Ticket.get_pymongo_collection().update_many({"_id": {"$in": ids}, "status": TicketStatus.VALID.value}, change, session=session)
        await DoorPass.get_pymongo_collection().update_many({"_id": {"$in": ids}}, change, session=session)

    await in_transaction(services, revoke)


async def _tell_buyer(services: Services, event: HostedEvent, order: TicketOrder) -> None:
    """Once per order: what was cancelled, and what comes back (every collected payment of the order is returned)."""
    returned = await _payments_of(order, RETURNED)
    by_team = any(refund.status == RefundStatus.MANUAL for payment in returned for refund in payment.refunds)
    context = {
        "event_title": event.title,
        "starts_at": event.starts_at,
        "seats": order.seats,
        "refund_due_minor": sum(payment.requested_amount_minor for payment in returned),
        "currency": order.currency,
        "refund_by_team": by_team,
        "event_url": f"{services.settings.notifications.public_app_url}/events/{event.id}",
    }
    await notify(services, order.buyer_id, NotificationKind.EVENT_CANCELLED, context,
                 dedupe_key=f"event_cancelled:{order.id}", data={"event_id": str(event.id), "order_id": str(order.id)})  # fmt: skip
