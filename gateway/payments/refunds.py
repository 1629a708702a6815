"""Returning money: a refund is recorded on the payment first, then asked of the vendor (M-Pesa ones through B2C to
the paying phone), never more than what is left of what was collected. Each record posts to the ledger in its own
transaction: the refund falling due, then the refund sent."""

from beanie import PydanticObjectId
from pymongo.asynchronous.client_session import AsyncClientSession

from documents.payment import Payment, PaymentRefund, PaymentStateConflict, RefundStatus
from gateway.database import in_transaction
from gateway.ledger.payment_entries import owed_for_refunded, post_refund_due, post_refund_sent
from gateway.logs import get_logger
from gateway.payments.mpesa_refunds import refund_of, send_mpesa_refund
from gateway.payments.purposes import purpose_handler
from gateway.payments.views import change_refund, publish_payment_updated
from gateway.services import Services
from gateway.vendors.payments import PaymentVendors
from providers.errors import ProviderError, VendorRejected, VendorUnavailable
from providers.payments import PaymentOutcome
from providers.payments.mpesa_results import (
    DUPLICATE_REQUEST,
    TRANSACTION_COMPLETED,
    TRANSACTION_NOT_MADE,
    InitiatorResult,
)
from providers.payments.outcomes import PARTIALLY_REFUNDED, REFUNDED

log = get_logger("lango.payments")


def charged_share(payment: Payment, requested_minor: int) -> int | None:
    """The part of the charged amount that returns `requested_minor` of the requested one; None for all that is left.

    Rounded down, so a converted partial refund never returns more than its share."""
    if requested_minor >= payment.requested_amount_minor or payment.charged_amount_minor is None:
        return None
    if payment.charged_currency == payment.requested_currency:
        return requested_minor
    return payment.charged_amount_minor * requested_minor // payment.requested_amount_minor


async def request_refund(services: Services, payment: Payment, requested_minor: int, reason: str, key: str) -> Payment:
    """Return `requested_minor` (requested currency) of a collected payment, once per `key` whatever the retries, and
    never more than is left of it: what earlier refunds took is not returned twice."""

    async def record(session: AsyncClientSession) -> tuple[Payment, PaymentRefund] | None:
        current = await Payment.get(payment.id, session=session)
        if current is None:
            return None
        amount = min(requested_minor, current.refundable_minor())
        refund = PaymentRefund(key=key, requested_minor=amount, amount_minor=charged_share(current, amount), reason=reason)
        recorded = await current.add_refund(refund, session)
        if recorded is None:
            return None
        await post_refund_due(session, recorded, current.refunds_owed_minor, recorded.refunds_owed_minor, f"refund:{key}", reason)
        return recorded, refund

    outcome = await in_transaction(services, record)
    if outcome is None:
        log.info("refund already recorded, nothing left or payment not collected", payment_id=str(payment.id), key=key)
        return await Payment.get(payment.id) or payment
    return await send_refund(services, *outcome)


async def send_refund(services: Services, payment: Payment, refund: PaymentRefund) -> Payment:
    """Ask the vendor for a recorded refund; a vendor that cannot be reached leaves it `requested` for the next retry."""
    if payment.provider == "mpesa":
        return await send_mpesa_refund(services, payment, refund)
    vendors: PaymentVendors = services.payments
    provider = vendors.providers.get(payment.provider)
    if provider is None or payment.provider_reference is None:
        log.error("refund cannot be sent: no adapter or reference", payment_id=str(payment.id), provider=payment.provider)
        return payment
    try:
        result = await provider.refund(payment.provider_reference, refund.amount_minor, f"refund-{payment.id}-{refund.key}")
    except VendorRejected as error:
        log.warning("refund not taken by the vendor", payment_id=str(payment.id), provider=payment.provider, error=str(error))
        updated = await change_refund(services, payment, refund.key, RefundStatus.FAILED, note=str(error))
        await publish_payment_updated(services, updated)
        return updated
    except VendorUnavailable as error:
        log.warning("refund deferred: vendor unavailable", payment_id=str(payment.id), error=str(error))
        return payment
    except ProviderError as error:
        log.error("refund failed: adapter misconfigured", payment_id=str(payment.id), error=str(error))
        return payment
    if result.outcome not in (PaymentOutcome.REFUNDED, PaymentOutcome.PARTIALLY_REFUNDED):
        status = RefundStatus.PENDING if result.outcome is PaymentOutcome.PENDING else RefundStatus.FAILED
        return await change_refund(services, payment, refund.key, status, vendor_reference=result.refund_reference)
    fully = result.outcome is PaymentOutcome.REFUNDED
    return await _refund_succeeded(services, payment, refund.key, result.refund_reference, result.amount_minor, fully=fully)


async def _refund_succeeded(
    services: Services, payment: Payment, key: str, vendor_reference: str | None, amount_minor: int | None, *, fully: bool
) -> Payment:
    """The vendor returned the money of refund `key`: recorded once, and the payment's refunded total with it."""
    updated = await change_refund(services, payment, key, RefundStatus.SUCCEEDED, vendor_reference=vendor_reference, amount_minor=amount_minor)
    # A full refund may come back without an amount ("all that was left"): then the whole charge is refunded.
    refunded_total = (
        updated.charged_amount_minor or updated.requested_amount_minor
        if fully
        else sum(entry.amount_minor or 0 for entry in updated.refunds if entry.status == RefundStatus.SUCCEEDED)
    )
    reason = (REFUNDED if fully else PARTIALLY_REFUNDED).reason
    return await record_vendor_refund(services, updated, refunded_total, fully, reason) or updated


