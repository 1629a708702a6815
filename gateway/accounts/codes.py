"""One-time codes by email and SMS: verifying contact points, resetting a forgotten password, changing it."""

from datetime import timedelta
from typing import Any

from beanie import PydanticObjectId
from saq import Queue

from documents.audit import AuditEvent, AuditKind
from documents.otp import CodePurpose, OneTimeCode
from documents.user import ContactChannel, User
from gateway.accounts.devices import issue_device_token
from gateway.accounts.problems import AlreadyVerified, NoDestination, OtpCooldown, OtpDead, OtpInvalid
from gateway.accounts.sessions import revoke_other_sessions
from gateway.accounts.step_up import verify_current_password
from gateway.jobs import JobPolicy, enqueue, job
from gateway.logs import get_logger
from gateway.notifications.security_codes import send_security_code
from gateway.security.passwords import check_password_strength
from gateway.services import Services

log = get_logger("lango.codes")

VERIFY_PURPOSE: dict[ContactChannel, CodePurpose] = {"email": CodePurpose.VERIFY_EMAIL, "sms": CodePurpose.VERIFY_PHONE}
RESET_CODE_UNUSABLE = "the code is not right, or has expired: ask for a new one"


async def spend_send_budget(services: Services, destination: str, client_address: str | None) -> None:
    """Count a code or notice a request is about to have sent to `destination`; 429 when that email or phone had
    too many, or, for an SMS, when the client's address or the whole deployment has spent its SMS budget."""
    await services.limits.hit("otp_sends_per_destination", destination)
    if "@" not in destination:
        await services.limits.hit("sms_per_address", client_address or "unknown")
        await services.limits.hit("sms_overall", "all")


async def issue_and_send(services: Services, user: User, purpose: CodePurpose, destination: str, cooldown_s: int) -> bool:
    """Issue a fresh code and send it; False (nothing sent) while the last code is younger than the cooldown."""
    auth = services.settings.auth
    code = await OneTimeCode.issue(
        user.id,  # type: ignore[arg-type]
        purpose,
        destination,
        lifetime=timedelta(seconds=auth.otp_ttl_s),
        cooldown=timedelta(seconds=cooldown_s),
    )
    if code is None:
        return False
    await send_security_code(
        services.email,
        services.sms,
        services.settings.notifications,
        user,
        destination=destination,
        code=code,
        purpose=purpose.value,
        minutes=auth.otp_ttl_s // 60,
    )
    return True


async def spend_code(services: Services, user_id: PydanticObjectId, purpose: CodePurpose, code: str) -> str:
    """Check a code the user got for `purpose` (within their budget of checks); answers where it had been sent."""
    await services.limits.hit("verification_code_checks_per_account", str(user_id))
    outcome, destination = await OneTimeCode.check(user_id, purpose, code, max_attempts=services.settings.auth.otp_max_attempts)
    if outcome == "wrong":
        raise OtpInvalid()
    if outcome == "dead" or destination is None:
        raise OtpDead()
    return destination


async def send_verification(services: Services, user: User, channel: ContactChannel, client_address: str | None) -> None:
    destination = user.destination(channel)
    if destination is None:
        raise NoDestination(f"the account has no {'email' if channel == 'email' else 'phone'}")
    if (user.email_verified_at if channel == "email" else user.phone_verified_at) is not None:
        raise AlreadyVerified()
    await spend_send_budget(services, destination, client_address)
    cooldown_s = services.settings.auth.otp_resend_cooldown_s
    if not await issue_and_send(services, user, VERIFY_PURPOSE[channel], destination, cooldown_s):
        raise OtpCooldown(cooldown_s)


