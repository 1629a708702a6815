"""What the account flows share: the device a request comes from, who needs two-factor, forgetting sessions."""

from dataclasses import dataclass
from datetime import timedelta

from beanie import PydanticObjectId

from documents.user import User
from gateway.crypto.sealing import SealingKeys, sealing_keys
from gateway.problems import Unauthenticated
from gateway.security.callers import Caller
from gateway.security.revocations import mark_sessions_revoked
from gateway.services import Services
from gateway.settings import Settings


def totp_sealing_keys(settings: Settings) -> SealingKeys:
    auth = settings.auth
    return sealing_keys(auth.totp_encryption_key, auth.totp_previous_encryption_keys, "totp secret sealing")


def requires_mfa(settings: Settings, user: User) -> bool:
    """Whether the account's roles need two-factor authentication on."""
    return bool(set(user.roles) & set(settings.auth.mfa_required_roles))


async def forget_sessions(services: Services, session_ids: list[str]) -> None:
    """Make revoked sessions' access tokens stop working now, not when they expire."""
    lifetime = services.tokens.access_ttl + timedelta(minutes=1)
    await mark_sessions_revoked(services.redis, services.settings.redis, session_ids, lifetime)


@dataclass(frozen=True)
class Device:
    """Where a request comes from: the device name the client gives (or its User-Agent) and its address."""

    name: str
    client_address: str | None

    @classmethod
    def named(cls, name: str | None, user_agent: str, client_address: str | None) -> "Device":
        """The device as the client names it, else by its User-Agent."""
        return cls(name=(name or user_agent or "unknown device")[:200], client_address=client_address)


async def signed_in_user(caller: Caller) -> User:
    """The account behind a caller; 401 when it has been deleted since the token was issued."""
    user = await User.get(PydanticObjectId(caller.user_id))
    if user is None:
        raise Unauthenticated("this account no longer exists")
    return user
