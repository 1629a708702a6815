"""Per-user notification preferences: reading them with defaults, replacing them, and quiet hours."""

from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from documents.notification_preferences import (
    ChannelSwitches,
    ConfigurableKind,
    Locale,
    NotificationPreferences,
    QuietHours,
    checked_time_zone,
)
from gateway.request_models import RequestModel
from gateway.services import Services


class PreferencesUpdate(RequestModel):
    """The whole preference set; kinds left out keep their defaults. OTP and other security messages are not listed:
    they are always sent."""

    locale: Locale
    time_zone: Annotated[str, Field(max_length=64)]
    quiet_hours: QuietHours | None = None
    kinds: dict[ConfigurableKind, ChannelSwitches] = {}

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return checked_time_zone(value)


async def preferences_of(services: Services, user_id: str) -> NotificationPreferences:
    settings = services.settings.notifications
    return await NotificationPreferences.of(
        user_id, default_locale=settings.default_locale, default_time_zone=settings.default_time_zone
    )


async def replace_preferences(user_id: str, update: PreferencesUpdate) -> NotificationPreferences:
    return await NotificationPreferences.replace_for(
        user_id, locale=update.locale, time_zone=update.time_zone, quiet_hours=update.quiet_hours, kinds=update.kinds
    )


def quiet_until(preferences: NotificationPreferences, now: datetime) -> datetime | None:
    """When the quiet window `now` falls in ends (UTC), or None outside quiet hours."""
    window = preferences.quiet_hours
    if window is None or window.start == window.end:
        return None
    zone = ZoneInfo(preferences.time_zone)
    local_now = now.astimezone(zone)
    clock = local_now.time().replace(tzinfo=None)
    wraps_midnight = window.start > window.end
    inside = (clock >= window.start or clock < window.end) if wraps_midnight else window.start <= clock < window.end
    if not inside:
        return None
    end_day = local_now.date() + timedelta(days=1) if wraps_midnight and clock >= window.start else local_now.date()
    # Built from the wall clock in the zone, so a daylight-saving change inside the window still ends it on time.
    return datetime.combine(end_day, window.end, tzinfo=zone).astimezone(UTC)
