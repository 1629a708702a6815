"""The email, SMS and push senders, built once from settings at start-up and closed at shutdown."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from redis.asyncio import Redis

from gateway.settings import Settings
from providers.email import EmailSender, create_email_sender
from providers.outbox import OutboxStore
from providers.push import PushSender, create_push_sender
from providers.sms import SmsSender, create_sms_sender


@dataclass(frozen=True)
class Channels:
    email: EmailSender
    sms: SmsSender
    push: PushSender


@asynccontextmanager
async def channels(settings: Settings, redis: Redis, http: httpx.AsyncClient) -> AsyncIterator[Channels]:
    """The three senders every flow that sends reuses, for the process's lifetime."""
    # The outbox keeps messages under this deployment's Redis namespace, where /dev/outbox reads them.
    outbox = OutboxStore(redis, settings.redis.namespace)
    # The FCM adapter parses its key and loads CA certificates while it is built: kept off the event loop.
    push_sender = await asyncio.to_thread(create_push_sender, settings.push, outbox=outbox)
    yield Channels(
        email=create_email_sender(settings.email, outbox=outbox, http=http),
        sms=create_sms_sender(settings.sms, outbox=outbox, http=http),
        push=push_sender,
    )
    close = getattr(push_sender, "aclose", None)
    if close is not None:
        await close()
