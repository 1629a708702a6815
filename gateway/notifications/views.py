"""What the notification routes answer: the inbox and its notifications, preferences, push devices, broadcasts,
counts marked read, and the sandbox's outbox of messages kept instead of sent."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from documents.broadcast import Audience, Broadcast, BroadcastStatus
from documents.device import Device, Platform
from documents.notification import Notification, NotificationKind
from documents.notification_preferences import ChannelSwitches, Locale, NotificationPreferences, QuietHours


class MarkedRead(BaseModel):
    updated: int


class Outbox(BaseModel):
    items: list[dict[str, Any]]


class NotificationView(BaseModel):
    """A notification as the inbox lists it and as `notification.created` carries it."""

    id: str
    kind: NotificationKind
    title: str
    body: str
    data: dict[str, str]
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, notification: Notification) -> "NotificationView":
        return cls(
            id=str(notification.id),
            kind=notification.kind,
            title=notification.title,
            body=notification.body,
            data=notification.data,
            created_at=notification.created_at,
            read_at=notification.read_at,
        )


class InboxPage(BaseModel):
    items: list[NotificationView]
    next_cursor: str | None
    unread: int


class DeviceView(BaseModel):
    id: str
    platform: Platform
    app_version: str | None
    registered_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, device: Device) -> "DeviceView":
        return cls(
            id=str(device.id),
            platform=device.platform,
            app_version=device.app_version,
            registered_at=device.registered_at,
            updated_at=device.updated_at,
        )


class DeviceList(BaseModel):
    items: list[DeviceView]


class PreferencesView(BaseModel):
    locale: Locale
    time_zone: str
    quiet_hours: QuietHours | None
    kinds: dict[str, ChannelSwitches]

    @classmethod
    def of(cls, preferences: NotificationPreferences) -> "PreferencesView":
        return cls(
            locale=preferences.locale,
            time_zone=preferences.time_zone,
            quiet_hours=preferences.quiet_hours,
            kinds=preferences.effective_kinds(),
        )


class BroadcastView(BaseModel):
    """`sent`: recipients whose notification is stored and queued on their channels; `failed`: the rest."""

    id: str
    audience: Audience
    title: str
    message: str
    status: BroadcastStatus
    total: int
    sent: int
    failed: int
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, broadcast: Broadcast) -> "BroadcastView":
        return cls(
            id=str(broadcast.id),
            audience=broadcast.audience,
            title=broadcast.title,
            message=broadcast.body,
            status=broadcast.status,
            total=broadcast.total,
            sent=broadcast.sent,
            failed=broadcast.failed,
            created_at=broadcast.created_at,
            finished_at=broadcast.finished_at,
        )
