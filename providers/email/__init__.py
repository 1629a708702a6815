"""The email channel: its contract, one adapter per vendor, the [email] settings, and the registry that picks one."""

from typing import Literal

import httpx

from providers.delivery import SendReceipt
from providers.email.base import EmailAddress, EmailMessage, EmailSender, SenderAddress
from providers.email.outbox import OutboxEmailSender
from providers.email.resend import ResendEmailSender, ResendSettings
from providers.email.sendgrid import SendGridEmailSender, SendGridSettings
from providers.email.smtp import SmtpEmailSender, SmtpSettings
from providers.outbox import OutboxStore
from providers.settings import Section


class EmailSettings(Section):
    """The [email] section: the adapter that sends, and each vendor's settings."""

    provider: Literal["outbox", "smtp", "resend", "sendgrid"] = "outbox"
    smtp: SmtpSettings = SmtpSettings()
    resend: ResendSettings = ResendSettings()
    sendgrid: SendGridSettings = SendGridSettings()


def create_email_sender(settings: EmailSettings, *, outbox: OutboxStore, http: httpx.AsyncClient) -> EmailSender:
    """The adapter `settings.provider` names, built from its vendor's settings; the outbox keeps instead of sending."""
    if settings.provider == "smtp":
        return SmtpEmailSender(settings.smtp)
    if settings.provider == "resend":
        return ResendEmailSender(settings.resend, http)
    if settings.provider == "sendgrid":
        return SendGridEmailSender(settings.sendgrid, http)
    return OutboxEmailSender(outbox)


__all__ = [
    "EmailAddress",
    "EmailMessage",
    "EmailSender",
    "EmailSettings",
    "OutboxEmailSender",
    "ResendEmailSender",
    "ResendSettings",
    "SendGridEmailSender",
    "SendGridSettings",
    "SendReceipt",
    "SenderAddress",
    "SmtpEmailSender",
    "SmtpSettings",
    "create_email_sender",
]
