"""The web console's sessions, kept in Redis under a random reference the browser holds in an HttpOnly cookie.

A record holds the form token (CSRF) of every page it shows and, once signed in, the account's token pair, which never
reaches the browser: only the reference does. Half-way through sign-in it holds the two-factor step's challenge
instead. The access token is renewed through the same refresh as the API's, one renewal at a time per record, since a
refresh token works once and a second use would sign the session out.
"""

import hashlib
import secrets
import time
from dataclasses import asdict, dataclass, replace

import orjson

from gateway.accounts.context import Device
from gateway.accounts.problems import AccountSuspended, MfaEnrolmentRequired, RefreshTokenInvalid, RefreshTokenReused
from gateway.accounts.sessions import TokenPair, refresh_session
from gateway.redis_client import redis_key
from gateway.services import Services

# A visitor who has not signed in keeps a record this long: enough to type a password and a code.
ANONYMOUS_TTL_S = 1800
# The access token is renewed this long before it runs out, so a page never acts with one about to expire.
RENEW_BEFORE_S = 60
RENEWAL_LOCK_S = 10


@dataclass(frozen=True)
class ConsoleSession:
    """One browser's console session: its form token, and the account's tokens once signed in."""

    csrf: str
    access_token: str | None = None
    refresh_token: str | None = None
    access_expires_at: float = 0.0
    mfa_token: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.refresh_token is not None


def _key(services: Services, reference: str) -> str:
    # Only a digest is stored: a copy of Redis does not hand out usable cookies.
    digest = hashlib.sha256(reference.encode()).hexdigest()
    return redis_key(services.settings.redis, "console", "session", digest)


async def _store(services: Services, reference: str, session: ConsoleSession) -> None:
    ttl = services.settings.auth.refresh_token_ttl_s if session.signed_in else ANONYMOUS_TTL_S
    await services.redis.set(_key(services, reference), orjson.dumps(asdict(session)), ex=ttl)


async def open_anonymous(services: Services) -> tuple[str, ConsoleSession]:
    """A new reference and its record, for a visitor who has not signed in."""
    reference, session = secrets.token_urlsafe(32), ConsoleSession(csrf=secrets.token_urlsafe(32))
    await _store(services, reference, session)
    return reference, session


async def find(services: Services, reference: str | None) -> ConsoleSession | None:
    if not reference or len(reference) > 100:
        return None
    stored = await services.redis.get(_key(services, reference))
    return ConsoleSession(**orjson.loads(stored)) if stored else None


async def await_second_factor(services: Services, reference: str, session: ConsoleSession, mfa_token: str) -> None:
    """Keep the two-factor step's challenge on the server, for the code the visitor types next."""
    await _store(services, reference, replace(session, mfa_token=mfa_token))


async def sign_in(services: Services, old_reference: str | None, tokens: TokenPair) -> tuple[str, ConsoleSession]:
    """A fresh reference for the signed-in session (the one used before signing in is dropped, so a reference planted
    in a browser beforehand never becomes a signed-in one) and its record."""
    if old_reference:
        await end(services, old_reference)
    reference = secrets.token_urlsafe(32)
    session = ConsoleSession(csrf=secrets.token_urlsafe(32))
    session = _with_tokens(session, tokens)
    await _store(services, reference, session)
    return reference, session


def _with_tokens(session: ConsoleSession, tokens: TokenPair) -> ConsoleSession:
    return replace(
        session,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        access_expires_at=time.time() + tokens.expires_in,
        mfa_token=None,
    )


async def fresh(services: Services, reference: str, session: ConsoleSession, device: Device) -> ConsoleSession:
    """The session with an access token good for at least RENEW_BEFORE_S more; renewed through the API's refresh.

    Concurrent requests of one browser wait on one lock and the later ones find the token the first renewed, so one
    refresh token is never presented twice. A refusal (the session was signed out) propagates as the API's problem.
    """
    if session.refresh_token is None or session.access_expires_at - time.time() > RENEW_BEFORE_S:
        return session
    async with services.redis.lock(_key(services, reference) + ":renewal", timeout=RENEWAL_LOCK_S, blocking_timeout=RENEWAL_LOCK_S):
        current = await find(services, reference)
        if current is None or current.refresh_token is None:
            return session
        if current.access_expires_at - time.time() > RENEW_BEFORE_S:
            return current
        try:
            renewed = _with_tokens(current, await refresh_session(services, current.refresh_token, device))
        except (RefreshTokenInvalid, RefreshTokenReused, MfaEnrolmentRequired, AccountSuspended):
            await end(services, reference)
            raise
        await _store(services, reference, renewed)
        return renewed


async def end(services: Services, reference: str) -> None:
    await services.redis.delete(_key(services, reference))
