"""Changing the account's email or phone: a code to the new one proves it, and the old one is told of the change."""

from pymongo.errors import DuplicateKeyError

from documents.audit import AuditEvent, AuditKind
from documents.notification import NotificationKind
from documents.otp import CodePurpose
from documents.user import ContactChannel, User
from gateway.accounts.codes import issue_and_send, spend_code, spend_send_budget
from gateway.accounts.context import signed_in_user
from gateway.accounts.problems import OtpCooldown
from gateway.accounts.step_up import verify_current_password
from gateway.logs import get_logger
from gateway.notifications.security_alerts import SecurityChange
from gateway.notifications.security_codes import send_security_message
from gateway.profiles.problems import ContactTaken, ContactUnchanged
from gateway.security.callers import Caller
from gateway.services import Services
from providers.errors import ProviderError

log = get_logger("lango.profiles")
CHANGE_PURPOSE: dict[ContactChannel, CodePurpose] = {"email": CodePurpose.CHANGE_EMAIL, "sms": CodePurpose.CHANGE_PHONE}
CHANGED: dict[ContactChannel, SecurityChange] = {
    "email": SecurityChange.EMAIL_CHANGED,
    "sms": SecurityChange.PHONE_CHANGED,
}
AUDITED: dict[ContactChannel, AuditKind] = {"email": AuditKind.EMAIL_CHANGED, "sms": AuditKind.PHONE_CHANGED}


async def start_contact_change(
    services: Services,
    caller: Caller,
    channel: ContactChannel,
    destination: str,
    current_password: str,
    client_address: str | None,
) -> None:
    """Send a code to the new email or phone; nothing changes until it comes back. The password is asked for because
    whoever controls the email or phone can reset it: a stolen access token alone must not be enough."""
    await services.limits.hit("contact_changes_per_user", caller.user_id)
    user = await signed_in_user(caller)
    await verify_current_password(services, user, current_password)
    if user.destination(channel) == destination:
        raise ContactUnchanged()
    await spend_send_budget(services, destination, client_address)
    cooldown_s = services.settings.auth.otp_resend_cooldown_s
    if not await issue_and_send(services, user, CHANGE_PURPOSE[channel], destination, cooldown_s):
        raise OtpCooldown(cooldown_s)


async def confirm_contact_change(
    services: Services, caller: Caller, channel: ContactChannel, code: str, client_address: str | None
) -> None:
    """The code came back: the new email or phone is the account's, verified; the old one hears of it."""
    user = await signed_in_user(caller)
    destination = await spend_code(services, user.id, CHANGE_PURPOSE[channel], code)  # type: ignore[arg-type]
    try:
        previous = await user.replace_contact(channel, destination)
    except DuplicateKeyError:
        raise ContactTaken() from None
    field = "email" if channel == "email" else "phone"
    await AuditEvent.record(
        AUDITED[channel], user_id=user.id, client_address=client_address, previous=previous, new=destination
    )
    log.info("contact changed", user_id=caller.user_id, field=field)
    if previous and previous != destination:
        await _tell_previous(services, user, channel, previous)


async def _tell_previous(services: Services, user: User, channel: ContactChannel, previous: str) -> None:
    """The old address is the one an account's owner still reads when someone else made the change."""
    try:
        await send_security_message(
            services.email,
            services.sms,
            services.settings.notifications,
            user,
            destination=previous,
            kind=NotificationKind.SECURITY_ALERT,
            context={"change": CHANGED[channel].value},
        )
    except ProviderError as error:
        # The change stands; the failed send is kept in the user's inbox record.
        log.warning("old contact not told of the change", user_id=str(user.id), error=str(error))
