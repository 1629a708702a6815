"""Paying for a stay: a held booking is payable at its frozen price, its guest sees how to pay it on the Paybill;
success confirms it, cancellation refunds it."""

from beanie import PydanticObjectId
from bson import ObjectId
from pydantic import Field

from documents.booking import Booking, BookingStatus
from documents.payment import Payment, PaymentPurpose
from gateway.bookings.lifecycle import booking_for, confirm_booking
from gateway.bookings.views import BookingView
from gateway.logs import get_logger
from gateway.payments.paybill import PaybillInstructions, paybill_instructions
from gateway.payments.problems import TargetNotPayable
from gateway.payments.purposes import PayableTarget, PurposeHandler, TargetUnavailable
from gateway.payments.refunds import request_refund
from gateway.problems import NotFound, Problem
from gateway.security.callers import Caller
from gateway.services import Services

log = get_logger("lango.payments")
CANCELLED_REFUND_REASON = "Your booking was cancelled."


# Here, not in gateway.bookings.views: the bookings package comes before payments, which it may not import.
class BookingAnswer(BookingView):
    paybill: PaybillInstructions | None = Field(
        None,
        description="How the guest pays on the M-Pesa Paybill instead of the STK prompt; while the booking is held",
    )


async def booking_answer(services: Services, caller: Caller, booking: Booking) -> BookingAnswer:
    """The booking as `caller` sees it: its guest, while it is held, also sees how to pay it on the Paybill."""
    paybill = None
    if booking.status == BookingStatus.HELD and caller.user_id == booking.guest_id:
        price = booking.price
        paybill = await paybill_instructions(
            services, PaymentPurpose.BOOKING, str(booking.id), booking.guest_id, price.total_minor, price.currency
        )
    return BookingAnswer(**BookingView.of(booking).model_dump(), paybill=paybill)


class BookingPayments(PurposeHandler):
    async def payable(self, services: Services, caller: Caller, target_id: str) -> PayableTarget:
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
            payee_id=booking.agent_id,
            platform_fee_minor=booking.price.platform_fee_minor,
        )

    async def owner_of(self, target_id: str) -> str | None:
        booking = await _booking(target_id)
        return booking.guest_id if booking is not None else None

    async def still_payable(self, services: Services, payment: Payment) -> bool:
        # The bookings sweep decides when a hold has lapsed; until then a payment may still confirm it.
        booking = await _booking(payment.target_id)
        return booking is not None and booking.status == BookingStatus.HELD

    async def on_succeeded(self, services: Services, payment: Payment) -> None:
        try:
            await confirm_booking(services, payment.target_id, str(payment.id))
        except Problem as problem:
            raise TargetUnavailable(f"booking {payment.target_id} was not confirmed: {problem.detail}") from None


async def refund_cancelled_booking(services: Services, booking: Booking) -> None:
    """Called by the bookings flow after a paid booking is cancelled with a refund due."""
    payment = await Payment.get(PydanticObjectId(booking.payment_id)) if ObjectId.is_valid(booking.payment_id or "") else None
    if payment is None:
        log.warning("cancelled booking has no payment to refund", booking_id=str(booking.id), payment_id=booking.payment_id)
        return
    await request_refund(services, payment, booking.refund_due_minor or 0, CANCELLED_REFUND_REASON, f"booking-cancelled-{booking.id}")


async def _booking(booking_id: str) -> Booking | None:
    return await Booking.get(PydanticObjectId(booking_id)) if ObjectId.is_valid(booking_id) else None
