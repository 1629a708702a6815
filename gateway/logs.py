"""Structured JSON logs: one configuration for the gateway, its worker and its CLI."""

import logging
import re
import sys
from typing import Any

import orjson
import structlog

from gateway.settings import LoggingSettings

_PHONE = re.compile(r"\+?\d{6,}(\d{2})")
# Keys whose values never reach a log line, whatever logs them.
_SECRET_KEYS = frozenset(
    {"password", "token", "access_token", "refresh_token", "secret", "code", "otp", "authorization", "api_key"}
)


def _redact(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    for key in list(event):
        if key.lower() in _SECRET_KEYS:
            event[key] = "[redacted]"
        elif key.lower() in {"phone", "to", "msisdn"} and isinstance(event[key], str):
            event[key] = _PHONE.sub(lambda match: "*" * 6 + match.group(1), event[key])
    return event


def configure_logging(settings: LoggingSettings) -> None:
    """Route structlog and the standard library's logging through one JSON (or console) renderer."""
    renderer: Any
    if settings.format == "json":
        renderer = structlog.processors.JSONRenderer(serializer=lambda value, **_: orjson.dumps(value).decode())
    else:
        renderer = structlog.dev.ConsoleRenderer()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    # httpx logs every request URL at INFO, and some vendors (Google Maps) take their key in the query string.
    for noisy in ("aiohttp.access", "engineio.server", "socketio.server", "saq", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
