"""The current time as the database stores it: UTC, to the millisecond, so what a flow answers equals what it reads back."""

from datetime import UTC, datetime


def stored_now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
