"""The in-app inbox: every notification a user got, newest first, and what they have read."""

from datetime import datetime

from beanie import PydanticObjectId
from bson import ObjectId
from pydantic import BaseModel

from documents.notification import Notification, NotificationKind
from gateway.notifications.problems import NotificationNotFound
from gateway.paging import newest_first


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


async def inbox_page(user_id: str, cursor: str | None, limit: int) -> InboxPage:
    notifications, next_cursor = await newest_first(Notification, {"user_id": user_id}, cursor, limit)
    return InboxPage(
        items=[NotificationView.of(notification) for notification in notifications],
        next_cursor=next_cursor,
        unread=await Notification.unread_count(user_id),
    )


async def mark_read(user_id: str, notification_id: str) -> None:
    if not ObjectId.is_valid(notification_id) or not await Notification.mark_read(
        user_id, PydanticObjectId(notification_id)
    ):
        raise NotificationNotFound()


async def mark_all_read(user_id: str) -> int:
    return await Notification.mark_all_read(user_id)
