"""Email adapter for Twilio SendGrid's v3 Mail Send API (`POST /v3/mail/send`, Bearer API key)."""

from email.utils import parseaddr

import httpx
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr

from providers.delivery import SendReceipt
from providers.email.base import EmailMessage, SenderAddress
from providers.errors import VendorUnavailable
from providers.vendor_http import call_vendor, vendor_reason

VENDOR = "sendgrid"


class SendGridConfig(BaseModel):
    """`sender` is a verified Sender Identity, with or without a display name; EU accounts use api.eu.sendgrid.com."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: SecretStr
    sender: SenderAddress
    base_url: AnyHttpUrl = AnyHttpUrl("https://api.sendgrid.com")
    timeout_seconds: float = Field(default=10.0, gt=0)


class SendGridEmailSender:
    name = VENDOR

    def __init__(self, config: SendGridConfig, http: httpx.AsyncClient) -> None:
        self._config = config
        self._http = http
        self._url = f"{str(config.base_url).rstrip('/')}/v3/mail/send"
        display_name, address = parseaddr(config.sender)
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
            headers={"Authorization": f"Bearer {self._config.api_key.get_secret_value()}"},
            timeout=self._config.timeout_seconds,
        )
        message_id = response.headers.get("X-Message-Id")
        if not message_id:
            raise VendorUnavailable(
                "SendGrid accepted the email without an id", vendor=VENDOR, reason=vendor_reason(response)
            )
        return SendReceipt(provider=self.name, message_id=message_id)
