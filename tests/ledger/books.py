"""Reading the ledger in tests: a payment's entries, an account's stored balance, the check's verdict."""

from documents.ledger_balance import LedgerBalance
from documents.ledger_entry import LedgerEntry
from gateway.ledger.check import check_ledger


async def entries_of(payment_id: str) -> list[LedgerEntry]:
    return await LedgerEntry.find({"cause.payment_id": payment_id}).sort("_id").to_list()


async def kinds_of(payment_id: str) -> list[str]:
    return [entry.kind.value for entry in await entries_of(payment_id)]


async def balance(account: str, currency: str = "KES") -> int:
    return await LedgerBalance.of(account, currency)


async def ledger_problems() -> list[str]:
    return await check_ledger(LedgerEntry.get_pymongo_collection().database)


async def line_sum(account: str, currency: str = "KES") -> int:
    """The account's lines summed afresh, beside the stored balance."""
    return sum(
        line.amount_minor
        for entry in await LedgerEntry.find({"lines.account": account}).to_list()
        for line in entry.lines
        if line.account == account and line.currency == currency
    )
