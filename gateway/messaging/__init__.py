"""The message bus: one `publish` for flows, an envelope with a per-room id, fan-out through Redis."""

from gateway.messaging.bus import BusUnavailable, MessageBus, Outgoing, Published, PushNotice
from gateway.messaging.targets import BROADCAST, Envelope, InvalidTarget, property_room, scanners_room, user_room

__all__ = [
    "BROADCAST",
    "Envelope",
    "BusUnavailable",
    "InvalidTarget",
    "MessageBus",
    "Outgoing",
    "Published",
    "PushNotice",
    "property_room",
    "scanners_room",
    "user_room",
]
