"""Telling an account's owner at once that the way it signs in changed: two-factor turned on, off or reset."""

import time
from enum import StrEnum

from documents.notification import NotificationKind
from gateway.notifications.dispatch import notify
from gateway.services import Services


class SecurityChange(StrEnum):
    MFA_ENROLMENT_STARTED = "mfa_enrolment_started"
    MFA_ENABLED = "mfa_enabled"
    MFA_DISABLED = "mfa_disabled"
    MFA_RESET = "mfa_reset"
    # Told to the old address, which is the one the owner still reads if someone else made the change.
    EMAIL_CHANGED = "email_changed"
    PHONE_CHANGED = "phone_changed"


# A started enrolment is told once in this long however often it is restarted: each notice may cost a text message.
_ENROLMENT_NOTICE_EVERY_S = 600


async def alert_owner(services: Services, user_id: str, change: SecurityChange) -> None:
    """A security alert on every channel the account can be reached on, whatever its preferences and quiet hours."""
    dedupe_key = None
    if change is SecurityChange.MFA_ENROLMENT_STARTED:
        dedupe_key = f"{change.value}:{int(time.time()) // _ENROLMENT_NOTICE_EVERY_S}"
    await notify(services, user_id, NotificationKind.SECURITY_ALERT, {"change": change.value}, dedupe_key=dedupe_key)
