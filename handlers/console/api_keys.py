"""Admins manage integration API keys at the console: list, create and rotate (the secret shown on that one answer
only), revoke; each the admin API's own lifecycle call, validated by its own request model."""

from aiohttp import web

from documents.api_key import API_KEY_SCOPES
from gateway.integrations.key_lifecycle import create_key, keys_newest_first, revoke_key, rotate_key
from gateway.integrations.views import ApiKeyView
from gateway.problems import Problem
from gateway.request_models import validate
from gateway.state import SERVICES
from handlers.api_keys import ADMINS, ApiKeyRequest
from handlers.console.session import SignedIn, check_form_token, console_page, render_for, see_other, signed_in

routes = web.RouteTableDef()
API_KEYS = "/console/api-keys"


async def _keys_page(request: web.Request, at: SignedIn, *, status: int = 200, **outcome: object) -> web.Response:
    keys = [ApiKeyView.of(key) for key in await keys_newest_first()]
    context = {"problem": None, "secret": None, "revoked": request.query.get("done") == "revoked", **outcome}
    return await render_for(request, at, "api_keys.html", status=status, keys=keys, scopes=API_KEY_SCOPES, **context)


@routes.get(API_KEYS)
@console_page
async def list_keys(request: web.Request) -> web.StreamResponse:
    return await _keys_page(request, await signed_in(request, ADMINS))


@routes.post(API_KEYS)
@console_page
async def create(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, ADMINS)
    await check_form_token(request, at.session)
    form = await request.post()
    expires = str(form.get("expires_on", ""))
    given = {
        "name": form.get("name", ""), "agent_id": form.get("agent_id", ""), "scopes": form.getall("scopes", []),
        # A day is chosen in the form: the key lasts until that day ends, UTC.
        "expires_at": f"{expires}T23:59:59Z" if expires else "",
    }  # fmt: skip
    try:
        body = validate(ApiKeyRequest, given, location="body")
        key, secret = await create_key(request.app[SERVICES], at.caller, body.name, body.scopes, body.agent_id, body.expires_at)  # type: ignore[attr-defined]
    except Problem as problem:
        return await _keys_page(request, at, status=problem.status, problem=problem)
    return await _keys_page(request, at, status=201, secret={"name": key.name, "value": secret})


@routes.post(API_KEYS + "/{key_id}/rotate")
@console_page
async def rotate(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, ADMINS)
    await check_form_token(request, at.session)
    rotated, secret = await rotate_key(request.app[SERVICES], at.caller, request.match_info["key_id"])
    return await _keys_page(request, at, secret={"name": rotated.name, "value": secret})


@routes.post(API_KEYS + "/{key_id}/revoke")
@console_page
async def revoke(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, ADMINS)
    await check_form_token(request, at.session)
    await revoke_key(request.app[SERVICES], at.caller, request.match_info["key_id"])
    return see_other(f"{API_KEYS}?done=revoked")
