"""What the account routes take and answer: identifiers, token pairs, views of accounts and sessions."""

from datetime import datetime
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field, StringConstraints, model_validator

from documents.session import Session
from documents.user import User
from gateway.accounts.context import Device
from gateway.accounts.identifiers import Email, PhoneNumber
from gateway.accounts.sessions import TokenPair
from gateway.input_types import DisplayText
from gateway.routing import RequestModel
from gateway.security.passwords import MAX_PASSWORD_CHARS

PasswordText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD_CHARS, strip_whitespace=False)]
DeviceName = Annotated[DisplayText, StringConstraints(min_length=1, max_length=200)]
OtpCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
BackupCode = Annotated[str, StringConstraints(min_length=8, max_length=20)]
DeviceToken = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
DEVICE_TOKEN = (
    "Keep it on this device and send it with later sign-ins (`device_token`): failures from a device that brings it "
    "count against that device alone, and a lock on the account from failed sign-ins elsewhere does not stop it"
)



class Identified(RequestModel):
    """Exactly one of email or phone names the account."""

    email: Email | None = None
    phone: PhoneNumber | None = Field(None, description="E.164, or a Kenyan number: 07…, 01…, 254…, +254…")

    @model_validator(mode="after")
    def _exactly_one(self) -> "Identified":
        if (self.email is None) == (self.phone is None):
            raise ValueError("give exactly one of email or phone")
        return self


class TokenPairView(BaseModel):
    access_token: str
    refresh_token: str = Field(description="Single use: each refresh answers a new one; replaying an old one signs the session out")
    token_type: str = "Bearer"
    expires_in: int = Field(description="Seconds the access token lives")
    session_id: str

    @classmethod
    def of(cls, pair: TokenPair) -> "TokenPairView":
        return cls(
            access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in, session_id=pair.session_id
        )


class AccountView(BaseModel):
    id: str
    email: str | None
    phone: str | None = Field(description="E.164")
    email_verified: bool
    phone_verified: bool
    roles: list[str]
    mfa_enabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> "AccountView":
        return cls(
            id=str(user.id),
            email=user.email,
            phone=user.phone,
            email_verified=user.email_verified_at is not None,
            phone_verified=user.phone_verified_at is not None,
            roles=sorted(user.roles),
            mfa_enabled=user.mfa_enabled,
            created_at=user.created_at,
        )


class SessionView(BaseModel):
    id: str
    device: str
    client_address: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool = Field(description="The session of the token that asked")

    @classmethod
    def of(cls, session: Session, current_session_id: str) -> "SessionView":
        return cls(
            id=str(session.id),
            device=session.device,
            client_address=session.client_address,
            created_at=session.created_at,
            last_seen_at=session.last_seen_at,
            expires_at=session.expires_at,
            current=str(session.id) == current_session_id,
        )


def device_of(request: web.Request, name: str | None = None) -> Device:
    """The device a request comes from: as the client names it, else by its User-Agent, and its address."""
    return Device.named(name, request.headers.get("User-Agent", ""), request.remote)
