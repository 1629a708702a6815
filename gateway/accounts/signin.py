"""Signing up and signing in: password check in constant time, lockout, and the two-factor second step."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from documents.audit import AuditEvent, AuditKind
from documents.otp import CodePurpose
from documents.user import User
from gateway.accounts.codes import send_code
from gateway.accounts.context import Accounts, Device
from gateway.accounts.problems import AccountExists, AccountLocked, InvalidCredentials, MfaInvalid, MfaTokenInvalid
from gateway.accounts.sessions import TokenPair, open_session
from gateway.accounts.two_factor import verify_second_factor
from gateway.logs import get_logger
from gateway.redis_client import redis_key
from gateway.security.passwords import check_password_strength
from gateway.security.tokens import TokenError

log = get_logger("lango.signin")


@dataclass(frozen=True)
class SignInOutcome:
    """Signed in (`tokens`), or half-way: `challenge` is the MFA or MFA-enrolment token of the next step."""

    status: Literal["signed_in", "mfa_required", "mfa_enrolment_required"]
    tokens: TokenPair | None = None
    challenge: str | None = None
    user: User | None = None


async def sign_up(accounts: Accounts, *, email: str | None, phone: str | None, password: str, device: Device) -> tuple[User, TokenPair]:
    """Create a guest account, send a code to each contact point, and sign the new device in."""
    check_password_strength(password, min_length=accounts.settings.auth.password_min_length, personal=(email, phone))
    user = User(email=email, phone=phone, password_hash=await accounts.passwords.hash(password))
    try:
        await user.insert()
    except DuplicateKeyError:
        raise AccountExists() from None
    await AuditEvent.record(AuditKind.SIGNUP, user_id=user.id, client_address=device.client_address)
    for purpose, destination in ((CodePurpose.VERIFY_EMAIL, email), (CodePurpose.VERIFY_PHONE, phone)):
        if destination is not None:
            await send_code(accounts, user, purpose, destination)
    return user, await open_session(accounts, user, device)


async def sign_in(accounts: Accounts, *, email: str | None, phone: str | None, password: str, device: Device) -> SignInOutcome:
    login = email or phone or ""
    await accounts.limits.hit("login_attempts_per_address", device.client_address or "unknown")
    await accounts.limits.ensure_room("login_failures_per_account", login)
    user = await User.by_login(email=email, phone=phone)
    # Unknown accounts are checked against a dummy hash so both answers take as long.
    password_matches = await accounts.passwords.verify(password, user.password_hash if user else None)
    if user is None or not password_matches:
        await _count_failure(accounts, user, login, device)
        raise InvalidCredentials()
    now = datetime.now(UTC)
    if user.is_locked(now):
        raise AccountLocked(int((user.locked_until - now).total_seconds()) + 1)  # type: ignore[operator]
    await accounts.limits.clear("login_failures_per_account", login)
    await user.record_login()
    if accounts.passwords.needs_rehash(user.password_hash):
        await user.upgrade_password_hash(user.password_hash, await accounts.passwords.hash(password))
    if user.mfa_enabled:
        return SignInOutcome("mfa_required", challenge=accounts.tokens.issue_challenge(str(user.id), "mfa"), user=user)
    if accounts.requires_mfa(user):
        challenge = accounts.tokens.issue_challenge(str(user.id), "mfa_enrolment")
        return SignInOutcome("mfa_enrolment_required", challenge=challenge, user=user)
    await AuditEvent.record(AuditKind.LOGIN_SUCCEEDED, user_id=user.id, client_address=device.client_address, device=device.name)
    return SignInOutcome("signed_in", tokens=await open_session(accounts, user, device), user=user)


async def _count_failure(accounts: Accounts, user: User | None, login: str, device: Device) -> None:
    await accounts.limits.hit_quietly("login_failures_per_account", login)
    await AuditEvent.record(
        AuditKind.LOGIN_FAILED,
        user_id=user.id if user else None,
        client_address=device.client_address,
        known_account=user is not None,
    )
    if user is None:
        return
    auth = accounts.settings.auth
    locked_until = await user.record_failed_login(
        lock_after=auth.lockout_after_failures,
        base=timedelta(seconds=auth.lockout_base_s),
        longest=timedelta(seconds=auth.lockout_max_s),
    )
    if locked_until is not None:
        await AuditEvent.record(AuditKind.ACCOUNT_LOCKED, user_id=user.id, locked_until=locked_until.isoformat())
        log.warning("account locked", user_id=str(user.id), locked_until=locked_until.isoformat())


async def complete_mfa(
    accounts: Accounts, *, mfa_token: str, code: str | None, backup_code: str | None, device: Device
) -> tuple[User, TokenPair]:
    """The second sign-in step: the MFA token of the first plus a TOTP or backup code; each MFA token works once."""
    try:
        claims = accounts.tokens.verify_challenge(mfa_token, "mfa")
    except TokenError:
        raise MfaTokenInvalid() from None
    await accounts.limits.hit("otp_checks_per_account", claims.user_id)
    user = await User.get(PydanticObjectId(claims.user_id))
    if user is None or not user.mfa_enabled:
        raise MfaTokenInvalid()
    method = await verify_second_factor(accounts, user, code=code, backup_code=backup_code)
    if method is None:
        await AuditEvent.record(AuditKind.MFA_FAILED, user_id=user.id, client_address=device.client_address)
        raise MfaInvalid()
    spent_key = redis_key(accounts.settings.redis, "auth", "challenge-spent", claims.challenge_id)
    lifetime = claims.expires_at - datetime.now(UTC) + timedelta(minutes=1)
    if not await accounts.redis.set(spent_key, b"1", nx=True, ex=max(lifetime, timedelta(seconds=1))):
        raise MfaTokenInvalid("this MFA token was already used")
    await AuditEvent.record(
        AuditKind.LOGIN_SUCCEEDED, user_id=user.id, client_address=device.client_address, device=device.name, mfa=method
    )
    return user, await open_session(accounts, user, device)
