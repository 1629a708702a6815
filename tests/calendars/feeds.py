"""iCal files shaped as Airbnb and Booking.com export them (CRLF lines, their PRODIDs, UIDs and summaries)."""

from datetime import date


def _ical(lines: list[str]) -> str:
    return "\r\n".join(lines) + "\r\n"


def _day(day: date) -> str:
    return day.strftime("%Y%m%d")


def airbnb_feed(*stays: tuple[date, date]) -> str:
    """Airbnb: a `Reserved` event per booking with its reservation link, `Airbnb (Not available)` per blocked run."""
    lines = ["BEGIN:VCALENDAR", "PRODID:-//Airbnb Inc//Hosting Calendar 1.0.0//EN", "CALSCALE:GREGORIAN", "VERSION:2.0"]
    for n, (start, end) in enumerate(stays):
        summary = "Reserved" if n % 2 == 0 else "Airbnb (Not available)"
        lines += [
            "BEGIN:VEVENT",
            f"DTEND;VALUE=DATE:{_day(end)}",
            f"DTSTART;VALUE=DATE:{_day(start)}",
            f"UID:1418fb94e984-{n:04d}a2d8f4e4b5d1f8c6e0b2d3f1@airbnb.com",
            "DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/details/HMQ8Z2TEST\\nPhone Num",
            " ber (Last 4 Digits): 4321",
            f"SUMMARY:{summary}",
            "END:VEVENT",
        ]
    return _ical([*lines, "END:VCALENDAR"])


def booking_com_feed(*stays: tuple[date, date], cancelled: tuple[date, date] | None = None) -> str:
    """Booking.com: `CLOSED - Not available` events with a DTSTAMP; a cancelled stay may linger as STATUS:CANCELLED."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//admin.booking.com//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    events = [(start, end, "CONFIRMED") for start, end in stays] + ([(*cancelled, "CANCELLED")] if cancelled else [])
    for n, (start, end, status) in enumerate(events):
        lines += [
            "BEGIN:VEVENT",
            f"UID:{n:08x}6b0a5e0b0b7f2f1d@booking.com",
            "DTSTAMP:20260101T101010Z",
            f"DTSTART;VALUE=DATE:{_day(start)}",
            f"DTEND;VALUE=DATE:{_day(end)}",
            "SUMMARY:CLOSED - Not available",
            f"STATUS:{status}",
            "END:VEVENT",
        ]
    return _ical([*lines, "END:VCALENDAR"])
