"""Preferences decide the channels of each kind, never of security codes; quiet hours hold messages, never drop them."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient

from documents.notification import Channel, DeliveryStatus, Notification, NotificationKind
from documents.user import User
from gateway.notifications import notify, send_security_code
from gateway.state import SERVICES
from providers.outbox import list_outbox
from tests.factories import access_token_for, auth_header, create_user
from tests.notifications.conftest import Start, deliver, queued_job

PHONE = "+254722000111"
CONFIRMATION: dict[str, Any] = {
    "property_title": "Garden flat in Kilimani",
    "town": "Kilimani",
    "check_in": "2026-12-28",
    "check_out": "2026-12-30",
    "nights": 2,
    "guests": 2,
    "total_minor": 1_100_000,
    "currency": "KES",
    "refund_due_minor": 0,
    "booking_ref": "9F3A21BC",
    "booking_url": "https://lango.africa/bookings/x",
}


async def _user(client: TestClient) -> tuple[User, dict[str, str]]:
    user = await create_user(client.app, email=f"guest-{PHONE[-3:]}@example.com", phone=PHONE)
    return user, auth_header(access_token_for(client.app, user))


def _preferences(**changes: Any) -> dict[str, Any]:
    return {"locale": "en", "time_zone": "Africa/Nairobi", **changes}


async def test_preferences_start_from_defaults_and_are_replaced(start: Start) -> None:
    client = await start()
    _, headers = await _user(client)

    defaults = await (await client.get("/v1/me/notification-preferences", headers=headers)).json()
    assert defaults["locale"] == "en" and defaults["time_zone"] == "Africa/Nairobi" and defaults["quiet_hours"] is None
    assert defaults["kinds"]["booking_confirmed"] == {"email": True, "sms": True, "push": True}
    assert "otp" not in defaults["kinds"]

    body = _preferences(locale="sw", quiet_hours={"start": "22:00", "end": "07:00"}, kinds={"broadcast": {"email": False, "sms": False, "push": False}})
    replaced = await client.put("/v1/me/notification-preferences", json=body, headers=headers)
    assert replaced.status == 200, await replaced.text()
    stored = await (await client.get("/v1/me/notification-preferences", headers=headers)).json()
    assert stored["locale"] == "sw" and stored["quiet_hours"] == {"start": "22:00:00", "end": "07:00:00"}
    assert stored["kinds"]["broadcast"] == {"email": False, "sms": False, "push": False}
    assert stored["kinds"]["welcome"] == defaults["kinds"]["welcome"]


async def test_security_codes_cannot_be_switched_off_and_bad_zones_are_refused(start: Start) -> None:
    client = await start()
    _, headers = await _user(client)
    off = {"email": False, "sms": False, "push": False}

    refused = await client.put("/v1/me/notification-preferences", json=_preferences(kinds={"otp": off}), headers=headers)
    assert refused.status == 422
    bad_zone = await client.put("/v1/me/notification-preferences", json=_preferences(time_zone="Mars/Olympus"), headers=headers)
    assert bad_zone.status == 422
    assert (await client.get("/v1/me/notification-preferences")).status == 401


async def test_a_kind_turned_off_stops_that_channel_but_security_codes_still_go_out(start: Start) -> None:
    client = await start()
    user, headers = await _user(client)
    sms_off = {"booking_confirmed": {"email": True, "sms": False, "push": False}}
    assert (await client.put("/v1/me/notification-preferences", json=_preferences(kinds=sms_off), headers=headers)).status == 200

    confirmation = await notify(client.app[SERVICES], str(user.id), NotificationKind.BOOKING_CONFIRMED, CONFIRMATION)
    assert confirmation is not None and list(confirmation.deliveries) == [Channel.EMAIL]

    all_off = {kind: {"email": False, "sms": False, "push": False} for kind in ("booking_confirmed", "welcome", "broadcast")}
    await client.put("/v1/me/notification-preferences", json=_preferences(kinds=all_off), headers=headers)
    app = client.app
    await send_security_code(
        app[SERVICES].email, app[SERVICES].sms, app[SERVICES].settings.notifications, user, destination=PHONE, code="482913", purpose="verify_phone", minutes=10
    )
    [sms] = await list_outbox(app[SERVICES].redis, app[SERVICES].settings.redis.namespace, "sms")
    assert sms["to"] == PHONE and sms["kind"] == "otp"
    assert sms["text"] == "Your Lango code to verify your phone is 482913. It expires in 10 min. Never share it."
    [record] = await Notification.find({"kind": NotificationKind.OTP}).to_list()
    assert record.deliveries[Channel.SMS].status == DeliveryStatus.SENT
    assert "482913" not in record.model_dump_json(), "the inbox never keeps a code"


async def test_quiet_hours_hold_non_urgent_messages_until_the_window_ends(start: Start) -> None:
    client = await start()
    user, headers = await _user(client)
    nairobi_now = datetime.now(ZoneInfo("Africa/Nairobi"))
    window = {"start": (nairobi_now - timedelta(hours=1)).strftime("%H:%M"), "end": (nairobi_now + timedelta(hours=1)).strftime("%H:%M")}
    assert (await client.put("/v1/me/notification-preferences", json=_preferences(quiet_hours=window), headers=headers)).status == 200

    held = await notify(client.app[SERVICES], str(user.id), NotificationKind.BOOKING_CONFIRMED, CONFIRMATION)
    assert held is not None
    window_end = (nairobi_now + timedelta(hours=1)).replace(second=0, microsecond=0).astimezone(UTC)
    for channel in (Channel.EMAIL, Channel.SMS):
        assert held.deliveries[channel].scheduled_for == window_end
        job = await queued_job(client.app, f"notification:{held.id}:{channel}")
        assert job.scheduled == int(window_end.timestamp())
    assert await client.app[SERVICES].queue.count("queued") == 0, "nothing goes out before the window ends"
    inbox = await (await client.get("/v1/me/notifications", headers=headers)).json()
    assert [item["id"] for item in inbox["items"]] == [str(held.id)], "the inbox has it at once"

    ticket = {"event_title": "Busara", "starts_at": "2027-02-14T15:00:00+00:00", "venue": "Old Fort", "ticket_code": "T-1", "qr_url": "https://lango.africa/q.png", "ticket_url": "https://lango.africa/t/1"}
    urgent = await notify(client.app[SERVICES], str(user.id), NotificationKind.TICKET_ISSUED, ticket)
    assert urgent is not None and urgent.deliveries[Channel.SMS].scheduled_for is None
    assert await deliver(client.app, urgent, Channel.SMS) == "sent"
