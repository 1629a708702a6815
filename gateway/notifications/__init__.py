"""Notifications: templates in English and Swahili, delivery by email, SMS and push through the job queue, the inbox."""

from documents.notification import NotificationKind
from gateway.notifications.audiences import AUDIENCES, Audience
from gateway.notifications.booking_notices import booking_changed
from gateway.notifications.dispatch import notify
from gateway.notifications.reminders import cancel_event_reminder, schedule_event_reminder
from gateway.notifications.security_codes import send_security_code

__all__ = [
    "AUDIENCES",
    "Audience",
    "NotificationKind",
    "booking_changed",
    "cancel_event_reminder",
    "notify",
    "schedule_event_reminder",
    "send_security_code",
]
