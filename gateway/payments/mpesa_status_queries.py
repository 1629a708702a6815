"""M-Pesa money sent back whose Result is late, timed out or never comes — B2C refunds and Paybill reversals — asked
of Daraja's Transaction Status; its Result settles them (gateway.payments.refunds, gateway.payments.paybill_admin)."""

from datetime import datetime, timedelta

from documents.paybill import PaybillPayment, PaybillStatus
from documents.payment import Payment, PaymentRefund, RefundStatus
from gateway.logs import get_logger
from gateway.payments.mpesa_refunds import refund_originator_id
from gateway.services import Services
from providers.errors import ProviderError, VendorRejected
from providers.payments.mpesa import MpesaProvider

log = get_logger("lango.payments")


async def ask_about_mpesa_money_sent_back(services: Services, now: datetime, limit: int) -> int:
    """One status query per refund and reversal waiting longer than payments.initiator_status_after_s; each is asked
    again only after another such wait. Answers how many were asked."""
    provider = services.payments.mpesa
    if provider is None:
        return 0
    cutoff = now - timedelta(seconds=services.settings.payments.initiator_status_after_s)
    asked = 0
    waiting = {
        "provider": "mpesa",
        "refunds": {"$elemMatch": {"status": RefundStatus.PENDING.value, "updated_at": {"$lte": cutoff}}},
    }
    async for payment in Payment.find(waiting).limit(limit):
        for refund in payment.refunds:
            if refund.status == RefundStatus.PENDING and refund.updated_at <= cutoff:
                asked += await _ask_about_refund(provider, payment, refund, now)
    returning = {"status": PaybillStatus.REFUNDING.value, "updated_at": {"$lte": cutoff}}
    async for received in PaybillPayment.find(returning).limit(limit):
        asked += await _ask_about_reversal(provider, received)
    return asked


async def _ask_about_refund(provider: MpesaProvider, payment: Payment, refund: PaymentRefund, now: datetime) -> int:
    # The clock restarts before asking: a Result arriving meanwhile is never undone by it.
    await payment.note_refund_query(refund.key, now)
    try:
        await provider.transaction_status(originator_conversation_id=refund_originator_id(payment, refund))
    except VendorRejected:
        # Not on M-Pesa's record (yet): the refund stays pending and owed. It is never sent again on that alone, for
        # a B2C request M-Pesa processes late would then pay the payer twice.
        log.warning("M-Pesa has no record of a refund yet", payment_id=str(payment.id), key=refund.key)
        return 1
    except ProviderError as error:
        log.warning("refund status query failed", payment_id=str(payment.id), error=str(error))
        return 0
    return 1


async def _ask_about_reversal(provider: MpesaProvider, received: PaybillPayment) -> int:
    if await received.note_status_query() is None:
        return 0
    try:
        # The original payment's status says whether it was reversed: the reversal has no id of ours to ask by.
        await provider.transaction_status(receipt=received.trans_id, collected=True)
    except ProviderError as error:
        log.warning("reversal status query failed", paybill_id=str(received.id), error=str(error))
        return 0
    return 1
