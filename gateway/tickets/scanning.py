"""Redeeming a scanned ticket, online or from an offline batch: one atomic check-in, one answer per nonce."""

from dataclasses import dataclass
from datetime import UTC
from typing import Annotated, Any

from beanie import PydanticObjectId
from pydantic import Field
from pymongo.errors import DuplicateKeyError

from documents.clock import stored_now
from documents.door_pass import DoorPass, ScanMark
from documents.scan_record import ScanDirection, ScanRecord, ScanResult
from documents.ticket import Ticket, TicketStatus
from gateway.hosted_events.problems import NotEventScanner
from gateway.input_guard import ObjectIdStr
from gateway.input_types import ApiDatetime
from gateway.problems import NotFound
from gateway.request_models import RequestModel
from gateway.services import Services
from gateway.tickets.holders import holder_of
from gateway.tickets.runtime import ScanContext
from gateway.tickets.secrets import InvalidSecret, TicketClaims, read_ticket_secret, verify_ticket_secret


class TicketScan(RequestModel):
    secret: Annotated[str, Field(min_length=1, max_length=400)]
    type: ScanDirection = ScanDirection.ENTRY
    gate: Annotated[str, Field(pattern=r"^[A-Za-z0-9 _.-]{1,40}$")]
    nonce: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
    scanned_at: ApiDatetime


@dataclass(frozen=True)
class Scanner:
    """Who is scanning: the signed-in door staff account, from a token or a socket session."""

    user_id: str
    roles: frozenset[str]


async def scan_context_for(services: Services, scanner: Scanner, event_id: str) -> ScanContext:
    """The event's scan context, if the scanner is door staff of it (or its host, or an admin)."""
    context = await services.tickets.contexts.get(event_id)
    if context is None:
        raise NotFound("no such event")
    if not context.may_scan(scanner.user_id, scanner.roles):
        raise NotEventScanner("ask the event's host to add you as door staff")
    return context


async def redeem_ticket(
    services: Services, scanner: Scanner, context: ScanContext, scan: TicketScan, *, offline: bool = False
) -> dict[str, Any]:
    """Apply one scan and answer it; the same scanner sending the same nonce again gets the same answer and
    changes nothing. Offline scans are judged at their `scanned_at`, online ones now."""
    moment = scan.scanned_at.astimezone(UTC) if offline else stored_now()
    try:
        claims = verify_ticket_secret(scan.secret, context.public_keys)
    except InvalidSecret:
        return await _answer_unknown(scanner, context, scan, offline, await _foreign_or_invalid(services, scan.secret))
    mark = ScanMark(key=f"{scanner.user_id}:{scan.nonce}", result=ScanResult.OK, direction=scan.type, gate=scan.gate,
                    at=moment, offline=offline)  # fmt: skip
    ticket_id = PydanticObjectId(claims.ticket_id)
    moved = await _move(context, claims, scan, mark)
    door = None if moved else await DoorPass.get(ticket_id)
    if not moved and door is None and (ticket := await Ticket.get(ticket_id)) is not None:
        # A ticket whose issue stopped before its pass was written: open the pass, then judge the scan on it.
        await DoorPass.open_for([ticket])
        moved = await _move(context, claims, scan, mark)
        door = None if moved else await DoorPass.get(ticket_id)
    if moved:
        await _count(services, context, scan, claims.ticket_type_id)
        return _answer(scan, claims.ticket_id, mark, await _holder(services, context, claims))
    if door is None:
        return await _answer_unknown(scanner, context, scan, offline, ScanResult.INVALID)
    # Refused, or seen before (a retry, or the same scan racing itself): the pass remembers every answer it gave.
    earlier = door.scan_mark(mark.key)
    if earlier is None:
        refusal = _refusal(context, claims, door, mark)
        if await DoorPass.remember_refusal(ticket_id, refusal):
            return _answer(scan, claims.ticket_id, refusal, await _holder(services, context, claims))
        door = await DoorPass.get(ticket_id) or door
        earlier = door.scan_mark(mark.key) or refusal
    return _answer(scan, claims.ticket_id, earlier, await _holder(services, context, claims))


async def _move(context: ScanContext, claims: TicketClaims, scan: TicketScan, mark: ScanMark) -> bool:
    """The one conditional update of a check-in (or a check-out); False when the pass refuses it."""
    if context.cancelled or not claims.valid_at(mark.at):
        return False
    ticket_id = PydanticObjectId(claims.ticket_id)
    if scan.type == ScanDirection.ENTRY:
        return await DoorPass.admit(ticket_id, claims.version, mark, reentry_allowed=context.reentry_allowed)
    return await DoorPass.let_out(ticket_id, claims.version, mark)


async def _holder(services: Services, context: ScanContext, claims: TicketClaims) -> tuple[str, str] | None:
    return await holder_of(services.redis, services.settings.redis, context.event_id, claims.ticket_id)


