"""Paying for a stay: a held booking is payable at its frozen price; success confirms it, cancellation refunds it."""

from aiohttp import web
from beanie import PydanticObjectId
from bson import ObjectId

from documents.booking import Booking, BookingStatus
from documents.payment import Payment, PaymentPurpose
from gateway.bookings.lifecycle import REFUND_REQUESTERS, booking_for, confirm_booking
from gateway.logs import get_logger
from gateway.payments.problems import TargetNotPayable
from gateway.payments.purposes import PayableTarget, PurposeHandler, TargetUnavailable, register_purpose
from gateway.payments.refunds import request_refund
from gateway.problems import NotFound, Problem
from gateway.security.access import Caller

log = get_logger("lango.payments")
CANCELLED_REFUND_REASON = "Your booking was cancelled."


class BookingPayments(PurposeHandler):
    async def payable(self, app: web.Application, caller: Caller, target_id: str) -> PayableTarget:
        booking = await booking_for(caller, target_id)
        if booking.guest_id != caller.user_id:
            raise NotFound("no such booking")
        if booking.status != BookingStatus.HELD:
            raise TargetNotPayable(f"the booking is {booking.status}, not held")
        nights = booking.price.nights
        return PayableTarget(
            owner_id=booking.guest_id,
            amount_minor=booking.price.total_minor,
            currency=booking.price.currency,
            description=f"Lango stay, {nights} night{'s' if nights != 1 else ''}",
        )

    async def still_payable(self, app: web.Application, payment: Payment) -> bool:
        # The bookings sweep decides when a hold has lapsed; until then a payment may still confirm it.
        booking = await _booking(payment.target_id)
        return booking is not None and booking.status == BookingStatus.HELD

    async def on_succeeded(self, app: web.Application, payment: Payment) -> None:
        try:
            await confirm_booking(app, payment.target_id, str(payment.id))
        except Problem as problem:
            raise TargetUnavailable(f"booking {payment.target_id} was not confirmed: {problem.detail}") from None


async def refund_cancelled_booking(app: web.Application, booking: Booking) -> None:
    """Called by the bookings flow after a paid booking is cancelled with a refund due."""
    payment = await Payment.get(PydanticObjectId(booking.payment_id)) if ObjectId.is_valid(booking.payment_id or "") else None
    if payment is None:
        log.warning("cancelled booking has no payment to refund", booking_id=str(booking.id), payment_id=booking.payment_id)
        return
    await request_refund(app, payment, booking.refund_due_minor or 0, CANCELLED_REFUND_REASON, f"booking-cancelled-{booking.id}")


async def _booking(booking_id: str) -> Booking | None:
    return await Booking.get(PydanticObjectId(booking_id)) if ObjectId.is_valid(booking_id) else None


def install_booking_payments() -> None:
    """Make bookings payable and refundable; safe to call once per application."""
    register_purpose(PaymentPurpose.BOOKING, BookingPayments())
    if refund_cancelled_booking not in REFUND_REQUESTERS:
        REFUND_REQUESTERS.append(refund_cancelled_booking)
