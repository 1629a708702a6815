"""What the account flows need, set up once the Redis and HTTP clients exist: hasher, limits, senders."""

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from gateway.security.passwords import PasswordHasher
from gateway.security.rate_limits import RateLimiter
from gateway.settings import Settings
from gateway.state import EMAIL_SENDER, HTTP_CLIENT, PASSWORDS, RATE_LIMITER, REDIS, SETTINGS, SMS_SENDER
from providers.email import create_email_sender
from providers.sms import create_sms_sender


def _sender_options(settings: Settings, provider: str) -> dict[str, Any]:
    # The outbox keeps messages under this deployment's Redis namespace, where /dev/outbox reads them.
    return {"namespace": settings.redis.namespace} if provider == "outbox" else {}


async def accounts_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    redis, http = app[REDIS], app[HTTP_CLIENT]
    app[PASSWORDS] = PasswordHasher(settings.auth.bcrypt_cost)
    app[RATE_LIMITER] = RateLimiter(redis, settings.redis, settings.rate_limits)
    app[EMAIL_SENDER] = create_email_sender(
        settings.email.provider, _sender_options(settings, settings.email.provider), redis=redis, http=http
    )
    app[SMS_SENDER] = create_sms_sender(
        settings.sms.provider, _sender_options(settings, settings.sms.provider), redis=redis, http=http
    )
    yield
