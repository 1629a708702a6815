"""Admin broadcast routes: send one message to all users, a role, or an event's ticket holders, and watch it go."""

from aiohttp import web

from gateway.http_access import roles
from gateway.notifications.broadcasts import BroadcastRequest, broadcast_by_id, start_broadcast
from gateway.notifications.views import BroadcastView
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="admin")
ADMIN = roles("admin")


@routes.post(
    "/v1/admin/broadcasts",
    body=BroadcastRequest,
    response=BroadcastView,
    status=202,
    access=ADMIN,
    problems=(400, 401, 403, 415, 422),
    description="Sent in batches by the job queue; follow progress at GET /v1/admin/broadcasts/{id} "
    "or live through `broadcast.progress` events on the admin's socket.",
)
async def create_broadcast(request: web.Request, caller: Caller, body: BroadcastRequest) -> BroadcastView:
    """Start a broadcast"""
    return BroadcastView.of(await start_broadcast(request.app[SERVICES], caller.user_id, body))


@routes.get("/v1/admin/broadcasts/{broadcast_id}", response=BroadcastView, access=ADMIN, problems=(401, 403, 404))
async def read_broadcast(request: web.Request, caller: Caller) -> BroadcastView:
    """A broadcast and how far it has come: total, sent, failed"""
    return BroadcastView.of(await broadcast_by_id(request.match_info["broadcast_id"]))
