"""The push channel: its contract, the FCM adapter, the outbox, the [push] settings, and the registry that picks one."""

from typing import Literal

from providers.outbox import OutboxStore
from providers.push.base import DeviceToken, PushMessage, PushResult, PushSender, TokenOutcome
from providers.push.fcm import FCM_BATCH_LIMIT, FcmPushSender, FcmSettings
from providers.push.outbox import OutboxPushSender
from providers.settings import Section


class PushSettings(Section):
    """The [push] section: the adapter that pushes to phones, and FCM's settings."""

    provider: Literal["outbox", "fcm"] = "outbox"
    fcm: FcmSettings = FcmSettings()


def create_push_sender(settings: PushSettings, *, outbox: OutboxStore) -> PushSender:
    """The adapter `settings.provider` names; building FCM's parses its key and loads CA certificates (blocking)."""
    if settings.provider == "fcm":
        return FcmPushSender(settings.fcm)
    return OutboxPushSender(outbox)


__all__ = [
    "FCM_BATCH_LIMIT",
    "DeviceToken",
    "FcmPushSender",
    "FcmSettings",
    "OutboxPushSender",
    "PushMessage",
    "PushResult",
    "PushSender",
    "PushSettings",
    "TokenOutcome",
    "create_push_sender",
]
