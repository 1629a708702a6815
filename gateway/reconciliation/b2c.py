"""M-Pesa B2C movements (payouts, refunds) checked at Daraja: each run asks Transaction Status of those still pending,
and the Result, arriving later at the ResultURL, settles the check and completes the report's rows that carry it."""

from beanie import PydanticObjectId

from documents.reconciliation import B2cCheck, ReconciliationReport, ReconciliationRow, RowStatus
from gateway.logs import get_logger
from gateway.reconciliation.compare import b2c_outcome, summarise
from gateway.reconciliation.ledger_side import LedgerMovement
from gateway.services import Services
from providers.errors import ProviderError
from providers.payments.mpesa import TransactionUnknown
from providers.payments.mpesa_results import TRANSACTION_COMPLETED, TRANSACTION_NOT_MADE, InitiatorResult

log = get_logger("lango.reconciliation")
# A B2C payment M-Pesa took back moved nothing in the end, as one it never made.
_UNDONE = TRANSACTION_NOT_MADE | {"Reversed"}


async def check_b2c_movements(services: Services, movements: list[LedgerMovement]) -> dict[str, B2cCheck]:
    """The check of each B2C movement, by entry key: made the first time a run sees it, asked of Daraja while
    pending. Daraja refuses a query about a request it has no record of at once (missing at the vendor); any other
    refusal or failure leaves the check pending, to be asked again; the rest answer later."""
    provider = services.payments.mpesa
    checks: dict[str, B2cCheck] = {}
    for movement in movements:
        if movement.b2c_originator is None:
            continue
        check = await B2cCheck.open(movement.entry_key, movement.b2c_originator, movement.currency, movement.amount_minor)
        if check.status == RowStatus.PENDING and provider is not None:
            await check.note_asked()
            try:
                await provider.transaction_status(originator_conversation_id=check.originator_id)
            except TransactionUnknown:
                await check.settle(RowStatus.MISSING_AT_VENDOR, None)
            except ProviderError as error:
                # Asked again by the next run: the report stays pending, so the hourly job runs it again.
                log.warning("B2C status query failed", entry_key=check.entry_key, error=str(error))
            check = await B2cCheck.get(check.id) or check
        checks[movement.entry_key] = check
    return checks


async def apply_b2c_check_result(result: InitiatorResult) -> None:
    """A Transaction Status Result about a B2C request a check waits on: Completed compares the amount, a payment
    M-Pesa never made (or reversed) is missing at the vendor; any other answer leaves it pending to be asked again."""
    originator_id = result.queried_originator_conversation_id
    if not originator_id or not result.succeeded:
        return
    if result.transaction_status == TRANSACTION_COMPLETED and result.amount_minor is not None:
        vendor_minor: int | None = -result.amount_minor
    elif result.transaction_status in _UNDONE:
        vendor_minor = None
    else:
        return
    async for check in B2cCheck.find({"originator_id": originator_id, "status": RowStatus.PENDING.value}):
        status = RowStatus.MISSING_AT_VENDOR if vendor_minor is None else (
            RowStatus.MATCHED if vendor_minor == check.ledger_minor else RowStatus.AMOUNT_DIFFERS)  # fmt: skip
        if await check.settle(status, vendor_minor):
            await complete_rows([check.entry_key])


async def complete_rows(entry_keys: list[str]) -> None:
    """The pending rows carrying these entries, in any run, given their checks' outcome once all are settled; the
    reports they belong to summed again. Called after a check settles and by a run after writing its rows, so a
    Result landing while a run writes is never lost between them."""
    reports: set[PydanticObjectId] = set()
    async for row in ReconciliationRow.find({"entry_keys": {"$in": entry_keys}, "status": RowStatus.PENDING.value}):
        checks = await B2cCheck.find({"entry_key": {"$in": row.entry_keys}}).to_list()
        status, vendor_minor = b2c_outcome(row.ledger_minor, checks)
        if status == RowStatus.PENDING:
            continue
        await ReconciliationRow.get_pymongo_collection().update_one(
            {"_id": row.id, "status": RowStatus.PENDING.value},
            {"$set": {"status": status.value, "vendor_minor": vendor_minor,
                      "difference_minor": (row.ledger_minor or 0) - (vendor_minor or 0)}},
        )  # fmt: skip
        reports.add(row.report_id)
    for report_id in reports:
        await resum_report(report_id)


async def resum_report(report_id: PydanticObjectId) -> None:
    """The report's counts and totals summed again from its current rows; set only while those rows are still its."""
    report = await ReconciliationReport.get(report_id)
    if report is None or report.run_id is None:
        return
    rows = await ReconciliationRow.find({"report_id": report.id, "run_id": report.run_id}).to_list()
    counts, totals = summarise(rows)
    # Rows only ever leave `pending`: a summary with more of them pending was read earlier, and must not overwrite
    # a later one written meanwhile by another Result.
    pending = counts[RowStatus.PENDING.value]
    await ReconciliationReport.get_pymongo_collection().update_one(
        {"_id": report.id, "run_id": report.run_id, "counts.pending": {"$gte": pending}},
        {"$set": {"counts": counts, "totals": [t.model_dump() for t in totals]}},
    )
