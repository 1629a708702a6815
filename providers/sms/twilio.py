"""SMS adapter for Twilio's Programmable Messaging (`POST /2010-04-01/Accounts/{sid}/Messages.json`)."""

from typing import Annotated, Self

import httpx
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, StringConstraints, model_validator

from providers.delivery import SendReceipt
from providers.errors import VendorUnavailable
from providers.sms.base import PhoneE164, SmsMessage
from providers.vendor_http import call_vendor, json_body, vendor_reason

VENDOR = "twilio"


class TwilioConfig(BaseModel):
    """Account SID and auth token; messages go out from `from_number` or through a Messaging Service."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_sid: Annotated[str, StringConstraints(pattern=r"^AC[0-9a-fA-F]{32}$")]
    auth_token: SecretStr
    from_number: PhoneE164 | None = None
    messaging_service_sid: Annotated[str, StringConstraints(pattern=r"^MG[0-9a-fA-F]{32}$")] | None = None
    status_callback: AnyHttpUrl | None = None
    base_url: AnyHttpUrl = AnyHttpUrl("https://api.twilio.com")
    timeout_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _one_origin(self) -> Self:
        if (self.from_number is None) == (self.messaging_service_sid is None):
            raise ValueError("set exactly one of from_number and messaging_service_sid")
        return self


class TwilioSmsSender:
    name = VENDOR

    def __init__(self, config: TwilioConfig, http: httpx.AsyncClient) -> None:
        self._config = config
        self._http = http
        self._url = f"{str(config.base_url).rstrip('/')}/2010-04-01/Accounts/{config.account_sid}/Messages.json"
        self._auth = httpx.BasicAuth(config.account_sid, config.auth_token.get_secret_value())

    async def send(self, message: SmsMessage) -> SendReceipt:
        form = {"To": message.to, "Body": message.text}
        if self._config.messaging_service_sid:
            form["MessagingServiceSid"] = self._config.messaging_service_sid
        else:
            form["From"] = str(self._config.from_number)
        if self._config.status_callback:
            form["StatusCallback"] = str(self._config.status_callback)
        response = await call_vendor(
            self._http, VENDOR, "POST", self._url, data=form, auth=self._auth, timeout=self._config.timeout_seconds
        )
        body = json_body(response, VENDOR)
        sid = body.get("sid") if isinstance(body, dict) else None
        if not isinstance(sid, str):
            raise VendorUnavailable(
                "Twilio accepted the message without a sid", vendor=VENDOR, reason=vendor_reason(response)
            )
        return SendReceipt(provider=self.name, message_id=sid)
