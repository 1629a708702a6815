"""Email adapter for any SMTP relay, through aiosmtplib: STARTTLS or implicit TLS, optional login."""

import ssl
from email.headerregistry import Address
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import ClassVar, Literal, Self

import aiosmtplib
from pydantic import Field, SecretStr, model_validator

from providers.delivery import SendReceipt
from providers.email.base import EmailMessage, SenderAddress
from providers.errors import ProviderMisconfigured, VendorRejected, VendorUnavailable
from providers.settings import VendorSettings

VENDOR = "smtp"


class SmtpSettings(VendorSettings):
    """The `email.smtp` settings: how to reach and log in to the relay; `sender` is the From header, e.g.
    `Lango <hello@lango.africa>`."""

    section: ClassVar[str] = "email.smtp"

    host: str | None = Field(None, min_length=1)
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: SenderAddress | None = None
    timeout_seconds: float = Field(15.0, gt=0)
    ca_file: Path | None = None
    # The EHLO name; left unset, aiosmtplib looks up this host's FQDN on every connection.
    helo_hostname: str | None = None

    @model_validator(mode="after")
    def _login_is_complete(self) -> Self:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        return self


class SmtpEmailSender:
    name = VENDOR

    def __init__(self, settings: SmtpSettings) -> None:
        settings.require("host", "sender", vendor=VENDOR)
        self._settings = settings
        # Built once here: loading CA certificates reads files, which must not happen on the event loop per send.
        self._tls_context = ssl.create_default_context(cafile=settings.ca_file) if settings.security != "none" else None
        display_name, address = parseaddr(settings.sender)
        self._from = Address(display_name=display_name, addr_spec=address)

    def _compose(self, message: EmailMessage) -> MimeMessage:
        mime = MimeMessage()
        mime["From"] = self._from
        mime["To"] = message.to
        mime["Subject"] = message.subject
        mime["Date"] = formatdate(usegmt=True)
        mime["Message-ID"] = make_msgid(domain=self._from.domain)
        mime.set_content(message.text)
        if message.html is not None:
            mime.add_alternative(message.html, subtype="html")
        return mime

    async def send(self, message: EmailMessage) -> SendReceipt:
        mime = self._compose(message)
        settings = self._settings
        try:
            await aiosmtplib.send(
                mime,
                hostname=settings.host,
                port=settings.port,
                username=settings.username,
                password=settings.password.get_secret_value() if settings.password else None,
                use_tls=settings.security == "tls",
                start_tls=settings.security == "starttls",
                tls_context=self._tls_context,
                timeout=settings.timeout_seconds,
                local_hostname=settings.helo_hostname,
            )
        except aiosmtplib.SMTPAuthenticationError as error:
            raise ProviderMisconfigured("SMTP login refused", vendor=VENDOR, reason=error.message) from error
        except aiosmtplib.SMTPNotSupported as error:
            raise ProviderMisconfigured(
                "SMTP relay lacks a required feature", vendor=VENDOR, reason=str(error)
            ) from error
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise _by_reply_code(error.recipients[0].code, error.recipients[0].message) from error
        except aiosmtplib.SMTPResponseException as error:
            raise _by_reply_code(error.code, error.message) from error
        except (aiosmtplib.SMTPException, OSError) as error:
            raise VendorUnavailable("SMTP relay unreachable", vendor=VENDOR, reason=repr(error)) from error
        return SendReceipt(provider=self.name, message_id=mime["Message-ID"])


def _by_reply_code(code: int, reply: str) -> VendorUnavailable | VendorRejected:
    """4xx replies are transient by SMTP's own definition; 5xx ones are permanent."""
    if 400 <= code < 500:
        return VendorUnavailable(f"SMTP relay deferred the message ({code})", vendor=VENDOR, reason=reply)
    return VendorRejected(f"SMTP relay refused the message ({code})", vendor=VENDOR, reason=reply)
