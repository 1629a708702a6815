"""Email adapter for Twilio SendGrid's v3 Mail Send API (`POST /v3/mail/send`, Bearer API key)."""

from email.utils import parseaddr
from typing import ClassVar

import httpx
from pydantic import SecretStr

from providers.delivery import SendReceipt
from providers.email.base import EmailMessage, SenderAddress
from providers.errors import VendorUnavailable
from providers.settings import HttpUrl, VendorSettings
from providers.vendor_http import call_vendor, vendor_reason

VENDOR = "sendgrid"
BASE_URL = "https://api.sendgrid.com"
TIMEOUT_S = 10.0


class SendGridSettings(VendorSettings):
    """The `email.sendgrid` settings; `sender` is a verified Sender Identity, with or without a display name; EU
    accounts use https://api.eu.sendgrid.com."""

    section: ClassVar[str] = "email.sendgrid"

    api_key: SecretStr | None = None
    sender: SenderAddress | None = None
    # Another API host (an emulator, the EU one); unset, BASE_URL.
    base_url: HttpUrl | None = None


class SendGridEmailSender:
    name = VENDOR

    def __init__(self, settings: SendGridSettings, http: httpx.AsyncClient) -> None:
        settings.require("api_key", "sender", vendor=VENDOR)
        self._settings = settings
        self._http = http
        self._url = f"{(settings.base_url or BASE_URL).rstrip('/')}/v3/mail/send"
        display_name, address = parseaddr(settings.sender)
        self._from = {"email": address, "name": display_name} if display_name else {"email": address}

    def _payload(self, message: EmailMessage) -> dict:
        # SendGrid requires text/plain to come before text/html.
        content = [{"type": "text/plain", "value": message.text}]
        if message.html is not None:
            content.append({"type": "text/html", "value": message.html})
        return {
            "personalizations": [{"to": [{"email": message.to}]}],
            "from": self._from,
            "subject": message.subject,
            "content": content,
            "categories": [message.kind],
            "custom_args": {**message.tags, "kind": message.kind},
        }

    async def send(self, message: EmailMessage) -> SendReceipt:
        response = await call_vendor(
            self._http,
            VENDOR,
            "POST",
            self._url,
            json=self._payload(message),
            headers={"Authorization": f"Bearer {self._settings.api_key.get_secret_value()}"},
            timeout=TIMEOUT_S,
        )
        message_id = response.headers.get("X-Message-Id")
        if not message_id:
            raise VendorUnavailable(
                "SendGrid accepted the email without an id", vendor=VENDOR, reason=vendor_reason(response)
            )
        return SendReceipt(provider=self.name, message_id=message_id)
