"""Signing in: failures counted before the password is checked, per known device or else per account, and the
two-factor second step."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from beanie import PydanticObjectId

from documents.audit import AuditEvent, AuditKind
from documents.user import User
from gateway.accounts.context import Device, requires_mfa
from gateway.accounts.devices import issue_device_token, known_device_id
from gateway.accounts.problems import AccountLocked, InvalidCredentials, MfaInvalid, MfaTokenInvalid
from gateway.accounts.sessions import TokenPair, open_session, refuse_locked
from gateway.accounts.two_factor import verify_second_factor
from gateway.logs import get_logger
from gateway.redis_client import redis_key
from gateway.security.tokens import TokenError
from gateway.services import Services

log = get_logger("lango.signin")
LOCKED = "too many failed sign-ins: sign in from a device you used before, reset your password, or try later"


@dataclass(frozen=True)
class SignInOutcome:
    """Signed in (`tokens` and a `device_token`), or half-way: `challenge` is the MFA or MFA-enrolment token."""

    status: Literal["signed_in", "mfa_required", "mfa_enrolment_required"]
    tokens: TokenPair | None = None
    challenge: str | None = None
    user: User | None = None
    device_token: str | None = None


@dataclass(frozen=True)
class FailureBudget:
    """The limit a sign-in attempt counts against: its known device's, or else the account's."""

    limit: Literal["login_failures_per_device", "login_failures_per_account"]
    key: str


async def sign_in(
    services: Services, *, email: str | None, phone: str | None, password: str, device: Device, device_token: str | None
) -> SignInOutcome:
    await services.limits.hit("login_attempts_per_address", device.client_address or "unknown")
    user = await User.by_login(email=email, phone=phone)
    budget = _failure_budget(services, user, email or phone or "", device_token)
    # Counted before the password is checked: concurrent guesses cannot all pass before the first failure counts,
    # and a full budget refuses the right password exactly as it refuses a wrong one, for any account or none.
    await services.limits.hit(budget.limit, budget.key, refusal=LOCKED, problem=AccountLocked)
    # Unknown accounts are checked against a dummy hash so both answers take as long.
    password_matches = await services.passwords.verify(password, user.password_hash if user else None)
    if user is None or not password_matches:
        await _record_failure(services, user, budget, device)
        raise InvalidCredentials()
    await services.limits.clear(budget.limit, budget.key)
    # Only someone who knows the password learns that the account is locked.
    refuse_locked(user)
    await user.record_login()
    if services.passwords.needs_rehash(user.password_hash):
        await user.upgrade_password_hash(user.password_hash, await services.passwords.hash(password))
    if user.mfa_enabled:
        return SignInOutcome("mfa_required", challenge=services.tokens.issue_challenge(str(user.id), "mfa"), user=user)
    if requires_mfa(services.settings, user):
        challenge = services.tokens.issue_challenge(str(user.id), "mfa_enrolment")
        return SignInOutcome("mfa_enrolment_required", challenge=challenge, user=user)
    await AuditEvent.record(AuditKind.LOGIN_SUCCEEDED, user_id=user.id, client_address=device.client_address, device=device.name)
    await _signed_in(services, user)
    tokens = await open_session(services, user, device)
    return SignInOutcome("signed_in", tokens=tokens, user=user, device_token=issue_device_token(services, user))


async def _signed_in(services: Services, user: User) -> None:
    # What else a completed sign-in does (it cancels a pending deletion), as gateway.composition registers it.
    for hook in services.sign_in_hooks:
        await hook(services, user)


def _failure_budget(services: Services, user: User | None, login: str, device_token: str | None) -> FailureBudget:
    if (device_id := known_device_id(services, user, device_token)) is not None:
        return FailureBudget("login_failures_per_device", device_id)
    # An account's email and phone share one budget; a login that names no account gets one of its own.
    return FailureBudget("login_failures_per_account", str(user.id) if user else f"login:{login}")


async def _record_failure(services: Services, user: User | None, budget: FailureBudget, device: Device) -> None:
    await AuditEvent.record(
        AuditKind.LOGIN_FAILED,
        user_id=user.id if user else None,
        client_address=device.client_address,
        known_account=user is not None,
        known_device=budget.limit == "login_failures_per_device",
    )
    if user is None or budget.limit != "login_failures_per_account":
        return
    if not await services.limits.has_room(budget.limit, budget.key):
        await AuditEvent.record(AuditKind.ACCOUNT_LOCKED, user_id=user.id, client_address=device.client_address)
        log.warning("account locked for unknown devices", user_id=str(user.id))


async def complete_mfa(
    services: Services, *, mfa_token: str, code: str | None, backup_code: str | None, device: Device
) -> tuple[User, TokenPair, str]:
    """The second sign-in step: the MFA token of the first plus a TOTP or backup code; each MFA token works once.
    Answers the account, its new session's tokens and a device token."""
    try:
        claims = services.tokens.verify_challenge(mfa_token, "mfa")
    except TokenError:
        raise MfaTokenInvalid() from None
    await services.limits.hit("otp_checks_per_account", claims.user_id)
    user = await User.get(PydanticObjectId(claims.user_id))
    if user is None or not user.mfa_enabled:
        raise MfaTokenInvalid()
    method = await verify_second_factor(services, user, code=code, backup_code=backup_code)
    if method is None:
        await AuditEvent.record(AuditKind.MFA_FAILED, user_id=user.id, client_address=device.client_address)
        raise MfaInvalid()
    spent_key = redis_key(services.settings.redis, "auth", "challenge-spent", claims.challenge_id)
    lifetime = claims.expires_at - datetime.now(UTC) + timedelta(minutes=1)
    if not await services.redis.set(spent_key, b"1", nx=True, ex=max(lifetime, timedelta(seconds=1))):
        raise MfaTokenInvalid("this MFA token was already used")
    await AuditEvent.record(
        AuditKind.LOGIN_SUCCEEDED, user_id=user.id, client_address=device.client_address, device=device.name, mfa=method
    )
    await _signed_in(services, user)
    return user, await open_session(services, user, device), issue_device_token(services, user)
