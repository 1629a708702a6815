"""The email, SMS and push senders, built once from settings at start-up and closed at shutdown."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from gateway.settings import Settings
from gateway.state import EMAIL_SENDER, HTTP_CLIENT, PUSH_SENDER, REDIS, SETTINGS, SMS_SENDER
from providers.email import create_email_sender
from providers.push import create_push_sender
from providers.sms import create_sms_sender

OUTBOX = "outbox"


def adapter_options(settings: Settings, provider: str, section: BaseModel) -> dict[str, Any]:
    """The chosen vendor's settings as adapter options; unset keys are left to the adapter's own defaults."""
    if provider == OUTBOX:
        # The outbox keeps messages under this deployment's Redis namespace, where /dev/outbox reads them.
        return {"namespace": settings.redis.namespace}
    vendor = getattr(section, provider)
    return {key: value for key, value in vendor if value is not None}


async def channels_context(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context after Redis and the HTTP client; every flow that sends reuses these three senders."""
    settings = app[SETTINGS]
    redis, http = app[REDIS], app[HTTP_CLIENT]
    email, sms, push = settings.email, settings.sms, settings.push
    app[EMAIL_SENDER] = create_email_sender(
        email.provider, adapter_options(settings, email.provider, email), redis=redis, http=http
    )
    app[SMS_SENDER] = create_sms_sender(
        sms.provider, adapter_options(settings, sms.provider, sms), redis=redis, http=http
    )
    # The FCM adapter parses its key and loads CA certificates while it is built: kept off the event loop.
    app[PUSH_SENDER] = await asyncio.to_thread(
        create_push_sender, push.provider, adapter_options(settings, push.provider, push), redis=redis
    )
    yield
    close = getattr(app[PUSH_SENDER], "aclose", None)
    if close is not None:
        await close()
