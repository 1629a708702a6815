"""Applying what a vendor says about a payment: stored once (the deduplication), then one forward move and its effects."""

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from documents.payment import CLOSED_UNPAID, OPEN, Payment, PaymentStateConflict, PaymentStatus, ReceiptAlreadyUsed
from documents.payment_event import PaymentEvent
from gateway.database import in_transaction
from gateway.jobs import enqueue
from gateway.ledger.payment_entries import post_collection
from gateway.logs import get_logger
from gateway.payments.problems import PaymentProviderUnavailable, PaymentStateProblem
from gateway.payments.purposes import TargetUnavailable, purpose_handler
from gateway.payments.receipts import send_payment_receipt
from gateway.payments.refunds import record_vendor_refund, request_refund
from gateway.payments.views import publish_payment_updated
from gateway.services import Services
from providers.errors import ProviderError, VendorRejected
from providers.payments import NormalizedPaymentEvent, PaymentOutcome, PaypalProvider

log = get_logger("lango.payments")
UNPAID_OUTCOMES = {
    PaymentOutcome.FAILED: PaymentStatus.FAILED,
    PaymentOutcome.CANCELLED: PaymentStatus.CANCELLED,
    PaymentOutcome.EXPIRED: PaymentStatus.EXPIRED,
}
TARGET_GONE_REFUND = "The booking or order could no longer be completed, so your payment is being returned."


async def record_vendor_event(event: NormalizedPaymentEvent, source: str) -> tuple[PaymentEvent, bool]:
    """Append the statement to the log: (it, True) when new, (the one stored before, False) for a repeat."""
    stored = PaymentEvent(
        provider=event.provider,
        dedupe_key=event.dedupe_key,
        source=source,
        reference=event.reference,
        outcome=event.outcome.value,
        reason=event.reason,
        amount_minor=event.amount_minor,
        currency=event.currency,
        receipt=event.receipt,
        vendor_code=event.vendor_code,
        merchant_reference=event.merchant_reference,
        awaiting_capture=event.awaiting_capture,
        payer_phone=event.payer_phone,
        unsigned=event.unsigned,
        doubt=event.doubt,
        occurred_at=event.occurred_at,
        raw=event.raw,
    )
    try:
        await stored.insert()
    except DuplicateKeyError:
        earlier = await PaymentEvent.find_one({"provider": event.provider, "dedupe_key": event.dedupe_key})
        return (earlier or stored), False
    return stored, True


async def apply_vendor_event(services: Services, event: NormalizedPaymentEvent, source: str) -> Payment | None:
    """Store and apply one statement; a repeat of one already applied changes nothing."""
    stored, new = await record_vendor_event(event, source)
    if not new and stored.applied_at is not None:
        return None
    return await apply_recorded_event(services, stored)


async def apply_recorded_event(services: Services, stored: PaymentEvent) -> Payment | None:
    """Apply a stored statement to its payment; one for a payment not known (yet) stays unapplied for a later retry."""
    payment = await _payment_for(stored)
    if payment is None:
        log.warning("vendor statement for an unknown payment", provider=stored.provider, reference=stored.reference)
        return None
    result = await _apply(services, payment, stored)
    await stored.mark_applied(payment.id, result)
    log.info("vendor statement applied", payment_id=str(payment.id), outcome=stored.outcome, result=result, source=stored.source)
    return await Payment.get(payment.id)


async def _payment_for(stored: PaymentEvent) -> Payment | None:
    payment = await Payment.find_one({"provider": stored.provider, "provider_reference": stored.reference})
    if payment is None and stored.merchant_reference and ObjectId.is_valid(stored.merchant_reference):
        payment = await Payment.find_one({"_id": PydanticObjectId(stored.merchant_reference), "provider": stored.provider})
    return payment


async def _apply(services: Services, payment: Payment, stored: PaymentEvent) -> str:
    outcome = PaymentOutcome(stored.outcome)
    if outcome is PaymentOutcome.SUCCEEDED:
        return await _settle_success(services, payment, stored)
    if outcome in UNPAID_OUTCOMES:
        closed = await close_payment_unpaid(services, payment, UNPAID_OUTCOMES[outcome], stored.reason)
        return closed.status.value if closed else "already_settled"
    if outcome in (PaymentOutcome.REFUNDED, PaymentOutcome.PARTIALLY_REFUNDED):
        if stored.amount_minor is None:
            return "refund_without_amount"
        fully = outcome is PaymentOutcome.REFUNDED
        recorded = await record_vendor_refund(services, payment, stored.amount_minor, fully, stored.reason)
        return outcome.value if recorded else "refund_already_known"
    if outcome is PaymentOutcome.PENDING and stored.awaiting_capture and payment.status in OPEN:
        await capture_payment(services, payment)
        return "captured"
    if outcome is PaymentOutcome.UNKNOWN:
        log.warning("vendor statement with an unmapped outcome", payment_id=str(payment.id), vendor_code=stored.vendor_code)
    return "no_change"


