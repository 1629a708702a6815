"""What a user wants to hear about and how: channels per kind, language, time zone and quiet hours."""

from datetime import datetime, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from beanie import Document
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pymongo import IndexModel, ReturnDocument

from documents.clock import stored_now
from documents.notification import SECURITY_KINDS, Channel, NotificationKind

Locale = Literal["en", "sw"]
# Every kind a user may switch channels of; security kinds are absent because they are always sent.
ConfigurableKind = Literal[
    "welcome",
    "booking_confirmed",
    "booking_reminder",
    "booking_cancelled",
    "payment_receipt",
    "ticket_issued",
    "event_reminder",
    "event_cancelled",
    "broadcast",
]


class ChannelSwitches(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: bool = True
    sms: bool = False
    push: bool = True

    def allows(self, channel: Channel) -> bool:
        return bool(getattr(self, channel.value))


# Texts cost the user's attention and us money: on by default only where the stay or the event is at stake.
DEFAULT_SWITCHES: dict[str, ChannelSwitches] = {
    "welcome": ChannelSwitches(push=False),
    "booking_confirmed": ChannelSwitches(sms=True),
    "booking_reminder": ChannelSwitches(sms=True),
    "booking_cancelled": ChannelSwitches(sms=True),
    "payment_receipt": ChannelSwitches(),
    "ticket_issued": ChannelSwitches(sms=True),
    "event_reminder": ChannelSwitches(),
    "event_cancelled": ChannelSwitches(sms=True),
    "broadcast": ChannelSwitches(email=False),
    "payout_sent": ChannelSwitches(sms=True),
    "host_application_decided": ChannelSwitches(sms=True),
    "review_revealed": ChannelSwitches(),
    # A double booking may be on its way: worth a text.
    "calendar_conflict": ChannelSwitches(sms=True),
    "support_conversation": ChannelSwitches(),
}


class QuietHours(BaseModel):
    """A daily window in the user's local time (it may wrap past midnight) when only urgent messages go out."""

    model_config = ConfigDict(extra="forbid")

    start: time
    end: time

    @field_validator("start", "end")
    @classmethod
    def _whole_minutes(cls, value: time) -> time:
        if value.second or value.microsecond or value.tzinfo is not None:
            raise ValueError("give a local time as HH:MM")
        return value


def checked_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone such as Africa/Nairobi") from None
    return name


class NotificationPreferences(Document):
    user_id: str
    locale: Locale
    time_zone: str
    quiet_hours: QuietHours | None = None
    kinds: dict[ConfigurableKind, ChannelSwitches] = Field(default_factory=dict)
    updated_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "notification_preferences"
        indexes = [IndexModel([("user_id", 1)], name="one_per_user", unique=True)]

    def allows(self, kind: NotificationKind, channel: Channel) -> bool:
        if kind in SECURITY_KINDS:
            return True
        chosen: dict[str, ChannelSwitches] = dict(self.kinds)
        switches = chosen.get(kind.value) or DEFAULT_SWITCHES[kind.value]
        return switches.allows(channel)

    def effective_kinds(self) -> dict[str, ChannelSwitches]:
        chosen: dict[str, ChannelSwitches] = dict(self.kinds)
        return {kind: chosen.get(kind) or default for kind, default in DEFAULT_SWITCHES.items()}

    @classmethod
    async def of(cls, user_id: str, *, default_locale: Locale, default_time_zone: str) -> "NotificationPreferences":
        """The user's stored preferences, or the defaults (not stored) when they never set any."""
        stored = await cls.find_one({"user_id": user_id})
        return stored or cls(user_id=user_id, locale=default_locale, time_zone=default_time_zone)

    @classmethod
    async def replace_for(
        cls,
        user_id: str,
        *,
        locale: Locale,
        time_zone: str,
        quiet_hours: QuietHours | None,
        kinds: dict[ConfigurableKind, ChannelSwitches],
    ) -> "NotificationPreferences":
        changes = {
            "locale": locale,
            "time_zone": checked_time_zone(time_zone),
            "quiet_hours": quiet_hours.model_dump(mode="json") if quiet_hours else None,
            "kinds": {kind: switches.model_dump() for kind, switches in kinds.items()},
            "updated_at": stored_now(),
        }
        raw = await cls.get_pymongo_collection().find_one_and_update(
            {"user_id": user_id}, {"$set": changes}, upsert=True, return_document=ReturnDocument.AFTER
        )
        return cls.model_validate(raw)
