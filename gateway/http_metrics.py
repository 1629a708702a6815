"""Metrics over HTTP: every answer timed by route template, and GET /metrics, outside the OpenAPI document and
optionally behind a bearer token; the gateway serves both, the worker only the exposition."""

import hmac
import time

from aiohttp import hdrs, web

from gateway.metrics import HTTP_REQUEST_DURATION, HTTP_REQUESTS_IN_FLIGHT, render_metrics
from gateway.middleware import Handler, route_of
from gateway.problems import Unauthenticated
from gateway.settings import MetricsSettings

METRICS_PATH = "/metrics"
# Long-lived Socket.IO connections would swamp the latency histogram; sockets have their own gauge.
UNTIMED_ROUTE_PREFIX = "/socket.io"


@web.middleware
async def http_metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Time every answer under its route template, so ids never become label values."""
    route = route_of(request)
    if route.startswith(UNTIMED_ROUTE_PREFIX):
        return await handler(request)
    started = time.perf_counter()
    status = 500
    HTTP_REQUESTS_IN_FLIGHT.inc()
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exception:
        status = exception.status
        raise
    finally:
        HTTP_REQUESTS_IN_FLIGHT.dec()
        HTTP_REQUEST_DURATION.labels(request.method, route, f"{status // 100}xx").observe(time.perf_counter() - started)


def install_metrics_route(app: web.Application, settings: MetricsSettings) -> None:
    """Add /metrics when `metrics.enabled`; it is text/plain, so it stays out of the JSON API's OpenAPI."""
    if not settings.enabled:
        return
    # An empty LANGO_METRICS__TOKEN (as compose passes an unset one) means no token.
    token = settings.token.get_secret_value() if settings.token is not None else ""

    async def metrics_exposition(request: web.Request) -> web.Response:
        if token:
            offered = request.headers.get(hdrs.AUTHORIZATION, "")
            if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
                raise Unauthenticated("send the metrics token as a bearer token", headers={"WWW-Authenticate": "Bearer"})
        body, content_type = render_metrics()
        response = web.Response(body=body)
        # Set whole: prometheus_client's type carries the exposition version, which content_type= would drop.
        response.headers[hdrs.CONTENT_TYPE] = content_type
        return response

    app.router.add_get(METRICS_PATH, metrics_exposition, name="metrics_exposition")
