"""What reaches the person: notifications, their preferences, push tokens, consents and the analytics choice."""

from documents.analytics_opt_out import AnalyticsOptOut
from documents.broadcast import Broadcast
from documents.device import Device
from documents.marketing_consent import MarketingConsent
from documents.notification import Notification
from documents.notification_preferences import NotificationPreferences
from gateway.privacy.records import Match, delete_documents, export_documents, pseudonymise_documents
from gateway.privacy.registry import PersonalData


def _own(field: str = "user_id") -> Match:
    return lambda subject: {field: subject.user_id}


NOTIFICATIONS = PersonalData(
    "notifications", "the inbox and each message's delivery", erase=delete_documents(Notification, _own()),
    export=export_documents(Notification, _own()),
)  # fmt: skip
NOTIFICATION_PREFERENCES = PersonalData(
    "notification_preferences", "channels, quiet hours, language and time zone",
    erase=delete_documents(NotificationPreferences, _own()), export=export_documents(NotificationPreferences, _own()),
)  # fmt: skip
DEVICES = PersonalData(
    "devices", "phones registered for push, and their push tokens", erase=delete_documents(Device, _own()),
    export=export_documents(Device, _own()),
)  # fmt: skip
MARKETING_CONSENT = PersonalData(
    "marketing_consent", "whether marketing may be sent, since when, under which wording",
    erase=delete_documents(MarketingConsent, _own()), export=export_documents(MarketingConsent, _own()),
)  # fmt: skip
ANALYTICS_CHOICE = PersonalData(
    "analytics_choice", "a refusal of product analytics", erase=delete_documents(AnalyticsOptOut, _own()),
    export=export_documents(AnalyticsOptOut, _own()),
)  # fmt: skip
BROADCASTS_SENT = PersonalData(
    "broadcasts_sent", "announcements an admin sent", erase=pseudonymise_documents(
        Broadcast, _own("admin_id"), lambda subject: {"admin_id": subject.pseudonym}
    ), export=export_documents(Broadcast, _own("admin_id")),
)  # fmt: skip
