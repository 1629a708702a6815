"""Scans a door device made while offline, uploaded together: applied in the order they happened, conflicts reported."""

from datetime import UTC, timedelta
from typing import Annotated, Any

from pydantic import Field

from documents.clock import stored_now
from gateway.request_models import RequestModel
from gateway.services import Services
from gateway.tickets.problems import ScanNotAllowed
from gateway.tickets.scanning import Scanner, TicketScan, redeem_ticket, scan_context_for


class ScanBatch(RequestModel):
    scans: Annotated[list[TicketScan], Field(min_length=1, max_length=5_000)]


async def apply_offline_scans(services: Services, scanner: Scanner, event_id: str, batch: ScanBatch) -> dict[str, Any]:
    """Every scan's answer, in scanned_at order, and the conflicts among them: entries the device let through
    for a ticket that was already inside (admitted at another gate or by another device)."""
    settings = services.settings.tickets
    if len(batch.scans) > settings.max_batch_scans:
        raise ScanNotAllowed(f"send at most {settings.max_batch_scans} scans per batch")
    latest_allowed = stored_now() + timedelta(seconds=settings.scan_clock_skew_s)
    if any(scan.scanned_at.astimezone(UTC) > latest_allowed for scan in batch.scans):
        raise ScanNotAllowed("a scan's scanned_at is in the future: check the device's clock")
    context = await scan_context_for(services, scanner, event_id)
    answers = []
    for scan in sorted(batch.scans, key=lambda scan: scan.scanned_at):
        answer = await redeem_ticket(services, scanner, context, scan, offline=True)
        answers.append({**answer, "scanned_at": scan.scanned_at.astimezone(UTC).isoformat()})
    return {"results": answers, "conflicts": [answer for answer in answers if answer.get("conflict")]}
