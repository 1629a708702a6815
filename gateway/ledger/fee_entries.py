"""The ledger's side of a vendor's fees: what Stripe or PayPal kept of a movement, from cash there to an expense."""

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from documents.ledger_entry import LedgerCause, LedgerEntry, LedgerKind
from gateway.database import in_transaction
from gateway.ledger.accounts import cash, vendor_fees
from gateway.ledger.posting import Line, ledger_entry, post_entry
from gateway.services import Services
from providers.payments import VendorTransaction


def fee_key(provider: str, transaction_id: str) -> str:
    """One fee entry per movement at the vendor (a charge's balance transaction, a PayPal transaction)."""
    return f"vendor_fee:{provider}:{transaction_id}"


async def post_vendor_fees(services: Services, provider: str, listed: list[VendorTransaction]) -> list[str]:
    """Each fee in the vendor's listing posted once, whatever number of runs read it; the keys of all of them."""
    charged = {fee_key(provider, t.transaction_id): t for t in listed if t.fee_minor}
    posted = {e.key async for e in LedgerEntry.find({"key": {"$in": list(charged)}})}
    for key, transaction in charged.items():
        if key in posted:
            continue
        lines: list[Line] = [
            (vendor_fees(provider), transaction.currency, transaction.fee_minor),
            (cash(provider), transaction.currency, -transaction.fee_minor),
        ]
        # Named by the vendor's ids, not the payment: the fee is the vendor's charge to the platform, not a payer's
        # money, and it stays when the payment is refunded in full.
        cause = LedgerCause(receipt=transaction.reference)
        memo = f"{provider} fee on {transaction.kind.value} {transaction.transaction_id}"
        entry = ledger_entry(key, LedgerKind.VENDOR_FEE, lines, cause, memo)

        async def post(session: AsyncClientSession, entry: LedgerEntry = entry) -> None:
            await post_entry(session, entry)

        try:
            await in_transaction(services, post)
        except DuplicateKeyError:
            pass  # a run that lost its claim posted it a moment before: once is all that counts
    return list(charged)
