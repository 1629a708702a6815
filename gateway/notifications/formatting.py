"""Money, dates and times as each language writes them in notifications."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

_MONTHS = {
    "en": "January February March April May June July August September October November December".split(),
    "sw": "Januari Februari Machi Aprili Mei Juni Julai Agosti Septemba Oktoba Novemba Desemba".split(),
}
_WEEKDAYS = {
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "sw": ["Jumatatu", "Jumanne", "Jumatano", "Alhamisi", "Ijumaa", "Jumamosi", "Jumapili"],
}
# Currencies whose minor unit is a hundredth (all this marketplace takes).
_MINOR_PER_MAJOR = 100


def money(minor: int, currency: str) -> str:
    """12_500_00 KES -> "KES 12,500"; cents are shown only when there are any."""
    major, cents = divmod(int(minor), _MINOR_PER_MAJOR)
    return f"{currency} {major:,}" + (f".{cents:02d}" if cents else "")


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _as_datetime(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def day(value: date | datetime | str, locale: str) -> str:
    """Tue 3 March 2026 / Jumanne 3 Machi 2026."""
    when = _as_date(value.date() if isinstance(value, datetime) else value)
    return f"{_WEEKDAYS[locale][when.weekday()]} {when.day} {_MONTHS[locale][when.month - 1]} {when.year}"


def local_time(value: datetime | str, time_zone: str) -> str:
    """The 24-hour clock time of a UTC instant in the user's zone: 18:30."""
    return _as_datetime(value).astimezone(ZoneInfo(time_zone)).strftime("%H:%M")


def local_day(value: datetime | str, locale: str, time_zone: str) -> str:
    return day(_as_datetime(value).astimezone(ZoneInfo(time_zone)), locale)