async def record_vendor_refund(
    services: Services, payment: Payment, refunded_total_minor: int, fully: bool, reason: str
) -> Payment | None:
    """The vendor says this much is refunded in all; None when that was known already. A refund made at the vendor
    that was never asked here falls due and is sent in the same transaction."""

    async def record(session: AsyncClientSession) -> Payment:
        current = await Payment.get(payment.id, session=session)
        if current is None:
            raise PaymentStateConflict(payment.id, payment.status, None)
        updated = await current.record_refunded(refunded_total_minor, fully, reason, session)
        owed = owed_for_refunded(updated, updated.refunded_minor)
        if owed > current.refunds_owed_minor:
            await current.owe_refunded(owed, session)
            memo = f"refunded at {current.provider} without a request here"
            await post_refund_due(session, updated, current.refunds_owed_minor, owed, f"vendor-refund-to:{updated.refunded_minor}", memo)
        await post_refund_sent(session, updated, current.refunded_minor)
        return updated

    try:
        updated = await in_transaction(services, record)
    except PaymentStateConflict:
        return None
    await publish_payment_updated(services, updated)
    await purpose_handler(services, updated.purpose).on_refunded(services, updated)
    return updated


async def _refund_payment(originator_id: str) -> tuple[Payment, PaymentRefund] | None:
    """The payment and refund a refund's OriginatorConversationID names, read now; None for no known refund."""
    named = refund_of(originator_id)
    payment = await Payment.get(PydanticObjectId(named[0])) if named and PydanticObjectId.is_valid(named[0]) else None
    refund = next((entry for entry in payment.refunds if entry.key == named[1]), None) if payment and named else None
    return (payment, refund) if payment is not None and refund is not None else None


async def apply_mpesa_refund_result(services: Services, result: InitiatorResult) -> Payment | None:
    """Daraja's B2C Result for a refund: succeeded once whatever the repeats, or failed; a timeout leaves it pending
    for the Transaction Status query (gateway.payments.mpesa_status_queries) to settle."""
    found = await _refund_payment(result.originator_conversation_id)
    if found is None:
        log.warning("B2C Result for no known refund", originator_id=result.originator_conversation_id)
        return None
    payment, refund = found
    if result.timed_out or result.result_code == DUPLICATE_REQUEST:
        log.warning("M-Pesa refund outcome unknown", payment_id=str(payment.id), key=refund.key, code=result.result_code)
        return payment
    if not result.succeeded:
        return await _mpesa_refund_failed(services, payment, refund, result.result_desc)
    return await _mpesa_refund_sent(services, payment, refund, result.receipt or result.transaction_id, result.amount_minor)


async def apply_mpesa_refund_status(services: Services, result: InitiatorResult) -> Payment | None:
    """A Transaction Status Result about a refund (named by its OriginatorConversationID): Completed sends it,
    a status that moved nothing fails it, anything else leaves it pending to be asked again."""
    found = await _refund_payment(result.queried_originator_conversation_id or "")
    if found is None:
        log.info("transaction status Result for no known refund", queried=result.queried_originator_conversation_id)
        return None
    payment, refund = found
    if result.succeeded and result.transaction_status == TRANSACTION_COMPLETED:
        return await _mpesa_refund_sent(services, payment, refund, result.receipt, result.amount_minor)
    if result.succeeded and result.transaction_status in TRANSACTION_NOT_MADE:
        return await _mpesa_refund_failed(services, payment, refund, f"M-Pesa: {result.transaction_status}")
    log.warning("M-Pesa refund not settled by the status query", payment_id=str(payment.id), key=refund.key,
                code=result.result_code, status=result.transaction_status)  # fmt: skip
    return payment


async def _mpesa_refund_sent(
    services: Services, payment: Payment, refund: PaymentRefund, receipt: str | None, amount_minor: int | None
) -> Payment:
    """The B2C payment of the refund reached the payer: recorded once, whichever of its Results and status Results
    come, in whatever order: one that finds it succeeded already changes nothing."""
    if refund.status == RefundStatus.SUCCEEDED:
        return payment
    collected = payment.charged_amount_minor or payment.requested_amount_minor
    refunded_after = payment.refunded_minor + (amount_minor or 0)
    return await _refund_succeeded(services, payment, refund.key, receipt, amount_minor, fully=refunded_after >= collected)


async def _mpesa_refund_failed(services: Services, payment: Payment, refund: PaymentRefund, note: str) -> Payment:
    """M-Pesa moved nothing: the refund failed, its amount stays owed in refunds payable for the finance team."""
    updated = await change_refund(services, payment, refund.key, RefundStatus.FAILED, note=note)
    await publish_payment_updated(services, updated)
    return updated


async def retry_requested_refunds(services: Services, limit: int) -> int:
    """Send again the refunds left `requested` (vendor unreachable, or the process stopped before asking)."""
    sent = 0
    async for payment in Payment.find({"refunds.status": RefundStatus.REQUESTED.value}).limit(limit):
        for refund in payment.refunds:
            if refund.status == RefundStatus.REQUESTED:
                payment = await send_refund(services, payment, refund)
                sent += 1
    return sent
