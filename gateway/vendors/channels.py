"""The email, SMS and push senders, built once from settings at start-up and closed at shutdown."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel
from redis.asyncio import Redis

from gateway.settings import Settings
from providers.email import EmailSender, create_email_sender
from providers.push import create_push_sender
from providers.push.base import PushSender
from providers.sms import SmsSender, create_sms_sender

OUTBOX = "outbox"


def adapter_options(settings: Settings, provider: str, section: BaseModel) -> dict[str, Any]:
    """The chosen vendor's settings as adapter options; unset keys are left to the adapter's own defaults."""
    if provider == OUTBOX:
        # The outbox keeps messages under this deployment's Redis namespace, where /dev/outbox reads them.
        return {"namespace": settings.redis.namespace}
    vendor = getattr(section, provider)
    return {key: value for key, value in vendor if value is not None}


@dataclass(frozen=True)
class Channels:
    email: EmailSender
    sms: SmsSender
    push: PushSender


@asynccontextmanager
async def channels(settings: Settings, redis: Redis, http: httpx.AsyncClient) -> AsyncIterator[Channels]:
    """The three senders every flow that sends reuses, for the process's lifetime."""
    email, sms, push = settings.email, settings.sms, settings.push
    # The FCM adapter parses its key and loads CA certificates while it is built: kept off the event loop.
    push_sender = await asyncio.to_thread(
        create_push_sender, push.provider, adapter_options(settings, push.provider, push), redis=redis
    )
    yield Channels(
        email=create_email_sender(email.provider, adapter_options(settings, email.provider, email), redis=redis, http=http),
        sms=create_sms_sender(sms.provider, adapter_options(settings, sms.provider, sms), redis=redis, http=http),
        push=push_sender,
    )
    close = getattr(push_sender, "aclose", None)
    if close is not None:
        await close()
