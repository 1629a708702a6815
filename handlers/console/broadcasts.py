"""Admins send broadcasts at the console and follow them: POST /v1/admin/broadcasts's own start, validated by its
own request model, and the newest broadcasts with how far each has come."""

from aiohttp import web

from gateway.notifications.broadcasts import BroadcastRequest, recent_broadcasts, start_broadcast
from gateway.notifications.views import BroadcastView
from gateway.problems import Problem
from gateway.request_models import validate
from gateway.state import SERVICES
from handlers.broadcasts import ADMIN
from handlers.console.session import SignedIn, check_form_token, console_page, render_for, see_other, signed_in

routes = web.RouteTableDef()
BROADCASTS = "/console/broadcasts"
PAGE_SIZE = 20


async def _broadcasts_page(request: web.Request, at: SignedIn, *, status: int = 200, **outcome: object) -> web.Response:
    found, next_cursor = await recent_broadcasts(None, PAGE_SIZE)
    context = {"problem": None, "started": request.query.get("done") == "started", "form": {}, **outcome}
    views = [BroadcastView.of(broadcast) for broadcast in found]
    return await render_for(request, at, "broadcasts.html", status=status, broadcasts=views, next_cursor=next_cursor, **context)


@routes.get(BROADCASTS)
@console_page
async def list_broadcasts(request: web.Request) -> web.StreamResponse:
    return await _broadcasts_page(request, await signed_in(request, ADMIN))


@routes.post(BROADCASTS)
@console_page
async def send(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, ADMIN)
    form = await check_form_token(request, at.session)
    audience = {"kind": form.get("kind", ""), "value": form.get("value") or None}
    try:
        body = validate(BroadcastRequest, {"audience": audience, "title": form.get("title", ""), "message": form.get("message", "")}, location="body")
        await start_broadcast(request.app[SERVICES], at.caller.user_id, body)  # type: ignore[arg-type]
    except Problem as problem:
        return await _broadcasts_page(request, at, status=problem.status, problem=problem, form=form)
    return see_other(f"{BROADCASTS}?done=started")
