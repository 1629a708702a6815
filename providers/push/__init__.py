"""The push channel: its contract, the FCM adapter, the outbox, and the registry that picks one by name."""

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from redis.asyncio import Redis

from providers.outbox import OutboxConfig
from providers.push.base import DeviceToken, PushMessage, PushResult, PushSender, TokenOutcome
from providers.push.fcm import FCM_BATCH_LIMIT, FcmConfig, FcmPushSender
from providers.push.outbox import OutboxPushSender
from providers.registry import AdapterResources, AdapterSpec, build_adapter

PUSH_PROVIDERS: Mapping[str, AdapterSpec[PushSender]] = {
    "outbox": AdapterSpec(OutboxConfig, lambda config, res: OutboxPushSender(config, res.require_redis("push.outbox"))),
    "fcm": AdapterSpec(FcmConfig, lambda config, res: FcmPushSender(config)),
}


def create_push_sender(
    name: str, options: Mapping[str, Any] | BaseModel | None = None, *, redis: Redis | None = None
) -> PushSender:
    """The push adapter configured as `name` (outbox, fcm) with its settings."""
    return build_adapter("push", PUSH_PROVIDERS, name, options or {}, AdapterResources(redis=redis))


__all__ = [
    "FCM_BATCH_LIMIT",
    "PUSH_PROVIDERS",
    "DeviceToken",
    "FcmConfig",
    "FcmPushSender",
    "OutboxPushSender",
    "PushMessage",
    "PushResult",
    "PushSender",
    "TokenOutcome",
    "create_push_sender",
]
