"""What a payment posts: its collection split into host earnings and commission, a refund falling due, a refund sent."""

from pymongo.asynchronous.client_session import AsyncClientSession

from documents.ledger_balance import LedgerBalance
from documents.ledger_entry import LedgerCause, LedgerKind
from documents.payment import Payment
from gateway.ledger.accounts import (
    FX_CONVERSION,
    PLATFORM_REVENUE,
    REFUNDS_PAYABLE,
    SUSPENSE,
    cash,
    host_payable,
    host_receivable,
)
from gateway.ledger.posting import Line, ledger_entry, post_entry
from gateway.ledger.suspense_entries import held_in_suspense


def _cause(payment: Payment, refund_key: str | None = None) -> LedgerCause:
    return LedgerCause(payment_id=str(payment.id), purpose=payment.purpose.value, target_id=payment.target_id, refund_key=refund_key)


def _charged(payment: Payment) -> tuple[int, str]:
    return (payment.charged_amount_minor if payment.charged_amount_minor is not None else payment.requested_amount_minor,
            payment.charged_currency or payment.requested_currency)  # fmt: skip


def _cash_lines(payment: Payment, charged_minor: int, requested_minor: int) -> list[Line]:
    """Cash at the vendor in the charged currency against the requested one: when the two differ (a KES price charged
    in USD), the conversion account takes one side of each currency, so every currency balances on its own."""
    charged_currency = _charged(payment)[1]
    if charged_currency == payment.requested_currency:
        return [(cash(payment.provider), charged_currency, charged_minor)]
    return [
        (cash(payment.provider), charged_currency, charged_minor),
        (FX_CONVERSION, charged_currency, -charged_minor),
        (FX_CONVERSION, payment.requested_currency, requested_minor),
    ]


def _payee(payment: Payment) -> str:
    # A payment made before payees were recorded has no one to credit: it waits in suspense for a person.
    return host_payable(payment.payee_id) if payment.payee_id else SUSPENSE


async def post_collection(session: AsyncClientSession, payment: Payment) -> None:
    """The money arrived at the vendor: all of it owed to the host, then the platform's commission taken from that."""
    amount, currency = payment.requested_amount_minor, payment.requested_currency
    payee = _payee(payment)
    received = _cash_lines(payment, _charged(payment)[0], amount)
    if payment.provider == "mpesa" and payment.provider_reference and await held_in_suspense(session, payment.provider_reference):
        # Paybill money an admin assigned: it reached cash when it was held unmatched, and leaves suspense now.
        received = [(SUSPENSE, currency, amount)]
    collected: list[Line] = [*received, (payee, currency, -amount)]
    memo = f"{payment.provider} payment {payment.id} for {payment.purpose.value} {payment.target_id}"
    await post_entry(session, ledger_entry(f"payment:{payment.id}:collected", LedgerKind.PAYMENT_COLLECTED, collected, _cause(payment), memo))
    if payment.platform_fee_minor and payee != SUSPENSE:
        fee: list[Line] = [(payee, currency, payment.platform_fee_minor), (PLATFORM_REVENUE, currency, -payment.platform_fee_minor)]
        await post_entry(session, ledger_entry(f"payment:{payment.id}:commission", LedgerKind.COMMISSION, fee, _cause(payment), f"commission on {memo}"))


def _commission_share(payment: Payment, owed_minor: int) -> int:
    """The commission returned once `owed_minor` of the price is owed back: in proportion, rounded down, so the whole
    commission returns exactly when the whole price does."""
    if payment.requested_amount_minor <= 0:
        return 0
    return payment.platform_fee_minor * owed_minor // payment.requested_amount_minor


async def post_refund_due(
    session: AsyncClientSession, payment: Payment, owed_before: int, owed_after: int, key: str, memo: str
) -> None:
    """(owed_after - owed_before) of the price is now owed back to the payer: taken from the host's earnings and the
    platform's commission in proportion, into refunds payable. A host already paid out owes the rest as a receivable,
    so what the platform owes a host never falls below zero."""
    currency = payment.requested_currency
    due = owed_after - owed_before
    if due <= 0:
        return
    commission = _commission_share(payment, owed_after) - _commission_share(payment, owed_before)
    host_share = due - commission
    lines: list[Line] = [(PLATFORM_REVENUE, currency, commission), (REFUNDS_PAYABLE, currency, -due)]
    if payment.payee_id:
        # What a payout on its way carries left this balance as the payout started (reserved): it is the host's already.
        still_owed = max(0, -await LedgerBalance.of(host_payable(payment.payee_id), currency, session))
        from_earnings = min(host_share, still_owed)
        lines += [(host_payable(payment.payee_id), currency, from_earnings),
                  (host_receivable(payment.payee_id), currency, host_share - from_earnings)]  # fmt: skip
    else:
        lines.append((SUSPENSE, currency, host_share))
    entry = ledger_entry(f"payment:{payment.id}:{key}", LedgerKind.REVERSAL, lines, _cause(payment, key), memo)
    await post_entry(session, entry)


def owed_for_refunded(payment: Payment, refunded_charged_minor: int) -> int:
    """The part of the price (requested currency) that a refunded amount in the charged currency returns."""
    charged_total, charged_currency = _charged(payment)
    if refunded_charged_minor >= charged_total:
        return payment.requested_amount_minor
    if charged_currency == payment.requested_currency:
        return refunded_charged_minor
    return payment.requested_amount_minor * refunded_charged_minor // charged_total


async def post_refund_sent(session: AsyncClientSession, payment: Payment, refunded_before: int) -> None:
    """The vendor returned (payment.refunded_minor - refunded_before) of the charge: refunds payable settled from cash."""
    sent = payment.refunded_minor - refunded_before
    owed = owed_for_refunded(payment, payment.refunded_minor) - owed_for_refunded(payment, refunded_before)
    if sent <= 0:
        return
    lines: list[Line] = [(REFUNDS_PAYABLE, payment.requested_currency, owed)]
    lines += [(account, currency, -amount) for account, currency, amount in _cash_lines(payment, sent, owed)]
    memo = f"{payment.provider} refunded {sent} {_charged(payment)[1]} of payment {payment.id}"
    entry = ledger_entry(f"payment:{payment.id}:refunded-to:{payment.refunded_minor}", LedgerKind.REFUND, lines, _cause(payment), memo)
    await post_entry(session, entry)
