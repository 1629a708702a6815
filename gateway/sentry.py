"""Error reporting to Sentry, on only when `sentry.dsn` (LANGO_SENTRY__DSN) is set."""

import logging
from typing import Any

import sentry_sdk
from sentry_sdk.integrations.aiohttp import AioHttpIntegration
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.integrations.modules import ModulesIntegration

from gateway.logs import scrub
from gateway.settings import Settings

# Of a request only the method: bodies, query strings, headers and even paths (webhook secrets) may carry
# secrets, and the event's transaction already names the route.
_KEPT_REQUEST_KEYS = ("method",)


def configure_sentry(settings: Settings, *, component: str) -> bool:
    """Start the SDK for this process (`component`: gateway or worker); answer whether it is on."""
    if settings.sentry.dsn is None or not settings.sentry.dsn.get_secret_value():
        return False
    sentry_sdk.init(
        dsn=settings.sentry.dsn.get_secret_value(),
        environment=settings.environment,
        server_name=component,
        traces_sample_rate=settings.sentry.traces_sample_rate,
        # Frame locals hold tokens, passwords and request bodies; the traceback itself is enough.
        include_local_variables=False,
        integrations=[AioHttpIntegration(), LoggingIntegration(level=logging.INFO, event_level=logging.ERROR)],
        # The modules list is built on the first event by reading every installed distribution's metadata
        # from disk, on the event loop; the lockfile already says what is installed.
        disabled_integrations=[ModulesIntegration()],
        before_send=scrub_event,
    )
    return True


def scrub_event(event: dict[str, Any], _: dict[str, Any]) -> dict[str, Any]:
    """Keep a request's method only, and mask secrets and phone numbers everywhere else, as the logs do."""
    request = event.get("request")
    if isinstance(request, dict):
        event["request"] = {key: request[key] for key in _KEPT_REQUEST_KEYS if key in request}
    # Breadcrumbs and messages come from log records before the log formatter has redacted them.
    return {key: scrub(key, value) for key, value in event.items()}
