"""Signing up in two steps: a code to each contact point given, then the account, created by whoever holds the codes.

Every sign-up is answered alike and does the same work in the request: whether an address already has an account
is looked up only by the job that sends the code, which sends the owner a notice instead. So the answer never
tells anyone which addresses have services, and a code never reaches someone who does not hold the address.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError
from saq import Queue

from documents.audit import AuditEvent, AuditKind
from documents.notification import NotificationKind
from documents.otp import new_code
from documents.pending_signup import PendingSignup, SignupContended
from documents.user import ContactChannel, User
from gateway.accounts.codes import spend_send_budget
from gateway.accounts.context import Device
from gateway.accounts.devices import issue_device_token
from gateway.accounts.problems import OtpDead, OtpInvalid
from gateway.accounts.sessions import TokenPair, open_session
from gateway.jobs import JobPolicy, enqueue, job
from gateway.logs import get_logger
from gateway.notifications.security_codes import send_security_code, send_security_message
from gateway.problems import Conflict
from gateway.security.passwords import check_password_strength
from gateway.services import Services

log = get_logger("lango.signup")


def _contact_points(email: str | None, phone: str | None) -> list[tuple[ContactChannel, str]]:
    points: list[tuple[ContactChannel, str]] = [("email", email)] if email else []
    return points + ([("sms", phone)] if phone else [])


async def request_signup(
    services: Services, queue: Queue, *, email: str | None, phone: str | None, password: str, client_address: str | None
) -> None:
    """Keep the sign-up (replacing any pending one for the same address) and queue a code to each contact point."""
    await services.limits.hit("signups_per_address", client_address or "unknown")
    await services.limits.hit("signups_overall", "all")
    auth = services.settings.auth
    check_password_strength(password, min_length=auth.password_min_length, personal=(email, phone))
    contact_points = _contact_points(email, phone)
    for _, destination in contact_points:
        await spend_send_budget(services, destination, client_address)
    pending = PendingSignup(
        email=email,
        phone=phone,
        password_hash=await services.passwords.hash(password),
        expires_at=datetime.now(UTC) + timedelta(seconds=auth.otp_ttl_s),
    )
    try:
        await pending.replace_earlier()
    except SignupContended:
        raise Conflict("other sign-ups for this address are being made right now: try again") from None
    for channel, _ in contact_points:
        key = f"signup-code:{pending.id}:{channel}"
        await enqueue(queue, send_signup_code, key=key, pending_id=str(pending.id), channel=channel)


@job(JobPolicy(retries=3, retry_delay_s=5.0, timeout_s=60))
async def send_signup_code(ctx: dict[str, Any], *, pending_id: str, channel: ContactChannel) -> str:
    """Send the sign-up's code to one contact point, or, where an account already has that address, a notice to
    its owner; answers which (or that the sign-up is gone: confirmed, replaced or expired meanwhile)."""
    services: Services = ctx["services"]
    pending = await PendingSignup.get(pending_id)
    destination = pending.destination(channel) if pending else None
    if pending is None or destination is None:
        return "gone"
    notifications = services.settings.notifications
    owner = await User.find_one({"email" if channel == "email" else "phone": destination})
    if owner is not None:
        await send_security_message(
            services.email, services.sms, notifications, owner, destination=destination, kind=NotificationKind.SIGNUP_ATTEMPT, context={}
        )
        return "notice"
    code = new_code()
    if not await pending.set_code(channel, code):
        return "gone"
    minutes = services.settings.auth.otp_ttl_s // 60
    await send_security_code(
        services.email, services.sms, notifications, None, destination=destination, code=code, purpose="signup", minutes=minutes
    )
    return "code"


async def confirm_signup(
    services: Services,
    *,
    email: str | None,
    phone: str | None,
    email_code: str | None,
    phone_code: str | None,
    device: Device,
) -> tuple[User, TokenPair, str]:
    """Create the account of a pending sign-up whose every code is right, with its contact points verified, and sign
    this device in; answers the account, its tokens and a device token."""
    max_attempts = services.settings.auth.otp_max_attempts
    outcome, pending = await PendingSignup.redeem(
        email=email, phone=phone, email_code=email_code, phone_code=phone_code, max_attempts=max_attempts
    )
    if outcome == "wrong":
        raise OtpInvalid()
    if pending is None:
        raise OtpDead("no sign-up of this email and phone is waiting, or its codes expired or were tried too often")
    now = datetime.now(UTC)
    user = User(
        email=pending.email,
        phone=pending.phone,
        email_verified_at=now if pending.email else None,
        phone_verified_at=now if pending.phone else None,
        password_hash=pending.password_hash,
    )
    try:
        await user.insert()
    except DuplicateKeyError:
        # Only an account made some other way since the sign-up (by an admin) can hold the address now.
        raise OtpDead("this address now belongs to an account: sign in instead") from None
    await AuditEvent.record(AuditKind.SIGNUP, user_id=user.id, client_address=device.client_address)
    return user, await open_session(services, user, device), issue_device_token(services, user)
