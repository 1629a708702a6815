"""The data model: Beanie documents, their indexes, and the rules of their state."""

from beanie import Document

from documents.analytics_opt_out import AnalyticsOptOut
from documents.audit import AuditEvent
from documents.broadcast import Broadcast
from documents.device import Device
from documents.notification import Notification
from documents.notification_preferences import NotificationPreferences
from documents.otp import OneTimeCode
from documents.session import Session
from documents.stored_file import StoredFile
from documents.user import User

# Every document the gateway stores; init_beanie and `lango migrate` work from this list.
ALL_DOCUMENTS: list[type[Document]] = [User, Session, OneTimeCode, AuditEvent, StoredFile, AnalyticsOptOut, Device, Notification, NotificationPreferences, Broadcast]

__all__ = ["ALL_DOCUMENTS"]
