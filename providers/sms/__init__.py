"""The SMS channel: its contract, one adapter per vendor, the [sms] settings, and the registry that picks one."""

from typing import Literal

import httpx

from providers.delivery import SendReceipt
from providers.outbox import OutboxStore
from providers.settings import Section
from providers.sms.africastalking import AfricasTalkingSettings, AfricasTalkingSmsSender
from providers.sms.base import PhoneE164, SmsMessage, SmsSender
from providers.sms.outbox import OutboxSmsSender
from providers.sms.twilio import TwilioSettings, TwilioSmsSender


class SmsSettings(Section):
    """The [sms] section: the adapter that sends, and each vendor's settings."""

    provider: Literal["outbox", "africastalking", "twilio"] = "outbox"
    africastalking: AfricasTalkingSettings = AfricasTalkingSettings()
    twilio: TwilioSettings = TwilioSettings()


def create_sms_sender(settings: SmsSettings, *, outbox: OutboxStore, http: httpx.AsyncClient) -> SmsSender:
    """The adapter `settings.provider` names, built from its vendor's settings; the outbox keeps instead of sending."""
    if settings.provider == "africastalking":
        return AfricasTalkingSmsSender(settings.africastalking, http)
    if settings.provider == "twilio":
        return TwilioSmsSender(settings.twilio, http)
    return OutboxSmsSender(outbox)


__all__ = [
    "AfricasTalkingSettings",
    "AfricasTalkingSmsSender",
    "OutboxSmsSender",
    "PhoneE164",
    "SendReceipt",
    "SmsMessage",
    "SmsSender",
    "SmsSettings",
    "TwilioSettings",
    "TwilioSmsSender",
    "create_sms_sender",
]
