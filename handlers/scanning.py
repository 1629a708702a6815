"""Door routes: a scanner checks a ticket in or out over HTTP or its socket, uploads offline scans, reads the kit and stats."""

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, Field

from gateway.events_hosting.views import CheckinStats
from gateway.problems import NotFound
from gateway.routing import ApiRoutes
from gateway.security.access import Caller, roles
from gateway.state import TICKETS
from gateway.tickets.holding import scanner_kit
from gateway.tickets.offline import ScanBatch, apply_offline_scans
from gateway.tickets.scanning import Scanner, TicketScan, redeem_ticket, scan_context_for
from gateway.tickets.stats import read_stats

routes = ApiRoutes(tag="scanning")
DOOR_STAFF = roles("scanner", "agent")
EVENT = "/v1/events/{event_id}"


class ScanAnswer(BaseModel):
    """`result`: ok, already_redeemed (with redeemed_at and redeemed_gate), not_inside (an exit of a ticket not
    inside), invalid, revoked, unpaid, wrong_event or not_valid_now; holder_name and ticket_type for display."""

    result: str
    nonce: str
    type: str
    gate: str
    ticket_id: str | None
    holder_name: str | None = None
    ticket_type: str | None = None
    redeemed_at: str | None = None
    redeemed_gate: str | None = None
    conflict: bool | None = None
    scanned_at: str | None = None


class BatchAnswer(BaseModel):
    results: list[ScanAnswer]
    conflicts: list[ScanAnswer]


class ScannerKit(BaseModel):
    event_id: str
    secret_format: int
    algorithm: str
    keys: list[dict[str, Any]]
    reentry_allowed: bool
    status: str
    revoked: list[dict[str, Any]]
    generated_at: str


def _scanner(caller: Caller) -> Scanner:
    return Scanner(caller.user_id, caller.roles)


@routes.post(f"{EVENT}/scans", body=TicketScan, response=ScanAnswer, access=DOOR_STAFF, problems=(401, 403, 404, 422),
             description="The same scan as the socket's ticket.scan. A retry with the same nonce answers the same.")  # fmt: skip
async def scan_ticket(request: web.Request, caller: Caller, body: TicketScan) -> ScanAnswer:
    """Check a ticket in (type entry) or out (type exit)"""
    event_id = request.match_info["event_id"]
    context = await scan_context_for(request.app, _scanner(caller), event_id)
    return ScanAnswer.model_validate(await redeem_ticket(request.app, _scanner(caller), context, body))


@routes.post(f"{EVENT}/scans/batch", body=ScanBatch, response=BatchAnswer, access=DOOR_STAFF,
             problems=(401, 403, 404, 422),
             description="Scans made offline, applied in scanned_at order; uploading the same batch again changes "
             "nothing. `conflicts` lists entries the device let through for a ticket already inside.")  # fmt: skip
async def upload_offline_scans(request: web.Request, caller: Caller, body: ScanBatch) -> BatchAnswer:
    """Upload scans made while offline"""
    return BatchAnswer.model_validate(await apply_offline_scans(request.app, _scanner(caller), request.match_info["event_id"], body))


@routes.get(f"{EVENT}/scanner-kit", response=ScannerKit, access=DOOR_STAFF, problems=(401, 403, 404))
async def read_scanner_kit(request: web.Request, caller: Caller) -> ScannerKit:
    """The event's public keys and revocation list, to check tickets offline"""
    return ScannerKit.model_validate(await scanner_kit(request.app, _scanner(caller), request.match_info["event_id"]))


@routes.get(f"{EVENT}/stats", response=CheckinStats, access=DOOR_STAFF, problems=(401, 403, 404))
async def read_checkin_stats(request: web.Request, caller: Caller) -> CheckinStats:
    """Admitted, inside now, per ticket type and per gate"""
    event_id = request.match_info["event_id"]
    await scan_context_for(request.app, _scanner(caller), event_id)
    return CheckinStats.model_validate(await read_stats(request.app, event_id))


class SocketTicketScan(TicketScan):
    """`ticket.scan` over the socket; `event_id` may be left out by a socket following one event's scanners room."""

    event_id: Annotated[str, Field(pattern=r"^[0-9a-f]{24}$")] | None = None


async def scan_from_socket(app: web.Application, user_id: str, user_roles: frozenset[str], rooms: set[str],
                           request: SocketTicketScan) -> dict[str, Any]:  # fmt: skip
    """The socket's `ticket.scan`: the same flow as POST /v1/events/{id}/scans."""
    event_id = request.event_id
    if event_id is None:
        followed = [room.split(":")[1] for room in rooms if room.startswith("event:")]
        if len(followed) != 1:
            raise NotFound("send event_id, or follow exactly one event's scanners room")
        event_id = followed[0]
    scanner = Scanner(user_id, user_roles)
    context = await scan_context_for(app, scanner, event_id)
    scan = TicketScan.model_validate(request.model_dump(exclude={"event_id"}))
    return await redeem_ticket(app, scanner, context, scan)


async def may_follow_scanners(app: web.Application, user_id: str, user_roles: frozenset[str], room: str) -> bool:
    """Only an event's door staff, its host and admins follow `event:<id>:scanners`."""
    if "admin" in user_roles:
        return True
    context = await app[TICKETS].contexts.get(room.split(":")[1])
    return context is not None and context.may_scan(user_id, user_roles)
