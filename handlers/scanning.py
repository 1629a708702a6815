"""Door routes: a scanner checks a ticket in or out over HTTP or its socket, uploads offline scans, reads the kit and stats."""

from aiohttp import web

from gateway.hosted_events.views import CheckinStats
from gateway.http_access import roles
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES
from gateway.tickets.holding import scanner_kit
from gateway.tickets.offline import ScanBatch, apply_offline_scans
from gateway.tickets.scanning import Scanner, TicketScan, redeem_ticket, scan_context_for
from gateway.tickets.views import BatchAnswer, ScanAnswer, ScannerKit

routes = ApiRoutes(tag="scanning")
DOOR_STAFF = roles("scanner", "agent")
EVENT = "/v1/events/{event_id}"


def _scanner(caller: Caller) -> Scanner:
    return Scanner(caller.user_id, caller.roles)


@routes.post(f"{EVENT}/scans", body=TicketScan, response=ScanAnswer, access=DOOR_STAFF, problems=(401, 403, 404, 422),
             description="The same scan as the socket's ticket.scan. A retry with the same nonce answers the same.")  # fmt: skip
async def scan_ticket(request: web.Request, caller: Caller, body: TicketScan) -> ScanAnswer:
    """Check a ticket in (type entry) or out (type exit)"""
    event_id = request.match_info["event_id"]
    context = await scan_context_for(request.app[SERVICES], _scanner(caller), event_id)
    return ScanAnswer.model_validate(await redeem_ticket(request.app[SERVICES], _scanner(caller), context, body))


@routes.post(f"{EVENT}/scans/batch", body=ScanBatch, response=BatchAnswer, access=DOOR_STAFF,
             problems=(401, 403, 404, 422),
             description="Scans made offline, applied in scanned_at order; uploading the same batch again changes "
             "nothing. `conflicts` lists entries the device let through for a ticket already inside.")  # fmt: skip
async def upload_offline_scans(request: web.Request, caller: Caller, body: ScanBatch) -> BatchAnswer:
    """Upload scans made while offline"""
    return BatchAnswer.model_validate(await apply_offline_scans(request.app[SERVICES], _scanner(caller), request.match_info["event_id"], body))


@routes.get(f"{EVENT}/scanner-kit", response=ScannerKit, access=DOOR_STAFF, problems=(401, 403, 404))
async def read_scanner_kit(request: web.Request, caller: Caller) -> ScannerKit:
    """The event's public keys and revocation list, to check tickets offline"""
    return ScannerKit.model_validate(await scanner_kit(request.app[SERVICES], _scanner(caller), request.match_info["event_id"]))


@routes.get(f"{EVENT}/stats", response=CheckinStats, access=DOOR_STAFF, problems=(401, 403, 404))
async def read_checkin_stats(request: web.Request, caller: Caller) -> CheckinStats:
    """Admitted, inside now, per ticket type and per gate"""
    event_id = request.match_info["event_id"]
    await scan_context_for(request.app[SERVICES], _scanner(caller), event_id)
    return CheckinStats.model_validate(await request.app[SERVICES].tickets.counters.read(event_id))
