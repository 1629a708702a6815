"""A report's rows as CSV for accountants, safe to open in a spreadsheet."""

import csv
import io
from collections.abc import AsyncIterator

from documents.reconciliation import ReconciliationReport, ReconciliationRow

COLUMNS = ("day", "provider", "status", "kind", "reference", "currency", "ledger_minor", "vendor_minor",
           "difference_minor", "payment_id", "entry_keys", "vendor_ids")  # fmt: skip
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP's CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
BATCH = 500


def safe_cell(value: object) -> object:
    """Text a spreadsheet would run as a formula, made inert by a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def _line(values: list[object]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([safe_cell(v) for v in values])
    return out.getvalue()


def filename(report: ReconciliationReport) -> str:
    return f"reconciliation-{report.day}-{report.provider}.csv"


async def report_csv(report: ReconciliationReport) -> AsyncIterator[str]:
    """The header, then the rows of the report's last completed run, a batch of lines at a time."""
    yield _line(list(COLUMNS))
    if report.run_id is None:
        return
    lines: list[str] = []
    async for row in ReconciliationRow.find({"report_id": report.id, "run_id": report.run_id}).sort([("_id", -1)]):
        lines.append(_line([report.day, report.provider, row.status.value, row.kind, row.reference, row.currency,
                            row.ledger_minor, row.vendor_minor, row.difference_minor, row.payment_id,
                            " ".join(row.entry_keys), " ".join(row.vendor_ids)]))  # fmt: skip
        if len(lines) >= BATCH:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)
