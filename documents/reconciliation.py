"""Daily reconciliation reports: per UTC day and payment vendor, the ledger's cash movements set against the vendor's
own record, one row per movement; a run claims the report, and its rows replace the last run's only once complete."""

from datetime import datetime, timedelta
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from documents.clock import stored_now


class RowStatus(StrEnum):
    MATCHED = "matched"
    # In the ledger, and the vendor's record has nothing like it.
    MISSING_AT_VENDOR = "missing_at_vendor"
    # The vendor moved money the ledger does not know of.
    MISSING_IN_LEDGER = "missing_in_ledger"
    AMOUNT_DIFFERS = "amount_differs"
    # A ledger movement of a kind the vendor's listing does not cover (an adjustment of cash, a Paybill reversal).
    NOT_CHECKED = "not_checked"
    # An M-Pesa B2C payment asked of Daraja's Transaction Status, whose Result has not come yet.
    PENDING = "pending"


class ReportStatus(StrEnum):
    # Claimed by its first run, which has not finished.
    RUNNING = "running"
    COMPLETE = "complete"
    # No run has completed: the last one failed (`error` says why); the next one tries again.
    FAILED = "failed"


class CurrencyTotals(BaseModel):
    currency: str
    ledger_minor: int
    vendor_minor: int
    difference_minor: int = Field(description="ledger less vendor")


