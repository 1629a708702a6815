"""GET /metrics: the Prometheus text exposition, outside the OpenAPI document, optionally behind a bearer token."""

import hmac

from aiohttp import hdrs, web

from gateway.metrics import render_metrics
from gateway.problems import Unauthenticated
from gateway.state import SETTINGS

METRICS_PATH = "/metrics"


async def metrics_exposition(request: web.Request) -> web.Response:
    token = request.app[SETTINGS].metrics.token
    # An empty LANGO_METRICS__TOKEN (as compose passes an unset one) means no token.
    if token is not None and token.get_secret_value():
        offered = request.headers.get(hdrs.AUTHORIZATION, "")
        expected = f"Bearer {token.get_secret_value()}"
        if not hmac.compare_digest(offered.encode(), expected.encode()):
            raise Unauthenticated("send the metrics token as a bearer token", headers={"WWW-Authenticate": "Bearer"})
    body, content_type = render_metrics()
    response = web.Response(body=body)
    # Set whole: prometheus_client's type carries the exposition version, which content_type= would drop.
    response.headers[hdrs.CONTENT_TYPE] = content_type
    return response


def install_metrics_route(app: web.Application) -> None:
    """Add /metrics when `metrics.enabled`; it is text/plain, so it stays out of the JSON API's OpenAPI."""
    if app[SETTINGS].metrics.enabled:
        app.router.add_get(METRICS_PATH, metrics_exposition, name="metrics_exposition")
