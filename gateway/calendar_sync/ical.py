"""iCalendar (RFC 5545) text: the nights a feed's events take, and a listing's taken nights written as a feed."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event

from gateway.calendar_sync.fetch import FeedRefused

PRODID = "-//Lango//Calendar sync//EN"


def nights_in_feed(raw: bytes, first: date, last: date, max_events: int) -> set[date]:
    """The nights in [first, last] any event of the feed takes: [DTSTART, DTEND) as dates, a date without DTEND one
    night, a time range every night it touches. Cancelled events take none; recurrences count their first
    occurrence only (the booking sites' feeds have none). CPU-bound: call it in a thread."""
    try:
        calendar = Calendar.from_ical(raw)
    except ValueError as error:
        raise FeedRefused(f"not an iCalendar file: {str(error)[:120]}") from None
    if not isinstance(calendar, Calendar) or calendar.name != "VCALENDAR":
        raise FeedRefused("not an iCalendar file: no VCALENDAR")
    events = calendar.walk("VEVENT")
    if len(events) > max_events:
        raise FeedRefused(f"the feed has more than {max_events} events")
    nights: set[date] = set()
    for event in events:
        if str(event.get("STATUS", "")).upper() == "CANCELLED" or "DTSTART" not in event:
            continue
        try:
            start, end = _event_span(event)
        except (ValueError, TypeError, KeyError) as error:
            raise FeedRefused(f"an event's dates cannot be read: {str(error)[:120]}") from None
        night = max(start, first)
        while night < end and night <= last:
            nights.add(night)
            night += timedelta(days=1)
    return nights


def _event_span(event: Event) -> tuple[date, date]:
    """The event's first night, and the day after its last."""
    start = event.decoded("DTSTART")
    if "DTEND" in event:
        end = event.decoded("DTEND")
    elif "DURATION" in event:
        end = start + event.decoded("DURATION")
    else:
        end = start
    if isinstance(start, datetime):
        start_day = _day_of(start)
        end_day = _day_of(end) if isinstance(end, datetime) else end
        # A stay from 15:00 to 11:00 the next day is one night; any time range takes at least the night it starts.
        return start_day, max(end_day, start_day + timedelta(days=1))
    return start, max(end, start + timedelta(days=1))


def _day_of(moment: datetime) -> date:
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date()


@dataclass(frozen=True)
class TakenRun:
    """Consecutive taken nights [start, end) of one kind (and one booking), written as one event."""

    start: date
    end: date
    summary: str
    uid: str


def feed_of(name: str, runs: Iterable[TakenRun], stamped_at: datetime) -> bytes:
    """A VCALENDAR with one all-day event per run, as Airbnb and Booking.com import them."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for run in runs:
        event = Event()
        event.add("uid", run.uid)
        event.add("dtstamp", stamped_at)
        event.add("dtstart", run.start)
        event.add("dtend", run.end)
        event.add("summary", run.summary)
        calendar.add_component(event)
    return calendar.to_ical()
