"""One-time codes by email and SMS: verifying contact points, resetting a forgotten password, changing one."""

from datetime import timedelta

from beanie import PydanticObjectId

from documents.audit import AuditEvent, AuditKind
from documents.otp import CodePurpose, OneTimeCode
from documents.user import ContactChannel, User
from gateway.accounts.context import Accounts
from gateway.accounts.problems import AlreadyVerified, NoDestination, OtpCooldown, OtpDead, OtpInvalid, WrongPassword
from gateway.accounts.sessions import revoke_other_sessions
from gateway.logs import get_logger
from gateway.notifications.security_codes import send_security_code
from gateway.security.passwords import check_password_strength

log = get_logger("lango.codes")

VERIFY_PURPOSE: dict[ContactChannel, CodePurpose] = {"email": CodePurpose.VERIFY_EMAIL, "sms": CodePurpose.VERIFY_PHONE}


async def send_code(accounts: Accounts, user: User, purpose: CodePurpose, destination: str) -> None:
    """Issue a fresh code and send it; 429 when the destination had too many or the last code is too recent."""
    auth = accounts.settings.auth
    await accounts.limits.hit("otp_sends_per_destination", destination)
    code = await OneTimeCode.issue(
        user.id,  # type: ignore[arg-type]
        purpose,
        destination,
        lifetime=timedelta(seconds=auth.otp_ttl_s),
        cooldown=timedelta(seconds=auth.otp_resend_cooldown_s),
    )
    if code is None:
        raise OtpCooldown(auth.otp_resend_cooldown_s)
    await send_security_code(
        accounts.email,
        accounts.sms,
        accounts.settings.notifications,
        user,
        destination=destination,
        code=code,
        purpose=purpose.value,
        minutes=auth.otp_ttl_s // 60,
    )


async def send_verification(accounts: Accounts, user: User, channel: ContactChannel) -> None:
    destination = user.destination(channel)
    if destination is None:
        raise NoDestination(f"the account has no {'email' if channel == 'email' else 'phone'}")
    if (user.email_verified_at if channel == "email" else user.phone_verified_at) is not None:
        raise AlreadyVerified()
    await send_code(accounts, user, VERIFY_PURPOSE[channel], destination)


async def _spend_code(accounts: Accounts, user_id: PydanticObjectId, purpose: CodePurpose, code: str) -> str:
    """Check a code against the live one; answers where it was sent, or raises otp-invalid / otp-expired."""
    await accounts.limits.hit("otp_checks_per_account", str(user_id))
    outcome, destination = await OneTimeCode.check(user_id, purpose, code, max_attempts=accounts.settings.auth.otp_max_attempts)
    if outcome == "dead":
        raise OtpDead()
    if outcome == "wrong":
        raise OtpInvalid()
    return destination  # type: ignore[return-value]


async def verify_contact(accounts: Accounts, user: User, channel: ContactChannel, code: str) -> None:
    destination = await _spend_code(accounts, user.id, VERIFY_PURPOSE[channel], code)  # type: ignore[arg-type]
    if not await user.mark_verified(channel, destination):
        raise OtpDead("the code was sent to a contact point the account no longer has")


async def request_password_reset(accounts: Accounts, *, email: str | None, phone: str | None) -> None:
    """Send a reset code when the account exists; the answer is the same either way."""
    user = await User.by_login(email=email, phone=phone)
    destination = email or phone or ""
    if user is None:
        await accounts.limits.hit("otp_sends_per_destination", destination)
        log.info("password reset asked for an unknown account")
        return
    try:
        await send_code(accounts, user, CodePurpose.PASSWORD_RESET, destination)
    except OtpCooldown:
        # A code sent moments ago still works; telling the caller would confirm the account exists.
        return


async def reset_password(
    accounts: Accounts, *, email: str | None, phone: str | None, code: str, new_password: str, client_address: str | None
) -> None:
    """Set a new password with a reset code; every session of the account is signed out."""
    user = await User.by_login(email=email, phone=phone)
    if user is None:
        await accounts.limits.hit("otp_checks_per_account", email or phone or "")
        raise OtpInvalid()
    check_password_strength(new_password, min_length=accounts.settings.auth.password_min_length, personal=(user.email, user.phone))
    destination = await _spend_code(accounts, user.id, CodePurpose.PASSWORD_RESET, code)  # type: ignore[arg-type]
    await user.replace_password(await accounts.passwords.hash(new_password))
    # The code reached this contact point, which proves the person holds it.
    await user.mark_verified("sms" if destination == user.phone else "email", destination)
    await revoke_other_sessions(accounts, user.id, keep=None, because="password_reset")  # type: ignore[arg-type]
    await AuditEvent.record(AuditKind.PASSWORD_RESET, user_id=user.id, client_address=client_address)


async def change_password(
    accounts: Accounts, user: User, *, current_password: str, new_password: str, session_id: str, client_address: str | None
) -> None:
    """Replace the password after checking the current one; every other session is signed out."""
    await accounts.limits.ensure_room("login_failures_per_account", str(user.id))
    if not await accounts.passwords.verify(current_password, user.password_hash):
        await accounts.limits.hit_quietly("login_failures_per_account", str(user.id))
        raise WrongPassword()
    check_password_strength(new_password, min_length=accounts.settings.auth.password_min_length, personal=(user.email, user.phone))
    await user.replace_password(await accounts.passwords.hash(new_password))
    await revoke_other_sessions(accounts, user.id, keep=session_id or None, because="password_changed")  # type: ignore[arg-type]
    await AuditEvent.record(AuditKind.PASSWORD_CHANGED, user_id=user.id, client_address=client_address)
