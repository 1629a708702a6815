"""What admins do with Paybill money that matched nothing: list it, assign it to a booking or order, or return it to
the payer through Daraja's Reversal (whole amount, the only kind Daraja makes)."""

from pymongo.asynchronous.client_session import AsyncClientSession

from documents.paybill import PaybillPayment, PaybillStateConflict, PaybillStatus
from documents.payment import PaymentPurpose
from gateway.database import in_transaction
from gateway.ledger.suspense_entries import post_suspense_reversed
from gateway.logs import get_logger
from gateway.payments.paybill import CLAIM_LEASE, reference_for, settle_on_target
from gateway.payments.problems import PaymentProviderUnavailable
from gateway.payments.purposes import purpose_handler
from gateway.problems import Conflict, NotFound
from gateway.security.callers import Caller
from gateway.services import Services
from providers.errors import ProviderError, VendorRejected
from providers.payments.mpesa_results import TRANSACTION_REVERSED, InitiatorResult

log = get_logger("lango.payments")
# Daraja's answer when the payment was reversed already (by an earlier request of ours).
ALREADY_REVERSED = "R000001"


class PaybillNotAssignable(Conflict):
    slug, title = "paybill-not-assignable", "This Paybill payment cannot be assigned to that booking or order"


class PaybillStateProblem(Conflict):
    slug, title = "paybill-state-conflict", "This Paybill payment is not in a state that allows this"


async def unmatched_page(before: str | None, limit: int) -> list[PaybillPayment]:
    """Unmatched and being-returned Paybill payments, newest first, after the id `before`."""
    query: dict[str, object] = {"status": {"$in": [PaybillStatus.UNMATCHED.value, PaybillStatus.REFUNDING.value]}}
    if before is not None:
        anchor = await PaybillPayment.by_id(before)
        if anchor is not None:
            query["_id"] = {"$lt": anchor.id}
    return await PaybillPayment.find(query).sort("-_id").limit(limit).to_list()


async def _unmatched(paybill_id: str) -> PaybillPayment:
    received = await PaybillPayment.by_id(paybill_id)
    if received is None:
        raise NotFound("no such Paybill payment")
    return received


async def assign_unmatched(
    services: Services, admin: Caller, paybill_id: str, purpose: PaymentPurpose, target_id: str, note: str
) -> PaybillPayment:
    """Settle an unmatched Paybill payment on the booking or order an admin names, if it owes exactly that amount."""
    received = await _unmatched(paybill_id)
    owner = await purpose_handler(services, purpose).owner_of(target_id)
    if owner is None:
        raise NotFound(f"no such {purpose.value.replace('_', ' ')}")
    claimed = await received.claim(services.clock(), CLAIM_LEASE, from_unmatched=True)
    if claimed is None:
        raise PaybillStateProblem(f"the Paybill payment is {received.status}, not unmatched")
    reference = await reference_for(purpose, target_id, owner)
    settled = await settle_on_target(services, claimed, reference, resolved_by=admin.user_id, resolution_note=note)
    if settled.status != PaybillStatus.SETTLED:
        raise PaybillNotAssignable(f"it does not pay that {purpose.value.replace('_', ' ')}: {settled.unmatched_reason}")
    log.info("unmatched Paybill payment assigned", paybill_id=paybill_id, purpose=purpose.value, target_id=target_id, admin=admin.user_id)
    return settled


async def refund_unmatched(services: Services, admin: Caller, paybill_id: str, note: str) -> PaybillPayment:
    """Return an unmatched Paybill payment whole to the payer with Daraja's Reversal; its Result finishes it."""
    received = await _unmatched(paybill_id)
    provider = services.payments.mpesa
    if provider is None:
        raise PaymentProviderUnavailable("M-Pesa is not available here")
    try:
        refunding = await received.start_refund(admin.user_id, note)
    except PaybillStateConflict:
        raise PaybillStateProblem(f"the Paybill payment is {received.status}, not unmatched") from None
    try:
        acknowledgement = await provider.reversal(refunding.trans_id, refunding.amount_minor, "Unmatched Paybill payment")
    except VendorRejected as error:
        await refunding.refund_failed(f"reversal_refused: {error}")
        raise PaybillStateProblem(f"Daraja refused the reversal: {error}") from None
    except ProviderError as error:
        await refunding.refund_failed("reversal_not_sent")
        log.warning("reversal not sent", paybill_id=paybill_id, error=str(error))
        raise PaymentProviderUnavailable("Daraja could not be reached; try again in a moment") from None
    log.info("unmatched Paybill payment being reversed", paybill_id=paybill_id, admin=admin.user_id)
    return await refunding.note_reversal(acknowledgement.originator_conversation_id)


async def apply_reversal_result(services: Services, result: InitiatorResult) -> PaybillPayment | None:
    """Finish the return of a Paybill payment from Daraja's reversal Result; one for no known reversal is logged."""
    received = await PaybillPayment.find_one({"reversal_conversation_id": result.originator_conversation_id})
    if received is None and result.original_transaction_id:
        # The Result can outrun the acknowledgement's id being saved; its OriginalTransactionID names the payment.
        received = await PaybillPayment.find_one(
            {"trans_id": result.original_transaction_id, "status": PaybillStatus.REFUNDING.value}
        )
    if received is None:
        log.warning("reversal Result for no known reversal", originator_id=result.originator_conversation_id)
        return None
    if result.timed_out:
        # Left refunding: an admin sees it in the list, and a second reversal is answered "already reversed".
        log.warning("reversal timed out at Daraja", paybill_id=str(received.id))
        return received
    if result.succeeded or result.result_code == ALREADY_REVERSED:
        return await finish_reversal(services, received, result.transaction_id)
    return await received.refund_failed(f"reversal_failed_{result.result_code}")


async def finish_reversal(services: Services, received: PaybillPayment, reversal_receipt: str | None) -> PaybillPayment | None:
    """Daraja reversed the money: refunded, and out of suspense in the same transaction; None when it already was
    (a duplicate Result, or the status query's answer after the Result)."""

    async def finish(session: AsyncClientSession) -> PaybillPayment | None:
        refunded = await received.finish_refund(reversal_receipt, session)
        if refunded is not None:
            await post_suspense_reversed(session, refunded)
        return refunded

    refunded = await in_transaction(services, finish)
    if refunded is not None:
        log.info("unmatched Paybill payment reversed", paybill_id=str(received.id), receipt=reversal_receipt)
    return refunded


async def apply_reversal_status(services: Services, result: InitiatorResult) -> PaybillPayment | None:
    """A Transaction Status Result about a Paybill payment being returned (its reversal's Result timed out or never
    came): Reversed finishes the return; anything else leaves it refunding, asked again later. Daraja never reverses
    a payment twice, so a reversal is not sent again on a status alone."""
    received = await PaybillPayment.find_one({"trans_id": result.receipt or result.transaction_id or "", "status": PaybillStatus.REFUNDING.value})
    if received is None:
        log.info("transaction status Result for no Paybill payment being returned", receipt=result.receipt)
        return None
    if result.succeeded and result.transaction_status == TRANSACTION_REVERSED:
        return await finish_reversal(services, received, None)
    log.warning("Paybill reversal not confirmed yet", paybill_id=str(received.id), status=result.transaction_status)
    return received
