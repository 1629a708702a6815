"""Device sessions: opening one with a token pair, rotating refresh tokens with reuse detection, signing out."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from beanie import PydanticObjectId

from documents.audit import AuditEvent, AuditKind
from documents.session import Session
from documents.user import User
from gateway.accounts.context import Device, forget_sessions, requires_mfa
from gateway.accounts.problems import AccountSuspended, MfaEnrolmentRequired, RefreshTokenInvalid, RefreshTokenReused
from gateway.logs import get_logger
from gateway.problems import NotFound
from gateway.security.callers import Caller
from gateway.services import Services

log = get_logger("lango.sessions")
# Why the sessions of an account an admin locked were ended.
SIGNED_OUT_BY_LOCK = "account_locked"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str


def _refresh_hash(token: str) -> str:
    # Refresh tokens carry 256 random bits, so a plain digest is as strong as a slow hash here.
    return hashlib.sha256(token.encode()).hexdigest()


def _access_for(services: Services, user: User, session: Session, refresh_token: str) -> TokenPair:
    session_id = str(session.id)
    return TokenPair(
        # The session opened when the person signed in: that is when they last proved who they are.
        access_token=services.tokens.issue_access(str(user.id), user.roles, session_id, auth_time=session.created_at),
        refresh_token=refresh_token,
        expires_in=int(services.tokens.access_ttl.total_seconds()),
        session_id=session_id,
    )


async def open_session(services: Services, user: User, device: Device) -> TokenPair:
    """A new session for the device; 403 account-suspended for an account an admin locked, even meanwhile."""
    refuse_locked(user)
    refresh_token = secrets.token_urlsafe(32)
    session = Session(
        user_id=user.id,  # type: ignore[arg-type]
        device=device.name,
        client_address=device.client_address,
        refresh_hash=_refresh_hash(refresh_token),
        expires_at=datetime.now(UTC) + timedelta(seconds=services.settings.auth.refresh_token_ttl_s),
    )
    await session.insert()
    await refuse_if_locked(services, user.id, session.id)  # type: ignore[arg-type]
    return _access_for(services, user, session, refresh_token)


async def refresh_session(services: Services, refresh_token: str, device: Device) -> TokenPair:
    """Trade a refresh token for a new pair; a token already traded revokes its whole session."""
    presented = _refresh_hash(refresh_token)
    next_token = secrets.token_urlsafe(32)
    session = await Session.rotate(presented, _refresh_hash(next_token), device.client_address)
    if session is None:
        await _refuse_replay(services, presented, device)
        raise RefreshTokenInvalid()
    user = await User.get(session.user_id)
    if user is None:
        await Session.revoke_one(session.id, session.user_id, "account_gone")  # type: ignore[arg-type]
        await forget_sessions(services, [str(session.id)])
        raise RefreshTokenInvalid()
    if requires_mfa(services.settings, user) and not user.mfa_enabled:
        await Session.revoke_one(session.id, user.id, "mfa_enrolment_required")  # type: ignore[arg-type]
        await forget_sessions(services, [str(session.id)])
        raise MfaEnrolmentRequired("sign in again and turn on two-factor authentication")
    await refuse_if_locked(services, user.id, session.id)  # type: ignore[arg-type]
    return _access_for(services, user, session, next_token)


def refuse_locked(user: User) -> None:
    """403 account-suspended for an account an admin locked, as it was read."""
    if user.locked_at is not None:
        raise AccountSuspended()


async def refuse_if_locked(services: Services, user_id: PydanticObjectId, session_id: PydanticObjectId) -> None:
    """Once a session is opened or renewed: when its account is locked by now (gateway.accounts.locking), that session
    ends and the caller gets 403 account-suspended."""
    if await User.is_locked(user_id):
        await Session.revoke_one(session_id, user_id, SIGNED_OUT_BY_LOCK)
        await forget_sessions(services, [str(session_id)])
        raise AccountSuspended()


async def _refuse_replay(services: Services, presented: str, device: Device) -> None:
    session = await Session.revoke_family_of_used(presented)
    if session is None:
        return
    await forget_sessions(services, [str(session.id)])
    await AuditEvent.record(
        AuditKind.REFRESH_TOKEN_REUSED,
        user_id=session.user_id,
        client_address=device.client_address,
        session_id=str(session.id),
        device=device.name,
    )
    log.warning("refresh token reused: session revoked", session_id=str(session.id), user_id=str(session.user_id))
    raise RefreshTokenReused()


async def revoke_session(
    services: Services, user_id: str, session_id: str, *, because: str, admin: Caller | None = None
) -> None:
    """Revoke one of the user's sessions (the user's own doing, or `admin`'s, who is audited as its actor); a session
    of someone else, or an unknown one, is a 404."""
    if not PydanticObjectId.is_valid(session_id):
        raise NotFound("no such session")
    if not await Session.revoke_one(PydanticObjectId(session_id), PydanticObjectId(user_id), because):
        raise NotFound("no such session")
    await forget_sessions(services, [session_id])
    actor = PydanticObjectId(admin.user_id) if admin is not None else None
    await AuditEvent.record(
        AuditKind.SESSION_REVOKED,
        user_id=PydanticObjectId(user_id),
        actor_id=actor,
        session_id=session_id,
        because=because,
    )


async def revoke_other_sessions(
    services: Services, user_id: PydanticObjectId, *, keep: str | None, because: str
) -> None:
    revoked = await Session.revoke_all(user_id, because, keep=PydanticObjectId(keep) if keep else None)
    await forget_sessions(services, revoked)
