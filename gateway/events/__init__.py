"""The domain event bus: one `publish` for flows, an envelope with a per-room id, fan-out through Redis."""

from gateway.events.bus import EventBus, EventBusUnavailable, Outgoing, PushNotice, Published
from gateway.events.targets import BROADCAST, Envelope, InvalidTarget, property_room, scanners_room, user_room

__all__ = [
    "BROADCAST",
    "Envelope",
    "EventBus",
    "EventBusUnavailable",
    "InvalidTarget",
    "Outgoing",
    "Published",
    "PushNotice",
    "property_room",
    "scanners_room",
    "user_room",
]
