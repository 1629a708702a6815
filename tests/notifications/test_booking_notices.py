"""Booking changes become notices: a real SMTP server gets the confirmation; the reminder follows the booking."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient
from aiosmtpd.smtp import SMTP, Envelope
from saq import Status

from documents.notification import Channel, DeliveryStatus, Notification, NotificationKind
from gateway.bookings.lifecycle import confirm_booking
from gateway.notifications.booking_context import booking_reference
from gateway.notifications.reminders import booking_reminder_key, send_booking_reminder
from gateway.state import SERVICES
from tests.notifications.conftest import JOB_WAIT_S, Start, finished_delivery, queued_job
from tests.properties.builders import published_listing, signed_in

TITLE = "Kilimani Garden & Pool"


class Mailbox:
    """aiosmtpd handler keeping each message it accepts and signalling the test."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.received = asyncio.Event()

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        self.received.set()
        return "250 2.0.0 Ok: queued"


@pytest.fixture
async def smtp_relay() -> AsyncIterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(mailbox, hostname="mail.test"), "127.0.0.1", 0)
    yield mailbox, server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


def days_ahead(days: int) -> str:
    return str(datetime.now(UTC).date() + timedelta(days=days))


async def held_booking(client: TestClient, check_in_in_days: int = 6) -> tuple[dict[str, Any], dict[str, str]]:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent, title=TITLE)
    _, guest = await signed_in(client)
    body = {"property_id": listing["id"], "check_in": days_ahead(check_in_in_days), "check_out": days_ahead(check_in_in_days + 3), "guests": 2}
    response = await client.post("/v1/bookings", json=body, headers=guest)
    assert response.status == 201, await response.text()
    return await response.json(), guest


async def test_a_real_smtp_server_receives_the_rendered_booking_confirmation(start: Start, smtp_relay) -> None:  # type: ignore[no-untyped-def]
    mailbox, port = smtp_relay
    smtp = {"host": "127.0.0.1", "port": port, "security": "none", "sender": "Lango <bookings@lango.test>", "helo_hostname": "gateway.lango.test"}
    client = await start(run_worker=True, email={"provider": "smtp", "smtp": smtp})
    booking, _ = await held_booking(client)

    await confirm_booking(client.app[SERVICES], booking["id"], "pay-1")
    await asyncio.wait_for(mailbox.received.wait(), JOB_WAIT_S)

    [envelope] = mailbox.envelopes
    guest_email = envelope.rcpt_tos[0]
    received = message_from_bytes(envelope.original_content, policy=policy.default)
    assert received.get_content_type() == "multipart/alternative"
    assert received["From"] == "Lango <bookings@lango.test>"
    assert received["Subject"] == f"Booking confirmed: {TITLE}"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    reference = booking_reference(booking["id"])
    nights_line = "3 nights, 2 guests"
    assert f"{TITLE}, Kilimani" in text and nights_line in text and f"Booking reference: {reference}" in text
    assert f"Paid: KES {booking['price']['total_minor'] // 100:,}" in text
    assert "<strong>Kilimani Garden &amp; Pool</strong>" in html and nights_line in html and reference in html
    assert f'href="https://lango.africa/bookings/{booking["id"]}"' in html

    [notification] = await Notification.find({"kind": NotificationKind.BOOKING_CONFIRMED}).to_list()
    stored = await finished_delivery(client.app, notification, Channel.EMAIL)
    email = stored.deliveries[Channel.EMAIL]
    assert (email.status, email.provider, email.vendor_message_id, email.attempts) == (DeliveryStatus.SENT, "smtp", received["Message-ID"], 1)
    assert guest_email.endswith("@example.com")


async def test_a_confirmed_booking_schedules_its_reminder_and_cancelling_it_cancels_the_reminder(start: Start) -> None:
    client = await start()
    booking, guest = await held_booking(client, check_in_in_days=6)

    await confirm_booking(client.app[SERVICES], booking["id"], "pay-1")

    reminder = await queued_job(client.app, booking_reminder_key(booking["id"]))
    check_in = datetime.fromisoformat(booking["check_in"])
    due = datetime(check_in.year, check_in.month, check_in.day, 14, 0, tzinfo=ZoneInfo("Africa/Nairobi")) - timedelta(hours=24)
    assert reminder.scheduled == int(due.timestamp())
    assert reminder.status == Status.QUEUED
    await queued_job(client.app, f"booking-notice:{booking['id']}:confirmed")

    cancelled = await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=guest)
    assert cancelled.status == 200, await cancelled.text()

    await reminder.refresh()
    # SAQ leaves a job aborted before its time as `aborting`, and out of the schedule.
    assert reminder.status in (Status.ABORTING, Status.ABORTED)
    assert await client.app[SERVICES].queue.count("incomplete") == 2, "the two notices remain; the reminder is gone"
    await queued_job(client.app, f"booking-notice:{booking['id']}:cancelled")
    # Had the reminder already been picked up, it would still see the cancellation and stay silent.
    assert await send_booking_reminder({"services": client.app[SERVICES]}, booking_id=booking["id"]) is False


async def test_a_booking_starting_within_the_lead_time_gets_no_reminder(start: Start) -> None:
    client = await start()
    booking, _ = await held_booking(client, check_in_in_days=0)

    await confirm_booking(client.app[SERVICES], booking["id"], "pay-1")

    assert await client.app[SERVICES].queue.job(booking_reminder_key(booking["id"])) is None


async def test_the_reminder_reaches_the_guest_while_the_booking_stands(start: Start) -> None:
    client = await start()
    booking, guest = await held_booking(client)
    await confirm_booking(client.app[SERVICES], booking["id"], "pay-1")

    assert await send_booking_reminder({"services": client.app[SERVICES]}, booking_id=booking["id"]) is True

    inbox = await (await client.get("/v1/me/notifications", headers=guest)).json()
    kinds = [item["kind"] for item in inbox["items"]]
    assert kinds == ["booking_reminder"], "the confirmation itself is still waiting for the worker"
    assert inbox["items"][0]["data"] == {"booking_id": booking["id"]}
