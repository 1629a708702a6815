"""The edges: HTTP routes, webhook routes and Socket.IO event handlers."""

from aiohttp import web

from gateway.http_metrics import install_metrics_route
from gateway.openapi import build_openapi
from gateway.routing import ApiRoutes
from gateway.settings import Settings
from gateway.state import OPENAPI_DOCUMENT, SOCKETIO
from handlers import (
    admin_accounts,
    admin_paybill,
    admin_payouts,
    admin_privacy,
    admin_refunds,
    analytics,
    api_keys,
    auth,
    auth_account,
    auth_mfa,
    bookings,
    broadcasts,
    calendars,
    conversations,
    dev,
    docs,
    files,
    health,
    hosted_events,
    integrations,
    ledger,
    maps,
    notifications,
    payments,
    payouts,
    privacy,
    profiles,
    properties,
    reconciliation,
    reviews,
    scanning,
    tickets,
    webhooks,
)
from handlers.console import install_console
from handlers.realtime import install_socket_handlers
from handlers.web_apps import install_web_apps

ROUTE_GROUPS: list[ApiRoutes] = [
    health.routes,
    docs.routes,
    auth.routes,
    auth_account.routes,
    auth_mfa.routes,
    admin_accounts.routes,
    admin_paybill.routes,
    admin_payouts.routes,
    admin_refunds.routes,
    api_keys.routes,
    integrations.routes,
    properties.routes,
    bookings.routes,
    payments.routes,
    payouts.routes,
    webhooks.routes,
    files.routes,
    files.storage_routes,
    maps.routes,
    analytics.routes,
    notifications.routes,
    broadcasts.routes,
    hosted_events.routes,
    tickets.routes,
    scanning.routes,
    ledger.routes,
    conversations.routes,
    profiles.routes,
    reviews.routes,
    privacy.routes,
    admin_privacy.routes,
    reconciliation.routes,
    calendars.routes,
]
# Routes that exist only in sandbox mode: in production they are not merely refused, they are absent.
SANDBOX_ROUTE_GROUPS: list[ApiRoutes] = [dev.routes]


def install_routes(app: web.Application, settings: Settings) -> None:
    """Add every route group to the application and publish their OpenAPI document."""
    groups = ROUTE_GROUPS + (SANDBOX_ROUTE_GROUPS if settings.sandbox else [])
    for group in groups:
        group.install(app)
    install_metrics_route(app, settings.metrics)
    docs.install_docs_assets(app)
    install_socket_handlers(app, app[SOCKETIO])
    install_web_apps(app, settings)
    install_console(app, settings)
    operations = [operation for group in groups for operation in group.operations]
    app[OPENAPI_DOCUMENT] = build_openapi(operations, title="Lango API", version="1", server_url=settings.server.public_url)
