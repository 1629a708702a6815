"""Structured JSON logs: one configuration for the gateway, its worker and its CLI."""

import logging
import re
import sys
from typing import Any

import orjson
import structlog

from gateway.settings import LoggingSettings

# Whole words of a key (split on _ and -) that mark its value secret: `password`, `mpesa_passkey`, `x-api-key`.
_SECRET_WORDS = frozenset(
    {
        "password", "passwd", "passkey", "token", "secret", "authorization", "cookie", "otp", "pin",
        "dsn", "signature", "cvv", "credentials", "jwt",
    }
)
# Whole keys only: `code` is a one-time code, while `result_code` is a vendor's status worth keeping.
_SECRET_KEYS = frozenset({"code", "api_key", "apikey", "x-api-key", "private_key", "client_secret", "card_number"})
_PHONE_KEYS = frozenset({"phone", "to", "msisdn", "phone_number", "recipient"})
REDACTED = "[redacted]"
# East African mobile numbers in any text: +2547xxxxxxxx, 2547xxxxxxxx, 07xxxxxxxx. The last two digits stay.
_PHONE_IN_TEXT = re.compile(r"(?<![\w.])(?:\+?2[0-9]{2}|0)[17][0-9]{6}([0-9]{2})(?![\w.])")
_PHONE = re.compile(r"\+?\d{6,}(\d{2})")
_SECRETS_IN_TEXT = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    # Integration API keys (gateway.integrations.api_keys) wherever they are pasted.
    (re.compile(r"\blk_[A-Za-z0-9_-]{20,}"), REDACTED),
    # Credentials inside URLs: scheme://user:password@host.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), r"\1" + REDACTED + "@"),
    (re.compile(r"(?i)\b(password|passkey|token|secret|api_key)=[^&\s]+"), r"\1=" + REDACTED),
)


def is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in _SECRET_KEYS or any(word in _SECRET_WORDS for word in re.split(r"[_\-\s]+", lowered))


def _mask_text(text: str) -> str:
    for pattern, replacement in _SECRETS_IN_TEXT:
        text = pattern.sub(replacement, text)
    return _PHONE_IN_TEXT.sub(lambda match: "*" * (len(match.group(0)) - 2) + match.group(1), text)


def scrub(key: str, value: Any) -> Any:
    """`value` with secrets masked, judged by its key and its text, at any depth."""
    if is_secret_key(key):
        return REDACTED
    if isinstance(value, str):
        if key.lower() in _PHONE_KEYS:
            value = _PHONE.sub(lambda match: "*" * 6 + match.group(1), value)
        return _mask_text(value)
    if isinstance(value, dict):
        return {inner: scrub(str(inner), item) for inner, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(key, item) for item in value]
    return value


def _redact(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """Mask secrets and phone numbers in every field, nested ones and rendered tracebacks included."""
    return {key: scrub(key, value) for key, value in event.items()}


def configure_logging(settings: LoggingSettings) -> None:
    """Route structlog and the standard library's logging through one JSON (or console) renderer."""
    renderer: Any
    if settings.format == "json":
        renderer = structlog.processors.JSONRenderer(serializer=lambda value, **_: orjson.dumps(value).decode())
    else:
        # Plain tracebacks: rich's rendering of one (with its locals) holds the event loop for over half a second.
        renderer = structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
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
            # After format_exc_info, so an exception's message and traceback are scrubbed too.
            _redact,
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
