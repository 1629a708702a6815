"""The email channel: its contract, one adapter per vendor, and the registry that picks one by name."""

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel
from redis.asyncio import Redis

from providers.delivery import SendReceipt
from providers.email.base import EmailAddress, EmailMessage, EmailSender, SenderAddress
from providers.email.outbox import OutboxEmailSender
from providers.email.resend import ResendConfig, ResendEmailSender
from providers.email.sendgrid import SendGridConfig, SendGridEmailSender
from providers.email.smtp import SmtpConfig, SmtpEmailSender
from providers.outbox import OutboxConfig
from providers.registry import AdapterResources, AdapterSpec, build_adapter

EMAIL_PROVIDERS: Mapping[str, AdapterSpec[EmailSender]] = {
    "outbox": AdapterSpec(
        OutboxConfig, lambda config, res: OutboxEmailSender(config, res.require_redis("email.outbox"))
    ),
    "smtp": AdapterSpec(SmtpConfig, lambda config, res: SmtpEmailSender(config)),
    "resend": AdapterSpec(
        ResendConfig, lambda config, res: ResendEmailSender(config, res.require_http("email.resend"))
    ),
    "sendgrid": AdapterSpec(
        SendGridConfig, lambda config, res: SendGridEmailSender(config, res.require_http("email.sendgrid"))
    ),
}


def create_email_sender(
    name: str,
    options: Mapping[str, Any] | BaseModel | None = None,
    *,
    redis: Redis | None = None,
    http: httpx.AsyncClient | None = None,
) -> EmailSender:
    """The email adapter configured as `name` (outbox, smtp, resend, sendgrid) with its settings."""
    return build_adapter("email", EMAIL_PROVIDERS, name, options or {}, AdapterResources(redis=redis, http=http))


__all__ = [
    "EMAIL_PROVIDERS",
    "EmailAddress",
    "EmailMessage",
    "EmailSender",
    "OutboxEmailSender",
    "ResendConfig",
    "ResendEmailSender",
    "SendGridConfig",
    "SendGridEmailSender",
    "SendReceipt",
    "SenderAddress",
    "SmtpConfig",
    "SmtpEmailSender",
    "create_email_sender",
]
