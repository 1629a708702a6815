"""Email adapter for Resend's HTTP API (`POST /emails`, Bearer API key)."""

import httpx
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr

from providers.delivery import SendReceipt
from providers.email.base import EmailMessage, SenderAddress
from providers.errors import VendorUnavailable
from providers.vendor_http import call_vendor, json_body, vendor_reason

VENDOR = "resend"


class ResendConfig(BaseModel):
    """`sender` is the From as Resend takes it: `Lango <hello@lango.africa>` on a verified domain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: SecretStr
    sender: SenderAddress
    base_url: AnyHttpUrl = AnyHttpUrl("https://api.resend.com")
    timeout_seconds: float = Field(default=10.0, gt=0)


class ResendEmailSender:
    name = VENDOR

    def __init__(self, config: ResendConfig, http: httpx.AsyncClient) -> None:
        self._config = config
        self._http = http
        self._url = f"{str(config.base_url).rstrip('/')}/emails"

    def _payload(self, message: EmailMessage) -> dict:
        payload = {
            "from": self._config.sender,
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
            headers={"Authorization": f"Bearer {self._config.api_key.get_secret_value()}"},
            timeout=self._config.timeout_seconds,
        )
        body = json_body(response, VENDOR)
        message_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(message_id, str):
            raise VendorUnavailable(
                "Resend accepted the email without an id", vendor=VENDOR, reason=vendor_reason(response)
            )
        return SendReceipt(provider=self.name, message_id=message_id)
