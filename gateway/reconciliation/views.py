"""What the reconciliation routes answer: reports, their rows, and pages of them."""

from datetime import datetime

from pydantic import BaseModel, Field

from documents.reconciliation import CurrencyTotals, ReconciliationReport, ReconciliationRow, ReportStatus, RowStatus


class ReportView(BaseModel):
    id: str
    day: str = Field(description="the UTC day, YYYY-MM-DD")
    provider: str
    status: ReportStatus
    running: bool = Field(description="a run is working on the report now")
    runs: int = Field(description="runs completed; each replaced the rows of the one before")
    counts: dict[str, int] = Field(description="rows per status of the last completed run")
    totals: list[CurrencyTotals] = Field(
        description="per currency, what the ledger and the vendor moved (rows not checked left out)"
    )
    error: str | None = Field(description="why the last run could not read the vendor")
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, report: ReconciliationReport, now: datetime) -> "ReportView":
        running = report.claim_id is not None and report.claimed_until is not None and report.claimed_until > now
        return cls(id=str(report.id), running=running, **report.model_dump(
            include={"day", "provider", "status", "runs", "counts", "totals", "error", "started_at", "finished_at"}))  # fmt: skip


class ReportPage(BaseModel):
    items: list[ReportView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last")


class RowView(BaseModel):
    status: RowStatus
    kind: str = Field(description="collection, refund, payout, fee (what the vendor kept of the reference's movements) or other")
    reference: str = Field(description="the vendor's id of the collection: M-Pesa receipt, Stripe charge, PayPal capture; "
                           "for a ledger entry without one, the entry's key")  # fmt: skip
    currency: str
    ledger_minor: int | None = Field(description="what the ledger moved, signed; null when it moved nothing")
    vendor_minor: int | None = Field(description="what the vendor moved, signed, gross of its fees; null when nothing")
    difference_minor: int = Field(description="ledger less vendor")
    payment_id: str | None
    entry_keys: list[str]
    vendor_ids: list[str]

    @classmethod
    def of(cls, row: ReconciliationRow) -> "RowView":
        return cls(**row.model_dump(exclude={"id", "revision_id", "report_id", "run_id"}))


class ReportDetail(BaseModel):
    report: ReportView
    rows: list[RowView] = Field(description="a page of the last completed run's rows")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page of rows; null on the last")


class RunRequested(BaseModel):
    day: str
    providers: list[str] = Field(description="the vendors whose reports will be replaced")
