"""Redeeming a scanned ticket, online or from an offline batch: one atomic check-in, one answer per nonce."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from aiohttp import web
from beanie import PydanticObjectId
from pydantic import AwareDatetime, Field
from pymongo.errors import DuplicateKeyError

from documents.clock import stored_now
from documents.scan_record import ScanDirection, ScanRecord, ScanResult
from documents.ticket import Ticket, TicketStatus
from gateway.events_hosting.problems import NotEventScanner
from gateway.problems import NotFound
from gateway.routing import RequestModel
from gateway.state import TICKETS
from gateway.tickets.runtime import ScanContext
from gateway.tickets.secrets import InvalidSecret, TicketClaims, read_ticket_secret, verify_ticket_secret
from gateway.tickets.stats import count_entry, count_exit


class TicketScan(RequestModel):
    secret: Annotated[str, Field(min_length=1, max_length=400)]
    type: ScanDirection = ScanDirection.ENTRY
    gate: Annotated[str, Field(pattern=r"^[A-Za-z0-9 _.-]{1,40}$")]
    nonce: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
    scanned_at: AwareDatetime


@dataclass(frozen=True)
class Scanner:
    """Who is scanning: the signed-in door staff account, from a token or a socket session."""

    user_id: str
    roles: frozenset[str]


async def scan_context_for(app: web.Application, scanner: Scanner, event_id: str) -> ScanContext:
    """The event's scan context, if the scanner is door staff of it (or its host, or an admin)."""
    context = await app[TICKETS].contexts.get(event_id)
    if context is None:
        raise NotFound("no such event")
    if not context.may_scan(scanner.user_id, scanner.roles):
        raise NotEventScanner("ask the event's host to add you as door staff")
    return context


async def redeem_ticket(
    app: web.Application, scanner: Scanner, context: ScanContext, scan: TicketScan, *, offline: bool = False
) -> dict[str, Any]:
    """Apply one scan and answer it; the same scanner sending the same nonce again gets the same answer and
    changes nothing. Offline scans are judged at their `scanned_at`, online ones now."""
    earlier = await ScanRecord.find_one({"scanner_id": scanner.user_id, "nonce": scan.nonce})
    if earlier is not None:
        return earlier.answer
    moment = scan.scanned_at.astimezone(UTC) if offline else stored_now()
    scan_key = f"{scanner.user_id}:{scan.nonce}"
    result, ticket, claims, earlier_entry = await _judge(app, context, scan, moment, scan_key)
    answer: dict[str, Any] = {"result": result.value, "nonce": scan.nonce, "type": scan.type.value, "gate": scan.gate,
                              "ticket_id": claims.ticket_id if claims else None}  # fmt: skip
    if ticket is not None:
        answer.update(holder_name=ticket.holder_name, ticket_type=ticket.type_name)
    if earlier_entry is not None:
        answer.update(redeemed_at=earlier_entry[0].isoformat(), redeemed_gate=earlier_entry[1])
    conflict = offline and scan.type == ScanDirection.ENTRY and result == ScanResult.ALREADY_REDEEMED
    if offline:
        answer["conflict"] = conflict
    record = ScanRecord(
        event_id=PydanticObjectId(context.event_id),
        scanner_id=scanner.user_id,
        nonce=scan.nonce,
        ticket_id=PydanticObjectId(claims.ticket_id) if claims else None,
        direction=scan.type,
        gate=scan.gate,
        result=result,
        answer=answer,
        offline=offline,
        conflict=conflict,
        scanned_at=scan.scanned_at.astimezone(UTC),
    )
    try:
        await record.insert()
    except DuplicateKeyError:
        # The same scan arrived twice at once: the check-in above recognised its own nonce, so both agree.
        raced = await ScanRecord.find_one({"scanner_id": scanner.user_id, "nonce": scan.nonce})
        return raced.answer if raced else answer
    if result == ScanResult.OK and ticket is not None:
        await _count(app, context, scan, ticket)
    return answer


async def _judge(
    app: web.Application, context: ScanContext, scan: TicketScan, moment: datetime, scan_key: str
) -> tuple[ScanResult, Ticket | None, TicketClaims | None, tuple[datetime, str | None] | None]:
    try:
        claims = verify_ticket_secret(scan.secret, context.public_keys)
    except InvalidSecret:
        return await _foreign_or_invalid(app, scan.secret), None, None, None
    ticket_id = PydanticObjectId(claims.ticket_id)
    if context.cancelled:
        return ScanResult.REVOKED, await Ticket.get(ticket_id), claims, None
    if not claims.valid_at(moment):
        return ScanResult.NOT_VALID_NOW, await Ticket.get(ticket_id), claims, None
    if scan.type == ScanDirection.ENTRY:
        changed = await Ticket.admit(ticket_id, claims.version, scan.gate, moment, scan_key,
                                     reentry_allowed=context.reentry_allowed)  # fmt: skip
    else:
        changed = await Ticket.let_out(ticket_id, claims.version, moment)
    ticket = await Ticket.get(ticket_id)
    if changed:
        return ScanResult.OK, ticket, claims, None
    if ticket is None:
        return ScanResult.INVALID, None, claims, None
    if ticket.status == TicketStatus.REVOKED or ticket.secret_version != claims.version:
        return ScanResult.REVOKED, ticket, claims, None
    if not ticket.paid:
        return ScanResult.UNPAID, ticket, claims, None
    if scan.type == ScanDirection.EXIT:
        return ScanResult.NOT_INSIDE, ticket, claims, None
    if ticket.admitted_by_scan == scan_key:
        return ScanResult.OK, ticket, claims, None
    return ScanResult.ALREADY_REDEEMED, ticket, claims, (ticket.admitted_at or moment, ticket.admitted_gate)


async def _foreign_or_invalid(app: web.Application, secret: str) -> ScanResult:
    """A genuine ticket of another event is `wrong_event`; anything else that fails verification is `invalid`."""
    try:
        claims, _, _ = read_ticket_secret(secret)
    except InvalidSecret:
        return ScanResult.INVALID
    other = await app[TICKETS].contexts.get(claims.event_id)
    if other is None:
        return ScanResult.INVALID
    try:
        verify_ticket_secret(secret, other.public_keys)
    except InvalidSecret:
        return ScanResult.INVALID
    return ScanResult.WRONG_EVENT


async def _count(app: web.Application, context: ScanContext, scan: TicketScan, ticket: Ticket) -> None:
    if scan.type == ScanDirection.ENTRY:
        stats = await count_entry(app, context.event_id, str(ticket.ticket_type_id), scan.gate)
    else:
        stats = await count_exit(app, context.event_id)
    app[TICKETS].stats.publish(context.event_id, context.host_id, stats)
