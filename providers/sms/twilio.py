"""SMS adapter for Twilio's Programmable Messaging (`POST /2010-04-01/Accounts/{sid}/Messages.json`)."""

from typing import Annotated, ClassVar

import httpx
from pydantic import SecretStr, StringConstraints

from providers.delivery import SendReceipt
from providers.errors import ProviderMisconfigured, VendorUnavailable
from providers.settings import HttpUrl, VendorSettings
from providers.sms.base import PhoneE164, SmsMessage
from providers.vendor_http import call_vendor, json_body, vendor_reason

VENDOR = "twilio"
BASE_URL = "https://api.twilio.com"
TIMEOUT_S = 10.0


class TwilioSettings(VendorSettings):
    """The `sms.twilio` settings: account SID and auth token; messages go out from `from_number` or through a
    Messaging Service."""

    section: ClassVar[str] = "sms.twilio"

    account_sid: Annotated[str, StringConstraints(pattern=r"^AC[0-9a-fA-F]{32}$")] | None = None
    auth_token: SecretStr | None = None
    from_number: PhoneE164 | None = None
    messaging_service_sid: Annotated[str, StringConstraints(pattern=r"^MG[0-9a-fA-F]{32}$")] | None = None
    status_callback: HttpUrl | None = None
    # Another API host (an emulator); unset, BASE_URL.
    base_url: HttpUrl | None = None


class TwilioSmsSender:
    name = VENDOR

    def __init__(self, settings: TwilioSettings, http: httpx.AsyncClient) -> None:
        settings.require("account_sid", "auth_token", vendor=VENDOR)
        if (settings.from_number is None) == (settings.messaging_service_sid is None):
            raise ProviderMisconfigured(
                f"{settings.section}: set exactly one of from_number and messaging_service_sid", vendor=VENDOR
            )
        self._settings = settings
        self._http = http
        base_url = (settings.base_url or BASE_URL).rstrip("/")
        self._url = f"{base_url}/2010-04-01/Accounts/{settings.account_sid}/Messages.json"
        self._auth = httpx.BasicAuth(settings.account_sid, settings.auth_token.get_secret_value())

    async def send(self, message: SmsMessage) -> SendReceipt:
        form = {"To": message.to, "Body": message.text}
        if self._settings.messaging_service_sid:
            form["MessagingServiceSid"] = self._settings.messaging_service_sid
        else:
            form["From"] = str(self._settings.from_number)
        if self._settings.status_callback:
            form["StatusCallback"] = self._settings.status_callback
        response = await call_vendor(
            self._http, VENDOR, "POST", self._url, data=form, auth=self._auth, timeout=TIMEOUT_S
        )
        body = json_body(response, VENDOR)
        sid = body.get("sid") if isinstance(body, dict) else None
        if not isinstance(sid, str):
            raise VendorUnavailable(
                "Twilio accepted the message without a sid", vendor=VENDOR, reason=vendor_reason(response)
            )
        return SendReceipt(provider=self.name, message_id=sid)