def _amount_mismatch(payment: Payment, stored: PaymentEvent) -> str | None:
    if stored.amount_minor is None:
        # A status query names no amount: it comes from the vendor's API. An unsigned callback without a usable
        # amount carries a doubt instead, and is checked with that API.
        return None
    if stored.amount_minor != payment.charged_amount_minor or (stored.currency and stored.currency != payment.charged_currency):
        return (
            f"vendor reports {stored.amount_minor} {stored.currency}, "
            f"payment expects {payment.charged_amount_minor} {payment.charged_currency}"
        )
    return None


async def _settle_success(services: Services, payment: Payment, stored: PaymentEvent) -> str:
    if payment.status not in OPEN + CLOSED_UNPAID:
        return "already_settled"
    mismatch = _amount_mismatch(payment, stored)
    if mismatch:
        await payment.flag("amount_mismatch", mismatch)
        log.error("payment amount mismatch: not settled", payment_id=str(payment.id), detail=mismatch, event_id=str(stored.id))
        return "flagged_amount_mismatch"
    doubt = await _doubt(payment, stored)
    if doubt:
        return await _settle_if_vendor_confirms(services, payment, doubt)
    if payment.status in CLOSED_UNPAID:
        # Collected after we closed it (a hold lapsed, an event was cancelled): the purpose fulfils or refunds it.
        log.warning("money collected for a closed payment", payment_id=str(payment.id), status=payment.status)

    async def collect(session: AsyncClientSession) -> Payment:
        settled = await payment.succeed(stored.receipt, stored.reason, session)
        await post_collection(session, settled)
        return settled

    try:
        settled = await in_transaction(services, collect)
    except PaymentStateConflict:
        return "already_settled"
    except ReceiptAlreadyUsed:
        return await _settle_if_vendor_confirms(services, payment, "receipt_reused")
    await publish_payment_updated(services, settled)
    await enqueue(services.queue, send_payment_receipt, key=f"payment-receipt:{settled.id}", payment_id=str(settled.id))
    try:
        await purpose_handler(services, settled.purpose).on_succeeded(services, settled)
    except TargetUnavailable as error:
        await settled.flag("target_unavailable", str(error))
        log.warning("paid target no longer available: refunding", payment_id=str(settled.id), error=str(error))
        await request_refund(services, settled, settled.requested_amount_minor, TARGET_GONE_REFUND, "target-unavailable")
    return "succeeded"


async def _doubt(payment: Payment, stored: PaymentEvent) -> str | None:
    """Why this success statement cannot settle the payment on its own word, if it cannot."""
    if stored.doubt:
        return stored.doubt
    if stored.unsigned and payment.payer_phone and stored.payer_phone != payment.payer_phone:
        return "phone_mismatch"
    if stored.receipt and await Payment.find_one(
        {"provider": payment.provider, "receipt": stored.receipt, "_id": {"$ne": payment.id}}
    ):
        return "receipt_reused"
    return None


async def _settle_if_vendor_confirms(services: Services, payment: Payment, doubt: str) -> str:
    """Ask the vendor's API (Daraja's STK query) where the payment stands and apply that answer instead; a vendor
    that cannot answer now leaves the payment open for the reconciliation job to ask again."""
    log.warning("vendor statement doubted: asking the vendor", payment_id=str(payment.id), doubt=doubt)
    provider = services.payments.providers.get(payment.provider)
    if provider is None or payment.provider_reference is None:
        return f"doubted_{doubt}"
    try:
        answer = await provider.query_status(payment.provider_reference)
    except ProviderError as error:
        log.warning("status query for a doubted statement failed", payment_id=str(payment.id), error=str(error))
        return f"doubted_{doubt}"
    await apply_vendor_event(services, answer, "status_query")
    return f"doubted_{doubt}_vendor_says_{answer.outcome.value}"


async def close_payment_unpaid(services: Services, payment: Payment, outcome: PaymentStatus, reason: str) -> Payment | None:
    """created or pending -> failed, cancelled or expired, published and told to its purpose; None when already settled."""
    if payment.status not in OPEN:
        return None
    try:
        closed = await payment.close_unpaid(outcome, reason)
    except PaymentStateConflict:
        return None
    await publish_payment_updated(services, closed)
    await purpose_handler(services, closed.purpose).on_closed_unpaid(services, closed)
    return closed


async def capture_payment(services: Services, payment: Payment) -> Payment:
    """Collect a PayPal order the payer approved; capturing twice answers the capture already made."""
    provider = services.payments.providers.get(payment.provider)
    if not isinstance(provider, PaypalProvider) or payment.provider_reference is None:
        raise PaymentStateProblem("only an initiated PayPal payment is captured")
    if payment.status not in OPEN:
        return payment
    try:
        event = await provider.capture(payment.provider_reference, f"capture-{payment.id}")
    except VendorRejected as error:
        raise PaymentStateProblem(f"PayPal did not capture the order: {error.reason or error}") from None
    except ProviderError as error:
        log.warning("PayPal capture failed", payment_id=str(payment.id), error=str(error))
        raise PaymentProviderUnavailable("PayPal could not be reached; try again in a moment") from None
    return await apply_vendor_event(services, event, "capture") or await Payment.get(payment.id) or payment
