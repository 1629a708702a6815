"""Every kind renders in English and Swahili: HTML escaped, plain text not, texts short enough for one or two SMS."""

from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from documents.notification import NotificationKind
from documents.notification_preferences import NotificationPreferences, QuietHours
from gateway.notifications.formatting import day, money
from gateway.notifications.preferences import quiet_until
from gateway.notifications.sms_text import segments, septets, to_gsm7
from gateway.notifications.templates import LOCALES, TEMPLATES

# Long but realistic values: the texts must still fit where they are meant to.
CONTEXT: dict[str, Any] = {
    "app_url": "https://lango.africa",
    "time_zone": "Africa/Nairobi",
    "code": "482913",
    "purpose": "password_reset",
    "minutes": 10,
    "property_title": "Msafiri Oceanfront Villa with Private Pool & Garden",
    "town": "Watamu",
    "check_in": "2026-12-28",
    "check_out": "2027-01-02",
    "nights": 5,
    "guests": 4,
    "total_minor": 12_345_650,
    "currency": "KES",
    "refund_due_minor": 6_172_825,
    "booking_ref": "9F3A21BC",
    "booking_url": "https://lango.africa/bookings/65f0c2a19f3a21bc9f3a21bc",
    "check_in_time": "14:00",
    "amount_minor": 12_345_650,
    "method": "M-Pesa",
    "receipt_number": "SKL4H7QX2P",
    "paid_at": "2026-12-01T09:30:00+00:00",
    "description": "Booking 9F3A21BC at Msafiri Oceanfront Villa",
    "event_title": "Sauti za Busara Festival: Closing Night",
    "starts_at": "2027-02-14T15:00:00+00:00",
    "venue": "Old Fort Amphitheatre, Stone Town, Zanzibar",
    "ticket_code": "TKT-9X4F-22QM",
    "qr_url": "https://lango.africa/tickets/9x4f/qr.png",
    "ticket_url": "https://lango.africa/t/9x4f22qm",
    "event_url": "https://lango.africa/events/65f0c2a19f3a21bc9f3a21bc",
    "seats": 3,
    "refund_by_team": True,
    "title": "Scheduled maintenance",
    "message": "Payments pause on Sunday from 02:00 to 03:00.",
    "change": "mfa_reset",
    "payout_phone": "2547*****678",
    "decision": "refused",
    "reason": "The photo of the identity card is blurred: upload a sharper one, taken in daylight, without glare",
    "notice": "deletion_scheduled",
    "day": "2026-12-17T09:00:00+00:00",
    "feed_name": "Airbnb (main listing calendar)",
    "first_night": "2026-12-28",
    "calendar_url": "https://lango.africa/listings/65f0c2a19f3a21bc9f3a21bc/calendar",
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_renders_all_parts_in_gsm7_within_two_segments(kind: NotificationKind, locale: str) -> None:
    rendered = TEMPLATES.render(kind, locale, CONTEXT)
    for part in (rendered.subject, rendered.text, rendered.html, rendered.sms, rendered.push_title, rendered.push_body):
        assert part
    assert "\n" not in rendered.subject
    assert septets(rendered.sms) is not None, rendered.sms
    assert segments(rendered.sms) <= (1 if kind == NotificationKind.OTP else 2), (len(rendered.sms), rendered.sms)


def test_booking_confirmation_in_swahili_uses_swahili_dates() -> None:
    rendered = TEMPLATES.render(NotificationKind.BOOKING_CONFIRMED, "sw", CONTEXT)
    assert rendered.subject == "Uhifadhi umethibitishwa: Msafiri Oceanfront Villa with Private Pool & Garden"
    assert "Kuingia: Jumatatu 28 Desemba 2026" in rendered.text
    assert "Umelipa: KES 123,456.50" in rendered.text
    assert 'lang="sw"' in rendered.html


def test_html_is_escaped_and_plain_text_is_not() -> None:
    hostile = {**CONTEXT, "property_title": 'Villa <script>alert("x")</script> & Spa'}
    rendered = TEMPLATES.render(NotificationKind.BOOKING_CONFIRMED, "en", hostile)
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html and "&amp; Spa" in rendered.html
    assert 'Villa <script>alert("x")</script> & Spa' in rendered.text


def test_the_ticket_email_carries_the_qr_image() -> None:
    rendered = TEMPLATES.render(NotificationKind.TICKET_ISSUED, "en", CONTEXT)
    assert '<img src="https://lango.africa/tickets/9x4f/qr.png"' in rendered.html
    # 15:00 UTC is 18:00 in Nairobi.
    assert "Sun 14 February 2027 at 18:00" in rendered.text


def test_otp_sms_is_one_segment_and_names_the_purpose() -> None:
    rendered = TEMPLATES.render(NotificationKind.OTP, "en", CONTEXT)
    assert rendered.sms == "Your Lango code to reset your password is 482913. It expires in 10 min. Never share it."
    assert "482913" not in rendered.push_body


def test_sms_text_is_kept_in_gsm7() -> None:
    assert to_gsm7("Karibu “Nyumbani” – Café 🏖️ Ángela…") == 'Karibu "Nyumbani" - Café  Angela...'
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("a" * 306) == 2
    assert segments("€" * 80) == 1
    assert segments("ł" * 71) == 2


def test_money_and_days() -> None:
    assert money(1_250_000, "KES") == "KES 12,500"
    assert money(1_250_050, "KES") == "KES 12,500.50"
    assert day(date(2026, 3, 2), "en") == "Mon 2 March 2026"
    assert day(date(2026, 3, 2), "sw") == "Jumatatu 2 Machi 2026"


def _preferences(start: str, end: str) -> NotificationPreferences:
    return NotificationPreferences(
        user_id="u1",
        locale="en",
        time_zone="Africa/Nairobi",
        quiet_hours=QuietHours(start=time.fromisoformat(start), end=time.fromisoformat(end)),
    )


def test_quiet_hours_over_midnight_end_the_next_morning_local_time() -> None:
    overnight = _preferences("22:00", "07:00")
    # 20:30 UTC is 23:30 in Nairobi: quiet until 07:00 Nairobi, 04:00 UTC.
    assert quiet_until(overnight, datetime(2026, 5, 1, 20, 30, tzinfo=UTC)) == datetime(2026, 5, 2, 4, 0, tzinfo=UTC)
    # 01:00 UTC is 04:00 in Nairobi: the same night's window.
    assert quiet_until(overnight, datetime(2026, 5, 2, 1, 0, tzinfo=UTC)) == datetime(2026, 5, 2, 4, 0, tzinfo=UTC)
    assert quiet_until(overnight, datetime(2026, 5, 2, 9, 0, tzinfo=UTC)) is None
    daytime = _preferences("13:00", "15:00")
    assert quiet_until(daytime, datetime(2026, 5, 2, 10, 30, tzinfo=UTC)) == datetime(2026, 5, 2, 12, 0, tzinfo=UTC)
    assert quiet_until(daytime, datetime(2026, 5, 2, 12, 0, tzinfo=UTC)) is None
