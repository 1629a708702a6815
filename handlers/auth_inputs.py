"""What the account routes take: identifiers, passwords, codes, device names, and the device a request comes from."""

from typing import Annotated

from aiohttp import web
from pydantic import Field, StringConstraints, model_validator

from gateway.accounts.context import Device
from gateway.accounts.identifiers import Email, PhoneNumber
from gateway.input_types import DisplayText
from gateway.request_models import RequestModel
from gateway.security.passwords import MAX_PASSWORD_CHARS

PasswordText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD_CHARS, strip_whitespace=False)]
DeviceName = Annotated[DisplayText, StringConstraints(min_length=1, max_length=200)]
OtpCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
BackupCode = Annotated[str, StringConstraints(min_length=8, max_length=20)]
DeviceToken = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class Identified(RequestModel):
    """Exactly one of email or phone names the account."""

    email: Email | None = None
    phone: PhoneNumber | None = Field(None, description="E.164, or a Kenyan number: 07…, 01…, 254…, +254…")

    @model_validator(mode="after")
    def _exactly_one(self) -> "Identified":
        if (self.email is None) == (self.phone is None):
            raise ValueError("give exactly one of email or phone")
        return self


def device_of(request: web.Request, name: str | None = None) -> Device:
    """The device a request comes from: as the client names it, else by its User-Agent, and its address."""
    return Device.named(name, request.headers.get("User-Agent", ""), request.remote)
