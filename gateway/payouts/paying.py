"""Sending payouts over M-Pesa B2C: one open payout per person, its id as the OriginatorConversationID, so a payout
sent again after a lost acknowledgement is one Daraja recognises rather than a second payment."""

from datetime import datetime, timedelta

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from documents.payout import Payout, PayoutStateConflict, PayoutStatus
from documents.payout_destination import PayoutDestination
from gateway.database import in_transaction
from gateway.jobs import enqueue
from gateway.ledger.payout_entries import post_payout_paid, post_payout_reserved, post_payout_returned
from gateway.logs import get_logger
from gateway.payouts.earnings import payable_minor
from gateway.payouts.views import publish_payout_updated, send_payout_notice
from gateway.services import Services
from providers.errors import ProviderError, ProviderMisconfigured, VendorRejected
from providers.payments.mpesa import MAX_B2C_AMOUNT_KES
from providers.payouts import MpesaPayouts, PayoutProvider, PayoutRequest

log = get_logger("lango.payouts")
_KES = 100
REMARKS = "Lango payout"


async def start_payout(services: Services, user_id: str, now: datetime) -> Payout | None:
    """Pay the person what is payable now, if anything and if their payout phone is settled in; None otherwise, or
    when a payout of theirs is still open."""
    settings = services.settings.payouts
    destination = await PayoutDestination.of(user_id)
    if destination is None or destination.confirmed_at > now - timedelta(seconds=settings.new_destination_hold_s):
        return None

    async def reserve(session: AsyncClientSession) -> Payout | None:
        # Read, saved and reserved in one transaction: a refund or another payout moving the host's balance
        # meanwhile conflicts with the reservation, and this is run again on what it left.
        payable = await payable_minor(user_id, now, timedelta(seconds=settings.holdback_s), session)
        # M-Pesa pays whole shillings, at most MAX_B2C_AMOUNT_KES at once: the rest waits for the next payout.
        amount = min(payable - payable % _KES, MAX_B2C_AMOUNT_KES * _KES)
        if amount < settings.min_amount_minor:
            return None
        payout = Payout(user_id=user_id, amount_minor=amount, phone=destination.phone, open_key=user_id)
        await payout.insert(session=session)
        await post_payout_reserved(session, payout)
        return payout

    try:
        payout = await in_transaction(services, reserve)
    except DuplicateKeyError:
        return None
    if payout is None:
        return None
    log.info("payout started", payout_id=str(payout.id), user_id=user_id, amount_minor=payout.amount_minor)
    await publish_payout_updated(services, payout)
    return await send_payout(services, payout)


def payout_provider(services: Services, method: str) -> PayoutProvider | None:
    """The adapter that pays out by `method`; None when it is not configured here."""
    mpesa = services.payments.mpesa
    return MpesaPayouts(mpesa) if method == "mpesa" and mpesa is not None else None


async def send_payout(services: Services, payout: Payout) -> Payout:
    """Ask the vendor (Daraja B2C) to pay a pending payout; an unreachable vendor leaves it pending for a resend."""
    provider = payout_provider(services, payout.method)
    if provider is None:
        log.error("payout not sent: its method is not configured", payout_id=str(payout.id), method=payout.method)
        return payout
    try:
        counted = await payout.count_send()
    except PayoutStateConflict:
        return await Payout.by_id(str(payout.id)) or payout
    try:
        request = PayoutRequest(payout_id=str(counted.id), destination=counted.phone, amount_minor=counted.amount_minor,
                                currency=counted.currency, remarks=REMARKS)  # fmt: skip
        vendor_reference = await provider.send(request)
    except VendorRejected as error:
        return await fail_payout(services, counted, None, f"The payment was refused: {error}", services.clock())
    except ProviderMisconfigured as error:
        log.error("payout not sent: fix the payout settings", payout_id=str(counted.id), error=str(error))
        return counted
    except ProviderError as error:
        # Daraja may or may not have taken it: sent again later with the same id, which Daraja will not pay twice.
        log.warning("payout not acknowledged by Daraja", payout_id=str(counted.id), error=str(error))
        return counted
    try:
        sent = await counted.mark_sent(vendor_reference)
    except PayoutStateConflict:
        # Its Result came before the acknowledgement: what it said stands.
        return await Payout.by_id(str(counted.id)) or counted
    await publish_payout_updated(services, sent)
    return sent


async def pay_payout(
    services: Services, payout: Payout, receipt: str | None, receiver: str | None, amount_minor: int | None
) -> Payout | None:
    """The money reached the phone: paid and posted to the ledger in one transaction, once, whatever else arrives
    later; None when it was settled already."""
    reason = "Sent to your M-Pesa."
    if amount_minor is not None and amount_minor != payout.amount_minor:
        log.error("payout paid another amount", payout_id=str(payout.id), expected=payout.amount_minor, paid=amount_minor)
        reason = f"M-Pesa reports {amount_minor} paid, not {payout.amount_minor}."

    async def settle(session: AsyncClientSession) -> Payout:
        paid = await payout.mark_paid(receipt, receiver, reason, services.clock(), session)
        await post_payout_paid(session, paid)
        return paid

    try:
        paid = await in_transaction(services, settle)
    except PayoutStateConflict:
        current = await Payout.by_id(str(payout.id))
        if current is not None and current.status == PayoutStatus.FAILED:
            # Failed on M-Pesa's word, then paid after all: M-Pesa contradicted itself. A person must look.
            log.error("payout paid after it was failed", payout_id=str(payout.id), receipt=receipt)
        return None
    log.info("payout paid", payout_id=str(paid.id), receipt=receipt)
    await publish_payout_updated(services, paid)
    await enqueue(services.queue, send_payout_notice, key=f"payout-notice:{paid.id}", payout_id=str(paid.id))
    return paid


async def fail_payout(services: Services, payout: Payout, result_code: str | None, reason: str, now: datetime) -> Payout:
    """No money moved: failed, and its amount returned to what the person is owed, for the next payout, in one
    transaction."""

    async def settle(session: AsyncClientSession) -> Payout:
        failed = await payout.mark_failed(result_code, reason, now, session)
        await post_payout_returned(session, failed)
        return failed

    try:
        failed = await in_transaction(services, settle)
    except PayoutStateConflict:
        return await Payout.by_id(str(payout.id)) or payout
    log.warning("payout failed", payout_id=str(failed.id), result_code=result_code, reason=reason)
    await publish_payout_updated(services, failed)
    return failed


async def time_out_payout(services: Services, payout: Payout) -> Payout | None:
    """Safaricom's queue timed out: the status query decides; None when the payout was settled already."""
    if payout.status not in (PayoutStatus.PENDING, PayoutStatus.SENT):
        return None
    try:
        timed_out = await payout.mark_timed_out("M-Pesa timed out; checking whether it was paid.")
    except PayoutStateConflict:
        return None
    await publish_payout_updated(services, timed_out)
    return timed_out
