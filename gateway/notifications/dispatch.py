"""Notifying a user: the inbox entry, the live `notification.created` event, and a delivery job per channel."""

from datetime import UTC, datetime
from typing import Any

from beanie import PydanticObjectId
from pydantic_core import to_jsonable_python
from pymongo.errors import DuplicateKeyError

from documents.device import Device
from documents.notification import URGENT_KINDS, Channel, ChannelDelivery, Notification, NotificationKind
from documents.notification_preferences import NotificationPreferences
from documents.user import User
from gateway.jobs import enqueue
from gateway.logs import get_logger
from gateway.messaging.bus import BusUnavailable
from gateway.messaging.catalogue import NOTIFICATION_CREATED
from gateway.messaging.targets import user_room
from gateway.notifications.delivery import deliver_notification
from gateway.notifications.preferences import preferences_of, quiet_until
from gateway.notifications.templates import TEMPLATES
from gateway.notifications.views import NotificationView
from gateway.services import Services

log = get_logger("lango.notifications")


async def notify(
    services: Services,
    user_id: str,
    kind: NotificationKind,
    context: dict[str, Any],
    *,
    dedupe_key: str | None = None,
    data: dict[str, str] | None = None,
) -> Notification | None:
    """Store the notification, show it live, and queue it on every channel the user allows and can be reached on.

    With a `dedupe_key` the user is notified once per key: a repeat answers the notification already stored.
    None when the user no longer exists.
    """
    user = await User.get(PydanticObjectId(user_id))
    if user is None:
        log.info("notification for a missing user dropped", user_id=user_id, kind=kind)
        return None
    preferences = await preferences_of(services, user_id)
    values = to_jsonable_python(
        {"app_url": services.settings.notifications.public_app_url, "time_zone": preferences.time_zone, **context}
    )
    rendered = TEMPLATES.render(kind, preferences.locale, values)
    now = datetime.now(UTC)
    held_until = None if kind in URGENT_KINDS else quiet_until(preferences, now)
    channels = await reachable_channels(user, preferences, kind)
    notification = Notification(
        user_id=user_id,
        kind=kind,
        title=rendered.push_title,
        body=rendered.push_body,
        data=data or {},
        locale=preferences.locale,
        context=values,
        dedupe_key=dedupe_key,
        deliveries={channel: ChannelDelivery(scheduled_for=held_until) for channel in channels},
    )
    try:
        await notification.insert()
    except DuplicateKeyError:
        return await Notification.find_one({"user_id": user_id, "dedupe_key": dedupe_key})
    await publish_created(services, notification)
    for channel in channels:
        await enqueue(
            services.queue,
            deliver_notification,
            key=f"notification:{notification.id}:{channel}",
            at=held_until.timestamp() if held_until else 0,
            notification_id=str(notification.id),
            channel=channel.value,
        )
    return notification


async def reachable_channels(user: User, preferences: NotificationPreferences, kind: NotificationKind) -> list[Channel]:
    """The channels the user allows for `kind` and has a verified address (or a registered phone) on."""
    reachable = {
        Channel.EMAIL: bool(user.email and user.email_verified_at),
        Channel.SMS: bool(user.phone and user.phone_verified_at),
        Channel.PUSH: await Device.find({"user_id": str(user.id)}).count() > 0,
    }
    return [channel for channel in Channel if reachable[channel] and preferences.allows(kind, channel)]


async def publish_created(services: Services, notification: Notification) -> None:
    """The inbox entry is stored either way; a client that missed the event finds it on its next inbox fetch."""
    view = NotificationView.of(notification).model_dump(mode="json")
    try:
        await services.bus.publish(user_room(notification.user_id), NOTIFICATION_CREATED, view)
    except BusUnavailable as error:
        log.warning("notification.created not published", notification_id=str(notification.id), error=str(error))
