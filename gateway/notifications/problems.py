"""Problems the notification routes answer with."""

from gateway.problems import NotFound


class NotificationNotFound(NotFound):
    slug, title = "notification-not-found", "No such notification"


class DeviceNotFound(NotFound):
    slug, title = "device-not-found", "No such device"


class BroadcastNotFound(NotFound):
    slug, title = "broadcast-not-found", "No such broadcast"
