"""SMS adapter for Africa's Talking (`POST /version1/messaging`, form body, `apiKey` header)."""

from typing import Any, ClassVar

import httpx
from pydantic import Field, SecretStr

from providers.delivery import SendReceipt
from providers.errors import ProviderError, VendorRejected, VendorUnavailable
from providers.settings import HttpUrl, VendorSettings
from providers.sms.base import SmsMessage
from providers.vendor_http import call_vendor, json_body, vendor_reason

VENDOR = "africastalking"
LIVE_URL = "https://api.africastalking.com"
SANDBOX_URL = "https://api.sandbox.africastalking.com"
SANDBOX_USERNAME = "sandbox"
TIMEOUT_S = 10.0

# Per-recipient statusCodes that mean "try again later" rather than "this will never go through".
_TRANSIENT_STATUS_CODES = {500, 501}


class AfricasTalkingSettings(VendorSettings):
    """The `sms.africastalking` settings: the app's username and key; `base_url` defaults to the sandbox host for the
    `sandbox` username."""

    section: ClassVar[str] = "sms.africastalking"

    username: str | None = Field(None, min_length=1)
    api_key: SecretStr | None = None
    # An approved alphanumeric sender id; unset, AT's shared short code sends.
    sender_id: str | None = Field(None, min_length=1, max_length=11)
    base_url: HttpUrl | None = None

    @property
    def endpoint(self) -> str:
        default_host = SANDBOX_URL if self.username == SANDBOX_USERNAME else LIVE_URL
        return f"{(self.base_url or default_host).rstrip('/')}/version1/messaging"


class AfricasTalkingSmsSender:
    name = VENDOR

    def __init__(self, settings: AfricasTalkingSettings, http: httpx.AsyncClient) -> None:
        settings.require("username", "api_key", vendor=VENDOR)
        self._settings = settings
        self._http = http

    async def send(self, message: SmsMessage) -> SendReceipt:
        form = {"username": self._settings.username, "to": message.to, "message": message.text}
        if self._settings.sender_id:
            form["from"] = self._settings.sender_id
        response = await call_vendor(
            self._http,
            VENDOR,
            "POST",
            self._settings.endpoint,
            data=form,
            headers={"apiKey": self._settings.api_key.get_secret_value(), "Accept": "application/json"},
            timeout=TIMEOUT_S,
        )
        recipient = _only_recipient(json_body(response, VENDOR), vendor_reason(response))
        return SendReceipt(provider=self.name, message_id=str(recipient["messageId"]))


def _only_recipient(body: Any, raw: str) -> dict[str, Any]:
    """The one recipient's outcome; AT answers 2xx even when it refused the message, so the status decides."""
    try:
        data = body["SMSMessageData"]
        recipients = data["Recipients"]
    except (KeyError, TypeError) as error:
        raise VendorUnavailable("Africa's Talking answered an unexpected shape", vendor=VENDOR, reason=raw) from error
    if not recipients:
        # With no recipient at all, `Message` carries the reason (e.g. InvalidSenderId).
        raise VendorRejected("Africa's Talking sent to nobody", vendor=VENDOR, reason=str(data.get("Message", raw)))
    recipient = recipients[0]
    status = str(recipient.get("status", ""))
    if status == "Success" and recipient.get("messageId"):
        return recipient
    error_type: type[ProviderError] = (
        VendorUnavailable if recipient.get("statusCode") in _TRANSIENT_STATUS_CODES else VendorRejected
    )
    raise error_type(f"Africa's Talking did not send the message: {status}", vendor=VENDOR, reason=status or raw)
