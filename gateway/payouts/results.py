"""Daraja's word on a payout — a B2C Result, a queue timeout, a transaction status Result — applied so that any
number of them, in any order, leave the payout paid at most once."""

from documents.payout import Payout
from gateway.logs import get_logger
from gateway.payouts.paying import fail_payout, pay_payout, time_out_payout
from gateway.services import Services
from providers.payments.mpesa_results import (
    DUPLICATE_REQUEST,
    TRANSACTION_COMPLETED,
    TRANSACTION_NOT_MADE,
    InitiatorResult,
)

log = get_logger("lango.payouts")


async def apply_b2c_result(services: Services, result: InitiatorResult) -> Payout | None:
    payout = await Payout.by_id(result.originator_conversation_id)
    if payout is None:
        log.warning("B2C Result for no known payout", originator_id=result.originator_conversation_id)
        return None
    if result.timed_out:
        return await time_out_payout(services, payout)
    if result.result_code == DUPLICATE_REQUEST:
        log.info("Daraja saw this payout before; the status query tells", payout_id=str(payout.id))
        return payout
    if result.succeeded:
        return await pay_payout(services, payout, result.receipt or result.transaction_id, result.receiver, result.amount_minor)
    return await fail_payout(services, payout, result.result_code, result.result_desc, services.clock())


async def apply_status_result(services: Services, result: InitiatorResult) -> Payout | None:
    """A transaction status Result about a payout (named by its OriginatorConversationID)."""
    payout_id = result.queried_originator_conversation_id
    payout = await Payout.by_id(payout_id) if payout_id else None
    if payout is None:
        log.info("transaction status Result for no known payout", queried=payout_id)
        return None
    if not result.succeeded:
        log.warning("transaction status query failed", payout_id=str(payout.id), result_code=result.result_code)
        return payout
    if result.transaction_status == TRANSACTION_COMPLETED:
        return await pay_payout(services, payout, result.receipt, result.receiver, result.amount_minor)
    if result.transaction_status in TRANSACTION_NOT_MADE:
        return await fail_payout(services, payout, result.result_code, f"M-Pesa: {result.transaction_status}", services.clock())
    log.warning("payout in a state M-Pesa did not settle", payout_id=str(payout.id), status=result.transaction_status)
    return payout
