"""The edges: HTTP routes, webhook routes and Socket.IO event handlers."""

from aiohttp import web

from gateway.openapi import build_openapi
from gateway.routing import ApiRoutes
from gateway.state import OPENAPI_DOCUMENT, SETTINGS
from handlers import auth, docs, health

ROUTE_GROUPS: list[ApiRoutes] = [health.routes, docs.routes, auth.routes]


def install_routes(app: web.Application) -> None:
    """Add every route group to the application and publish their OpenAPI document."""
    for group in ROUTE_GROUPS:
        group.install(app)
    operations = [operation for group in ROUTE_GROUPS for operation in group.operations]
    app[OPENAPI_DOCUMENT] = build_openapi(
        operations, title="Lango API", version="1", server_url=app[SETTINGS].server.public_url
    )
