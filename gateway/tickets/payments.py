"""Ticket orders as a payment purpose: what the buyer owes, and what a succeeded, lapsed or refunded payment does."""

from datetime import UTC, datetime

from beanie import PydanticObjectId
from pymongo.asynchronous.client_session import AsyncClientSession

from documents.door_pass import DoorPass
from documents.hosted_event import EventStatus, HostedEvent
from documents.payment import Payment, PaymentStatus
from documents.ticket import Ticket
from documents.ticket_order import OrderStateConflict, OrderStatus, TicketOrder
from gateway.database import in_transaction
from gateway.payments.purposes import PayableTarget, PurposeHandler, TargetUnavailable
from gateway.security.callers import Caller
from gateway.services import Services
from gateway.tickets.issuing import ticket_order_paid
from gateway.tickets.orders import order_for, release_order_seats, release_unpaid_order
from gateway.tickets.problems import OrderStateProblem


class TicketOrderPayments(PurposeHandler):
    async def payable(self, services: Services, caller: Caller, target_id: str) -> PayableTarget:
        order = await order_for(caller, target_id)
        if order.buyer_id != caller.user_id:
            raise OrderStateProblem("only the buyer pays for a ticket order")
        if order.status != OrderStatus.HELD or order.hold_expires_at <= datetime.now(UTC):
            raise OrderStateProblem("this ticket order is no longer waiting for payment", status_now=order.status)
        event = await HostedEvent.get(order.event_id)
        # Its held orders are closed by the cancellation job a moment later; until then the event itself says no.
        if event is None or event.status != EventStatus.PUBLISHED:
            raise OrderStateProblem("the event was cancelled: this order cannot be paid", status_now=order.status)
        return PayableTarget(
            order.buyer_id, order.total_minor, order.currency, f"{order.seats} tickets: {event.title}", order.host_id, order.platform_fee_minor
        )

    async def owner_of(self, target_id: str) -> str | None:
        order = await TicketOrder.get(PydanticObjectId(target_id)) if PydanticObjectId.is_valid(target_id) else None
        return order.buyer_id if order is not None else None

    async def still_payable(self, services: Services, payment: Payment) -> bool:
        order = await TicketOrder.get(PydanticObjectId(payment.target_id))
        if order is None or order.status != OrderStatus.HELD or order.hold_expires_at <= datetime.now(UTC):
            return False
        event = await HostedEvent.get(order.event_id)
        return event is not None and event.status == EventStatus.PUBLISHED

    async def on_succeeded(self, services: Services, payment: Payment) -> None:
        try:
            await ticket_order_paid(services, payment.target_id, str(payment.id))
        except OrderStateProblem as error:
            raise TargetUnavailable(str(error)) from None

    async def on_closed_unpaid(self, services: Services, payment: Payment) -> None:
        # A declined card leaves the hold for another try until it lapses; a payment that expired means the
        # buyer walked away, so the tickets go back on sale now.
        if payment.status == PaymentStatus.EXPIRED:
            order = await TicketOrder.get(PydanticObjectId(payment.target_id))
            if order is not None:
                await release_unpaid_order(order)

    async def on_refunded(self, services: Services, payment: Payment) -> None:
        if payment.status != PaymentStatus.REFUNDED:
            return
        order = await TicketOrder.get(PydanticObjectId(payment.target_id))
        if order is None:
            return
        try:
            refunded = await order.refund()
        except OrderStateConflict:
            return

        async def unpay(session: AsyncClientSession) -> None:
            tickets = await Ticket.find({"order_id": refunded.id}, session=session).to_list()
            await Ticket.get_pymongo_collection().update_many({"order_id": refunded.id}, {"$set": {"paid": False}},
                                                              session=session)  # fmt: skip
            # A ticket without a pass yet gets one from the ticket at its first scan, already unpaid.
            await DoorPass.get_pymongo_collection().update_many(
                {"_id": {"$in": [ticket.id for ticket in tickets]}}, {"$set": {"paid": False}}, session=session
            )

        await in_transaction(services, unpay)
        await release_order_seats(refunded)

