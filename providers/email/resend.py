"""Email adapter for Resend's HTTP API (`POST /emails`, Bearer API key)."""

from typing import ClassVar

import httpx
from pydantic import SecretStr

from providers.delivery import SendReceipt
from providers.email.base import EmailMessage, SenderAddress
from providers.errors import VendorUnavailable
from providers.settings import HttpUrl, VendorSettings
from providers.vendor_http import call_vendor, json_body, vendor_reason

VENDOR = "resend"
BASE_URL = "https://api.resend.com"
TIMEOUT_S = 10.0


class ResendSettings(VendorSettings):
    """The `email.resend` settings; `sender` is the From as Resend takes it: `Lango <hello@lango.africa>` on a verified
    domain."""

    section: ClassVar[str] = "email.resend"

    api_key: SecretStr | None = None
    sender: SenderAddress | None = None
    # Another API host (an emulator); unset, BASE_URL.
    base_url: HttpUrl | None = None


class ResendEmailSender:
    name = VENDOR

    def __init__(self, settings: ResendSettings, http: httpx.AsyncClient) -> None:
        settings.require("api_key", "sender", vendor=VENDOR)
        self._settings = settings
        self._http = http
        self._url = f"{(settings.base_url or BASE_URL).rstrip('/')}/emails"

    def _payload(self, message: EmailMessage) -> dict:
        payload = {
            "from": self._settings.sender,
            "to": [message.to],
            "subject": message.subject,
            "text": message.text,
            "tags": [{"name": "kind", "value": message.kind}]
            + [{"name": name, "value": value} for name, value in message.tags.items()],
        }
        if message.html is not None:
            payload["html"] = message.html
        return payload

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
        body = json_body(response, VENDOR)
        message_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(message_id, str):
            raise VendorUnavailable(
                "Resend accepted the email without an id", vendor=VENDOR, reason=vendor_reason(response)
            )
        return SendReceipt(provider=self.name, message_id=message_id)
