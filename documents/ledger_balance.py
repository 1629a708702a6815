"""Each ledger account's balance per currency, moved in the same transaction as the entry whose lines it sums."""

from collections import defaultdict
from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from documents.clock import stored_now
from documents.ledger_entry import LedgerEntry


class LedgerBalance(Document):
    account: str
    currency: str
    # The sum of every line of this account in this currency: positive a debit balance, negative a credit one.
    balance_minor: int = 0
    # The same sum split by the kind of entry, so a host's earnings and payouts are read without scanning lines.
    by_kind: dict[str, int] = Field(default_factory=dict)
    updated_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "ledger_balances"
        indexes = [
            IndexModel([("account", ASCENDING), ("currency", ASCENDING)], unique=True, name="one_per_account_currency"),
        ]

    @classmethod
    async def apply(cls, entry: LedgerEntry, session: AsyncClientSession) -> None:
        """Add the entry's lines to their accounts' balances: called only with the entry's own insert, in its transaction."""
        moves: dict[tuple[str, str], int] = defaultdict(int)
        for line in entry.lines:
            moves[(line.account, line.currency)] += line.amount_minor
        collection = cls.get_pymongo_collection()
        for (account, currency), amount in sorted(moves.items()):
            await collection.update_one(
                {"account": account, "currency": currency},
                {"$inc": {"balance_minor": amount, f"by_kind.{entry.kind.value}": amount}, "$set": {"updated_at": stored_now()}},
                upsert=True,
                session=session,
            )

    @classmethod
    async def of(cls, account: str, currency: str, session: AsyncClientSession | None = None) -> int:
        """The account's balance in this currency as this transaction sees it; 0 for an account never used."""
        found = await cls.get_pymongo_collection().find_one({"account": account, "currency": currency}, session=session)
        return int(found["balance_minor"]) if found else 0
