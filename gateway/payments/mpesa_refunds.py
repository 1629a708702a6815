"""Returning M-Pesa money through B2C to the phone that paid: any whole amount (partial refunds too), the refund's
own id as the OriginatorConversationID so a resend never pays twice; the Result finishes it (gateway.payments.refunds)."""

from documents.payment import Payment, PaymentRefund, RefundStatus
from gateway.logs import get_logger
from gateway.payments.views import change_refund, publish_payment_updated
from gateway.services import Services
from providers.errors import ProviderError, ProviderMisconfigured, VendorRejected
from providers.payments.mpesa import MIN_B2C_AMOUNT_KES

log = get_logger("lango.payments")
REFUND_PREFIX = "refund-"
MANUAL_MPESA_REFUND = "Our team will send this refund to the M-Pesa number that paid; you do not need to do anything."
REMARKS = "Lango refund"


def refund_originator_id(payment: Payment, refund: PaymentRefund) -> str:
    return f"{REFUND_PREFIX}{payment.id}-{refund.key}"[:100]


def refund_of(originator_id: str) -> tuple[str, str] | None:
    """(payment id, refund key) of a refund's OriginatorConversationID; None for another kind of request."""
    if not originator_id.startswith(REFUND_PREFIX):
        return None
    payment_id, _, key = originator_id.removeprefix(REFUND_PREFIX).partition("-")
    return (payment_id, key) if payment_id and key else None


async def send_mpesa_refund(services: Services, payment: Payment, refund: PaymentRefund) -> Payment:
    """Ask Daraja for the B2C payment of a recorded refund. Without an initiator here, or without the paying phone,
    the refund is left to the finance team (`manual`); an unreachable Daraja leaves it `requested` for a resend."""
    provider = services.payments.mpesa
    remaining = (payment.charged_amount_minor or payment.requested_amount_minor) - payment.refunded_minor
    amount = min(refund.amount_minor if refund.amount_minor is not None else remaining, remaining)
    # B2C pays whole shillings from 10 KES: anything else is sent by hand.
    if provider is None or payment.payer_phone is None or amount < MIN_B2C_AMOUNT_KES * 100 or amount % 100:
        return await _leave_to_finance(services, payment, refund, "no B2C route for this refund")
    try:
        acknowledgement = await provider.b2c_payment(refund_originator_id(payment, refund), payment.payer_phone, amount, REMARKS)
    except ProviderMisconfigured as error:
        return await _leave_to_finance(services, payment, refund, str(error))
    except VendorRejected as error:
        updated = await change_refund(services, payment, refund.key, RefundStatus.FAILED, note=str(error))
        await publish_payment_updated(services, updated)
        return updated
    except ProviderError as error:
        log.warning("M-Pesa refund deferred: Daraja unavailable", payment_id=str(payment.id), error=str(error))
        return payment
    updated = await change_refund(
        services, payment, refund.key, RefundStatus.PENDING, amount_minor=amount, vendor_reference=acknowledgement.conversation_id
    )
    await publish_payment_updated(services, updated)
    return updated


async def _leave_to_finance(services: Services, payment: Payment, refund: PaymentRefund, why: str) -> Payment:
    log.warning("M-Pesa refund left to the finance team", payment_id=str(payment.id), reason=why)
    updated = await change_refund(services, payment, refund.key, RefundStatus.MANUAL, note=MANUAL_MPESA_REFUND)
    await publish_payment_updated(services, updated)
    return updated