def _refusal(context: ScanContext, claims: TicketClaims, door: DoorPass, mark: ScanMark) -> ScanMark:
    """Why the pass did not move, in the order a door would check."""
    if context.cancelled or door.status == TicketStatus.REVOKED or door.secret_version != claims.version:
        return mark.model_copy(update={"result": ScanResult.REVOKED})
    if not claims.valid_at(mark.at):
        return mark.model_copy(update={"result": ScanResult.NOT_VALID_NOW})
    if not door.paid:
        return mark.model_copy(update={"result": ScanResult.UNPAID})
    if mark.direction == ScanDirection.EXIT:
        return mark.model_copy(update={"result": ScanResult.NOT_INSIDE})
    return mark.model_copy(update={"result": ScanResult.ALREADY_REDEEMED, "redeemed_at": door.admitted_at or mark.at,
                                   "redeemed_gate": door.admitted_gate, "conflict": mark.offline})  # fmt: skip


def _answer(scan: TicketScan, ticket_id: str | None, mark: ScanMark, holder: tuple[str, str] | None) -> dict[str, Any]:
    answer: dict[str, Any] = {"result": mark.result.value, "nonce": scan.nonce, "type": mark.direction.value,
                              "gate": mark.gate, "ticket_id": ticket_id}  # fmt: skip
    if holder is not None:
        answer.update(holder_name=holder[0], ticket_type=holder[1])
    if mark.result == ScanResult.ALREADY_REDEEMED:
        answer.update(redeemed_at=(mark.redeemed_at or mark.at).isoformat(), redeemed_gate=mark.redeemed_gate)
    if mark.offline:
        answer["conflict"] = mark.conflict
    return answer


async def _answer_unknown(scanner: Scanner, context: ScanContext, scan: TicketScan, offline: bool,
                          result: ScanResult) -> dict[str, Any]:  # fmt: skip
    """A secret that names no ticket of this event: nothing to check in, so a replay only needs the answer given
    before, which the scan log keeps."""
    earlier = await ScanRecord.find_one({"scanner_id": scanner.user_id, "nonce": scan.nonce})
    if earlier is not None:
        return earlier.answer
    mark = ScanMark(key=scan.nonce, result=result, direction=scan.type, gate=scan.gate, at=stored_now(), offline=offline)
    answer = _answer(scan, None, mark, None)
    record = ScanRecord(event_id=PydanticObjectId(context.event_id), scanner_id=scanner.user_id, nonce=scan.nonce,
                        direction=scan.type, gate=scan.gate, result=result, answer=answer, offline=offline,
                        scanned_at=scan.scanned_at.astimezone(UTC))  # fmt: skip
    try:
        await record.insert()
    except DuplicateKeyError:
        raced = await ScanRecord.find_one({"scanner_id": scanner.user_id, "nonce": scan.nonce})
        return raced.answer if raced else answer
    return answer


async def _foreign_or_invalid(services: Services, secret: str) -> ScanResult:
    """A genuine ticket of another event is `wrong_event`; anything else that fails verification is `invalid`."""
    try:
        claims, _, _ = read_ticket_secret(secret)
    except InvalidSecret:
        return ScanResult.INVALID
    other = await services.tickets.contexts.get(claims.event_id)
    if other is None:
        return ScanResult.INVALID
    try:
        verify_ticket_secret(secret, other.public_keys)
    except InvalidSecret:
        return ScanResult.INVALID
    return ScanResult.WRONG_EVENT


async def _count(services: Services, context: ScanContext, scan: TicketScan, ticket_type_id: str) -> None:
    if scan.type == ScanDirection.ENTRY:
        stats = await services.tickets.counters.count_entry(context.event_id, ticket_type_id, scan.gate)
    else:
        stats = await services.tickets.counters.count_exit(context.event_id)
    services.tickets.stats.publish(context.event_id, context.host_id, stats)


class SocketTicketScan(TicketScan):
    """`ticket.scan` over the socket; `event_id` may be left out by a socket following one event's scanners room."""

    event_id: ObjectIdStr | None = None


async def scan_from_socket(services: Services, scanner: Scanner, rooms: set[str], request: SocketTicketScan) -> dict[str, Any]:
    """The socket's `ticket.scan`: the same flow as POST /v1/events/{id}/scans."""
    event_id = request.event_id
    if event_id is None:
        followed = [room.split(":")[1] for room in rooms if room.startswith("event:")]
        if len(followed) != 1:
            raise NotFound("send event_id, or follow exactly one event's scanners room")
        event_id = followed[0]
    context = await scan_context_for(services, scanner, event_id)
    scan = TicketScan.model_validate(request.model_dump(exclude={"event_id"}))
    return await redeem_ticket(services, scanner, context, scan)


async def may_follow_scanners(services: Services, scanner: Scanner, event_id: str) -> bool:
    """Only an event's door staff, its host and admins follow `event:<id>:scanners`."""
    if "admin" in scanner.roles:
        return True
    context = await services.tickets.contexts.get(event_id)
    return context is not None and context.may_scan(scanner.user_id, scanner.roles)
