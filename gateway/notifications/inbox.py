"""The in-app inbox: every notification a user got, newest first, and what they have read."""


from beanie import PydanticObjectId
from bson import ObjectId

from documents.notification import Notification
from gateway.notifications.problems import NotificationNotFound
from gateway.notifications.views import InboxPage, NotificationView
from gateway.paging import newest_first


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
