"""The SMS channel: its contract, one adapter per vendor, and the registry that picks one by name."""

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel
from redis.asyncio import Redis

from providers.delivery import SendReceipt
from providers.outbox import OutboxConfig
from providers.registry import AdapterResources, AdapterSpec, build_adapter
from providers.sms.africastalking import AfricasTalkingConfig, AfricasTalkingSmsSender
from providers.sms.base import PhoneE164, SmsMessage, SmsSender
from providers.sms.outbox import OutboxSmsSender
from providers.sms.twilio import TwilioConfig, TwilioSmsSender

SMS_PROVIDERS: Mapping[str, AdapterSpec[SmsSender]] = {
    "outbox": AdapterSpec(OutboxConfig, lambda config, res: OutboxSmsSender(config, res.require_redis("sms.outbox"))),
    "africastalking": AdapterSpec(
        AfricasTalkingConfig,
        lambda config, res: AfricasTalkingSmsSender(config, res.require_http("sms.africastalking")),
    ),
    "twilio": AdapterSpec(TwilioConfig, lambda config, res: TwilioSmsSender(config, res.require_http("sms.twilio"))),
}


def create_sms_sender(
    name: str,
    options: Mapping[str, Any] | BaseModel | None = None,
    *,
    redis: Redis | None = None,
    http: httpx.AsyncClient | None = None,
) -> SmsSender:
    """The SMS adapter configured as `name` (outbox, africastalking, twilio) with its settings."""
    return build_adapter("sms", SMS_PROVIDERS, name, options or {}, AdapterResources(redis=redis, http=http))


__all__ = [
    "SMS_PROVIDERS",
    "AfricasTalkingConfig",
    "AfricasTalkingSmsSender",
    "OutboxSmsSender",
    "PhoneE164",
    "SendReceipt",
    "SmsMessage",
    "SmsSender",
    "TwilioConfig",
    "TwilioSmsSender",
    "create_sms_sender",
]