async def verify_contact(services: Services, user: User, channel: ContactChannel, code: str) -> None:
    await services.limits.hit("verification_code_checks_per_account", str(user.id))
    outcome, destination = await OneTimeCode.check(
        user.id,  # type: ignore[arg-type]
        VERIFY_PURPOSE[channel],
        code,
        max_attempts=services.settings.auth.otp_max_attempts,
    )
    if outcome == "dead":
        raise OtpDead()
    if outcome == "wrong":
        raise OtpInvalid()
    if not await user.mark_verified(channel, destination):  # type: ignore[arg-type]
        raise OtpDead("the code was sent to a contact point the account no longer has")


async def request_password_reset(
    services: Services, queue: Queue, *, email: str | None, phone: str | None, client_address: str | None
) -> None:
    """Queue the reset code; the request does the same work whether or not the account exists, so neither its
    answer nor its time tells which (the job looks the account up)."""
    await spend_send_budget(services, email or phone or "", client_address)
    await enqueue(queue, send_password_reset_code, email=email, phone=phone)


@job(JobPolicy(retries=3, retry_delay_s=5.0, timeout_s=60))
async def send_password_reset_code(ctx: dict[str, Any], *, email: str | None, phone: str | None) -> bool:
    """Send a reset code when such an account exists; answers whether one was sent."""
    services: Services = ctx["services"]
    user = await User.by_login(email=email, phone=phone)
    if user is None:
        log.info("password reset asked for an unknown account")
        return False
    # A code sent moments ago still works, so a repeated request sends nothing; a retry after a failed send
    # (its code never arrived) replaces it at once.
    first_try = ctx.get("job") is None or ctx["job"].attempts <= 1
    cooldown_s = services.settings.auth.otp_resend_cooldown_s if first_try else 0
    return await issue_and_send(services, user, CodePurpose.PASSWORD_RESET, email or phone or "", cooldown_s)


async def reset_password(
    services: Services, *, email: str | None, phone: str | None, code: str, new_password: str, client_address: str | None
) -> str:
    """Set a new password with a reset code; every session of the account is signed out. Answers a device token:
    the code proved the person, so this device may sign in even while failures from elsewhere lock the account.

    Every refusal is the same for an account that exists and one that does not."""
    login = email or phone or ""
    check_password_strength(new_password, min_length=services.settings.auth.password_min_length, personal=(email, phone))
    user = await User.by_login(email=email, phone=phone)
    await services.limits.hit("reset_code_checks_per_account", str(user.id) if user else f"login:{login}")
    if user is None:
        raise OtpInvalid(RESET_CODE_UNUSABLE)
    outcome, destination = await OneTimeCode.check(
        user.id,  # type: ignore[arg-type]
        CodePurpose.PASSWORD_RESET,
        code,
        max_attempts=services.settings.auth.otp_max_attempts,
    )
    if outcome != "accepted":
        raise OtpInvalid(RESET_CODE_UNUSABLE)
    await user.replace_password(await services.passwords.hash(new_password))
    # The code reached this contact point, which proves the person holds it.
    await user.mark_verified("sms" if destination == user.phone else "email", destination)  # type: ignore[arg-type]
    await revoke_other_sessions(services, user.id, keep=None, because="password_reset")  # type: ignore[arg-type]
    await services.limits.clear("login_failures_per_account", str(user.id))
    await AuditEvent.record(AuditKind.PASSWORD_RESET, user_id=user.id, client_address=client_address)
    return issue_device_token(services, user)


async def change_password(
    services: Services, user: User, *, current_password: str, new_password: str, session_id: str, client_address: str | None
) -> None:
    """Replace the password after checking the current one; every other session is signed out."""
    await verify_current_password(services, user, current_password)
    check_password_strength(new_password, min_length=services.settings.auth.password_min_length, personal=(user.email, user.phone))
    await user.replace_password(await services.passwords.hash(new_password))
    await revoke_other_sessions(services, user.id, keep=session_id or None, because="password_changed")  # type: ignore[arg-type]
    await AuditEvent.record(AuditKind.PASSWORD_CHANGED, user_id=user.id, client_address=client_address)