class ReconciliationReport(Document):
    day: str = Field(description="the UTC day, YYYY-MM-DD")
    provider: str
    status: ReportStatus = ReportStatus.RUNNING
    # The run whose rows are the report; None until one completes.
    run_id: str | None = None
    # Runs completed: each replaced the rows of the one before.
    runs: int = 0
    counts: dict[str, int] = Field(default_factory=dict)
    totals: list[CurrencyTotals] = Field(default_factory=list)
    error: str | None = None
    # The run working on it now, and until when its claim holds (a run that died lets the next one in after that).
    claim_id: str | None = None
    claimed_until: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    created_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "reconciliation_reports"
        indexes = [
            IndexModel(
                [("day", ASCENDING), ("provider", ASCENDING)], unique=True, name="one_report_per_day_and_vendor"
            ),
            IndexModel([("provider", ASCENDING), ("_id", DESCENDING)], name="by_vendor"),
        ]

    @classmethod
    async def claim(cls, day: str, provider: str, claim_id: str, lease: timedelta) -> "ReconciliationReport | None":
        """The day's report held for this run (created on the first), or None while another run's claim holds."""
        now = stored_now()
        free = {"day": day, "provider": provider, "$or": [{"claim_id": None}, {"claimed_until": {"$lte": now}}]}
        fresh = cls(day=day, provider=provider).model_dump(
            exclude={"id", "revision_id", "claim_id", "claimed_until", "started_at"}
        )
        try:
            found = await cls.get_pymongo_collection().find_one_and_update(
                free,
                {"$set": {"claim_id": claim_id, "claimed_until": now + lease, "started_at": now},
                 "$setOnInsert": {k: v for k, v in fresh.items() if k not in ("day", "provider")}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )  # fmt: skip
        except DuplicateKeyError:
            # The report exists and another run holds it: the upsert tried to make a second one.
            return None
        return cls.model_validate({**found, "id": found["_id"]})

    async def publish(self, claim_id: str, run_id: str, counts: dict[str, int], totals: list[CurrencyTotals]) -> bool:
        """Make this run's rows the report, while the claim is still this run's; False when it was lost. The claim
        is kept until `release`, so the rows of earlier runs go before another run can write any."""
        result = await self.get_pymongo_collection().update_one(
            {"_id": self.id, "claim_id": claim_id},
            {"$set": {"status": ReportStatus.COMPLETE.value, "run_id": run_id, "counts": counts,
                      "totals": [t.model_dump() for t in totals], "error": None, "finished_at": stored_now()},
             "$inc": {"runs": 1}},
        )  # fmt: skip
        return result.modified_count == 1

    async def release(self, claim_id: str) -> None:
        await self.get_pymongo_collection().update_one(
            {"_id": self.id, "claim_id": claim_id}, {"$set": {"claim_id": None, "claimed_until": None}}
        )

    async def give_up(self, claim_id: str, error: str) -> None:
        """Release the claim with the reason; a report that never completed becomes failed, one that did keeps its rows."""
        collection = self.get_pymongo_collection()
        await collection.update_one(
            {"_id": self.id, "claim_id": claim_id, "run_id": None}, {"$set": {"status": ReportStatus.FAILED.value}}
        )
        await collection.update_one(
            {"_id": self.id, "claim_id": claim_id},
            {"$set": {"error": error[:500], "finished_at": stored_now(), "claim_id": None, "claimed_until": None}},
        )


class ReconciliationRow(Document):
    """One movement: the ledger's side, the vendor's, and what comparing them found."""

    report_id: PydanticObjectId
    run_id: str
    status: RowStatus
    kind: str = Field(description="collection, refund, payout, fee or other")
    reference: str = Field(
        description="the vendor's id of the collection: M-Pesa receipt, Stripe charge, PayPal capture"
    )
    currency: str
    ledger_minor: int | None
    vendor_minor: int | None
    difference_minor: int = Field(description="ledger less vendor, a side missing counted as 0")
    payment_id: str | None = None
    entry_keys: list[str] = Field(default_factory=list)
    vendor_ids: list[str] = Field(default_factory=list)

    class Settings:
        name = "reconciliation_rows"
        indexes = [
            IndexModel([("report_id", ASCENDING), ("run_id", ASCENDING), ("_id", DESCENDING)], name="by_report_run"),
            IndexModel([("report_id", ASCENDING), ("run_id", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)],
                       name="by_report_run_status"),
            # A B2C check's Result completes the pending rows that carry its entry.
            IndexModel([("entry_keys", ASCENDING), ("status", ASCENDING)], name="by_entry_key"),
        ]  # fmt: skip


class B2cCheck(Document):
    """One ledger movement paid out through M-Pesa B2C (a payout, a refund), asked of Daraja's Transaction Status
    by the OriginatorConversationID of its request: pending until the Result says what M-Pesa moved, then final."""

    entry_key: str
    originator_id: str
    currency: str
    ledger_minor: int = Field(description="what the ledger moved out of cash at M-Pesa (negative)")
    status: RowStatus = RowStatus.PENDING
    vendor_minor: int | None = None
    asked_at: datetime | None = None
    answered_at: datetime | None = None
    created_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "reconciliation_b2c_checks"
        indexes = [
            IndexModel([("entry_key", ASCENDING)], unique=True, name="one_check_per_entry"),
            IndexModel([("originator_id", ASCENDING), ("status", ASCENDING)], name="by_originator"),
        ]

    @classmethod
    async def open(cls, entry_key: str, originator_id: str, currency: str, ledger_minor: int) -> "B2cCheck":
        """The entry's check, made the first time a run sees the entry (an upsert under the unique key)."""
        fresh = cls(entry_key=entry_key, originator_id=originator_id, currency=currency, ledger_minor=ledger_minor)
        try:
            await cls.get_pymongo_collection().update_one(
                {"entry_key": entry_key},
                {"$setOnInsert": {**fresh.model_dump(exclude={"id", "revision_id", "entry_key"}),
                                  "status": RowStatus.PENDING.value}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # a racing run made it a moment before
        found = await cls.find_one({"entry_key": entry_key})
        assert found is not None
        return found

    async def note_asked(self) -> None:
        await self.get_pymongo_collection().update_one({"_id": self.id}, {"$set": {"asked_at": stored_now()}})

    async def settle(self, status: RowStatus, vendor_minor: int | None) -> bool:
        """Made final, once: a duplicated or late Result finds it settled and changes nothing."""
        result = await self.get_pymongo_collection().update_one(
            {"_id": self.id, "status": RowStatus.PENDING.value},
            {"$set": {"status": status.value, "vendor_minor": vendor_minor, "answered_at": stored_now()}},
        )
        return result.modified_count == 1
