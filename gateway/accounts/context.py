"""What the account flows work with, gathered from the application once per request."""

from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from beanie import PydanticObjectId
from redis.asyncio import Redis

from documents.user import User
from gateway.problems import Unauthenticated
from gateway.security.access import Caller
from gateway.security.passwords import PasswordHasher
from gateway.security.rate_limits import RateLimiter
from gateway.security.revocations import mark_sessions_revoked
from gateway.security.sealing import SealingKeys, sealing_keys
from gateway.security.tokens import TokenService
from gateway.settings import Settings
from gateway.state import EMAIL_SENDER, PASSWORDS, RATE_LIMITER, REDIS, SETTINGS, SMS_SENDER, TOKENS
from providers.email import EmailSender
from providers.sms import SmsSender


def totp_sealing_keys(settings: Settings) -> SealingKeys:
    auth = settings.auth
    return sealing_keys(auth.totp_encryption_key, auth.totp_previous_encryption_keys, "totp secret sealing")


@dataclass(frozen=True)
class Accounts:
    settings: Settings
    tokens: TokenService
    passwords: PasswordHasher
    limits: RateLimiter
    email: EmailSender
    sms: SmsSender
    redis: Redis
    # Seal TOTP secrets at rest (auth.totp_encryption_key, and the previous keys that still open).
    totp_keys: SealingKeys

    @classmethod
    def of(cls, app: web.Application) -> "Accounts":
        return cls(
            settings=app[SETTINGS],
            tokens=app[TOKENS],
            passwords=app[PASSWORDS],
            limits=app[RATE_LIMITER],
            email=app[EMAIL_SENDER],
            sms=app[SMS_SENDER],
            redis=app[REDIS],
            totp_keys=totp_sealing_keys(app[SETTINGS]),
        )

    def requires_mfa(self, user: User) -> bool:
        return bool(set(user.roles) & set(self.settings.auth.mfa_required_roles))

    async def forget_sessions(self, session_ids: list[str]) -> None:
        """Make revoked sessions' access tokens stop working now, not when they expire."""
        lifetime = self.tokens.access_ttl + timedelta(minutes=1)
        await mark_sessions_revoked(self.redis, self.settings.redis, session_ids, lifetime)


@dataclass(frozen=True)
class Device:
    """Where a request comes from: the device name the client gives (or its User-Agent) and its address."""

    name: str
    client_address: str | None

    @classmethod
    def of(cls, request: web.Request, name: str | None = None) -> "Device":
        described = name or request.headers.get("User-Agent", "") or "unknown device"
        return cls(name=described[:200], client_address=request.remote)


async def signed_in_user(caller: Caller) -> User:
    """The account behind a caller; 401 when it has been deleted since the token was issued."""
    user = await User.get(PydanticObjectId(caller.user_id))
    if user is None:
        raise Unauthenticated("this account no longer exists")
    return user
