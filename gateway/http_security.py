"""Browser-facing HTTP hardening: the CORS allowlist and the security headers every answer carries."""

from collections.abc import Awaitable, Callable
from http import HTTPStatus

from aiohttp import hdrs, web

from gateway.middleware import REQUEST_ID_HEADER, Handler, Middleware, request_id_of
from gateway.problems import Forbidden, input_prefix
from gateway.responses import problem_response
from gateway.settings import ServerSettings

ResponseHook = Callable[[web.Request, web.StreamResponse], Awaitable[None]]

CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CORS_REQUEST_HEADERS = frozenset({"authorization", "content-type", "idempotency-key", "x-request-id"})
CORS_EXPOSED_HEADERS = (REQUEST_ID_HEADER, "Retry-After", "Location")
CORS_MAX_AGE_S = 600
# Socket.IO checks origins itself against the same list; answering for it too would duplicate the headers.
SOCKETIO_PATH = "/socket.io/"

HSTS = "max-age=63072000; includeSubDomains"
# JSON answers load nothing, so they may load nothing and be framed by no one.
STRICT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The web apps (the door scanner) load everything from the gateway itself: no inline script or style, no CDN.
# connect-src 'self' covers the same-origin WebSocket; blob: is the camera's frames drawn for decoding.
WEB_APP_CSP = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
    "media-src 'self' blob:", "connect-src 'self'", "worker-src 'self'", "manifest-src 'self'",
    "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'",
))  # fmt: skip
# The console's pages post their forms back to the gateway; otherwise they load exactly what the web apps do.
CONSOLE_CSP = WEB_APP_CSP.replace("form-action 'none'", "form-action 'self'")
SERVER_NAME = "lango"


class OriginNotAllowed(Forbidden):
    slug, title = "origin-not-allowed", "This origin may not call the API from a browser"


def cors_middleware(allowed_origins: list[str]) -> Middleware:
    """Answer preflights and mark answers readable for allowlisted origins; credentials are never allowed.

    The API authenticates with bearer tokens, not cookies, so `Access-Control-Allow-Credentials` is never
    sent and browsers never attach ambient credentials to a cross-origin call.
    """
    allowed = frozenset(allowed_origins)

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is None or request.path.startswith(SOCKETIO_PATH):
            return await handler(request)
        if _is_preflight(request):
            if origin not in allowed:
                refused = OriginNotAllowed(f"origin {input_prefix(origin)} is not allowed")
                return problem_response(refused, request.path, request_id_of(request))
            return _preflight_answer(request, origin)
        response = await handler(request)
        response.headers.add(hdrs.VARY, hdrs.ORIGIN)
        if origin in allowed:
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
            response.headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = ", ".join(CORS_EXPOSED_HEADERS)
        return response

    return cors


def _is_preflight(request: web.Request) -> bool:
    return request.method == hdrs.METH_OPTIONS and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers


def _preflight_answer(request: web.Request, origin: str) -> web.Response:
    # This runs outside problem_middleware, so a refusal is answered here rather than raised.
    method = request.headers[hdrs.ACCESS_CONTROL_REQUEST_METHOD].upper()
    asked = {
        name.strip().lower()
        for name in request.headers.get(hdrs.ACCESS_CONTROL_REQUEST_HEADERS, "").split(",")
        if name.strip()
    }
    if method not in CORS_METHODS or not asked <= CORS_REQUEST_HEADERS:
        refused = sorted(asked - CORS_REQUEST_HEADERS) or [method]
        refusal = OriginNotAllowed(f"not allowed cross-origin: {input_prefix(', '.join(refused))}")
        return problem_response(refusal, request.path, request_id_of(request))
    return web.Response(
        status=204,
        headers={
            hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: origin,
            hdrs.ACCESS_CONTROL_ALLOW_METHODS: ", ".join(CORS_METHODS),
            hdrs.ACCESS_CONTROL_ALLOW_HEADERS: ", ".join(sorted(CORS_REQUEST_HEADERS)),
            hdrs.ACCESS_CONTROL_MAX_AGE: str(CORS_MAX_AGE_S),
            hdrs.VARY: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        },
    )


def security_headers(settings: ServerSettings) -> ResponseHook:
    """An `on_response_prepare` hook: it runs for every answer, errors, redirects and streams included.

    A handler may set its own Content-Security-Policy or Cross-Origin-Resource-Policy (the docs page, a
    photo meant for other sites); every other header is forced.
    """
    forced = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        hdrs.SERVER: SERVER_NAME,
    }
    if settings.behind_tls:
        forced["Strict-Transport-Security"] = HSTS
    defaults = {"Content-Security-Policy": STRICT_CSP, "Cross-Origin-Resource-Policy": "same-origin"}

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        if response.status == HTTPStatus.SWITCHING_PROTOCOLS:
            # A WebSocket handshake carries no document to protect, and its response object (headers included)
            # lives as long as the socket: ten thousand sockets would keep 10 MB of these headers.
            return
        response.headers.update(forced)
        for name, value in defaults.items():
            response.headers.setdefault(name, value)

    return add_headers
