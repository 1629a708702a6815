"""What an account looks like in answers: the account, its token pairs and sessions, sign-in steps, two-factor
enrolment, the public keys of its tokens, and the security audit log admins read."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from documents.audit import AuditEvent, AuditKind
from documents.session import Session
from documents.user import User
from gateway.accounts.sessions import TokenPair

DEVICE_TOKEN = (
    "Keep it on this device and send it with later sign-ins (`device_token`): failures from a device that brings it "
    "count against that device alone, and a lock on the account from failed sign-ins elsewhere does not stop it"
)


class TokenPairView(BaseModel):
    access_token: str
    refresh_token: str = Field(
        description="Single use: each refresh answers a new one; replaying an old one signs the session out"
    )
    token_type: str = "Bearer"
    expires_in: int = Field(description="Seconds the access token lives")
    session_id: str

    @classmethod
    def of(cls, pair: TokenPair) -> "TokenPairView":
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
            session_id=pair.session_id,
        )


class AccountView(BaseModel):
    id: str
    email: str | None
    phone: str | None = Field(description="E.164")
    email_verified: bool
    phone_verified: bool
    roles: list[str]
    mfa_enabled: bool
    locked: bool = Field(description="Locked by an admin: it can neither sign in nor renew a session")
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
            locked=user.locked_at is not None,
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


class SessionList(BaseModel):
    items: list[SessionView]


class SignInResult(BaseModel):
    """`signed_in` carries tokens; `mfa_required` and `mfa_enrolment_required` carry the token of the next step."""

    status: Literal["signed_in", "mfa_required", "mfa_enrolment_required"]
    tokens: TokenPairView | None = None
    mfa_token: str | None = Field(None, description="mfa_required: send it to POST /v1/auth/login/mfa with a code")
    enrolment_token: str | None = Field(
        None, description="mfa_enrolment_required: Bearer token for /v1/auth/2fa/enrol and /v1/auth/2fa/confirm only"
    )
    account: AccountView | None = None
    device_token: str | None = Field(None, description="signed_in: " + DEVICE_TOKEN)


class SignedIn(BaseModel):
    account: AccountView
    tokens: TokenPairView
    device_token: str = Field(description=DEVICE_TOKEN)


class PasswordResetDone(BaseModel):
    device_token: str = Field(description=DEVICE_TOKEN)


class JsonWebKeySet(BaseModel):
    keys: list[dict[str, Any]]


class EnrolmentView(BaseModel):
    secret: str = Field(description="Base32, for apps that cannot scan the QR code")
    otpauth_uri: str
    qr_png: str = Field(description="The otpauth URI as a QR code: a data:image/png;base64 URL")


class EnrolmentConfirmed(BaseModel):
    backup_codes: list[str] = Field(description="10 single-use codes for when the phone is lost; shown only now")
    tokens: TokenPairView | None = Field(
        None, description="Present when enrolling with an MFA-enrolment token: the sign-in completes"
    )


class AuditEventView(BaseModel):
    id: str
    kind: AuditKind
    user_id: str | None
    actor_id: str | None
    client_address: str | None
    at: datetime
    details: dict[str, Any]

    @classmethod
    def of(cls, event: AuditEvent) -> "AuditEventView":
        return cls(
            id=str(event.id),
            kind=event.kind,
            user_id=str(event.user_id) if event.user_id else None,
            actor_id=str(event.actor_id) if event.actor_id else None,
            client_address=event.client_address,
            at=event.at,
            details=event.details,
        )


class AuditPage(BaseModel):
    items: list[AuditEventView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last")
