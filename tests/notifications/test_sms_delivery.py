"""SMS deliveries reach Africa's Talking and Twilio as their APIs expect; vendor failures are retried, then recorded."""

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
from saq import Status

from documents.notification import Channel, DeliveryStatus, Notification, NotificationKind
from gateway.notifications import notify
from gateway.notifications.delivery import DELIVERY_POLICY
from gateway.state import SERVICES
from providers.emulators import serve_emulator
from providers.emulators.twilio import TwilioEmulator
from providers.errors import VendorUnavailable
from tests.factories import create_user
from tests.notifications.conftest import AT_KEY, AT_USERNAME, JOB_WAIT_S, Start, deliver, queued_job

PHONE = "+254712345678"
TWILIO_SID, TWILIO_TOKEN, TWILIO_FROM = "AC" + "1" * 32, "twilio-secret", "+14155550100"
TICKET = {
    "event_title": "Sauti za Busara",
    "starts_at": "2027-02-14T15:00:00+00:00",
    "venue": "Old Fort, Stone Town",
    "ticket_code": "TKT-9X4F",
    "qr_url": "https://lango.africa/tickets/9x4f/qr.png",
    "ticket_url": "https://lango.africa/t/9x4f",
}
TICKET_SMS = "Lango ticket TKT-9X4F: Sauti za Busara, Sun 14 February 2027 18:00. QR code: https://lango.africa/t/9x4f"
AT_DOWN = {"SMSMessageData": {"Message": "Internal server error"}}


@pytest.fixture
async def twilio() -> AsyncIterator[tuple[TwilioEmulator, dict[str, Any]]]:
    emulator = TwilioEmulator(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN)
    async with serve_emulator(emulator.app) as base_url:
        options = {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN, "from_number": TWILIO_FROM, "base_url": base_url}
        yield emulator, {"provider": "twilio", "twilio": options}


async def _ticket_by_sms(app: Any) -> Notification:
    user = await create_user(app, phone=PHONE)
    notification = await notify(app[SERVICES], str(user.id), NotificationKind.TICKET_ISSUED, TICKET, dedupe_key="ticket:t-1")
    assert notification is not None and list(notification.deliveries) == [Channel.SMS]
    return notification


async def test_africastalking_receives_the_form_post_with_the_api_key(start: Start, africastalking) -> None:  # type: ignore[no-untyped-def]
    emulator, sms = africastalking
    client = await start(sms=sms)
    notification = await _ticket_by_sms(client.app)

    assert await deliver(client.app, notification, Channel.SMS) == "sent"

    [request] = emulator.requests_to("/version1/messaging")
    assert request.method == "POST"
    assert request.headers["apiKey"] == AT_KEY
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Accept"] == "application/json"
    form = request.form()
    assert form["username"] == AT_USERNAME and form["to"] == PHONE
    assert form["message"] == TICKET_SMS
    [sent] = emulator.messages
    stored = await Notification.get(notification.id)
    assert stored is not None
    delivery = stored.deliveries[Channel.SMS]
    assert (delivery.status, delivery.provider, delivery.vendor_message_id) == (DeliveryStatus.SENT, "africastalking", sent["messageId"])


async def test_twilio_receives_the_message_with_basic_auth(start: Start, twilio) -> None:  # type: ignore[no-untyped-def]
    emulator, sms = twilio
    client = await start(sms=sms)
    notification = await _ticket_by_sms(client.app)

    assert await deliver(client.app, notification, Channel.SMS) == "sent"

    [request] = emulator.requests_to(f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json")
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    form = request.form()
    assert (form["To"], form["From"]) == (PHONE, TWILIO_FROM)
    assert form["Body"] == TICKET_SMS
    stored = await Notification.get(notification.id)
    assert stored is not None and stored.deliveries[Channel.SMS].vendor_message_id == emulator.messages[0]["sid"]


async def test_a_vendor_outage_is_retried_by_the_queue_until_the_message_goes_out(start: Start, africastalking) -> None:  # type: ignore[no-untyped-def]
    emulator, sms = africastalking
    emulator.fail_next(2, status=500, body=AT_DOWN)
    client = await start(run_worker=True, sms=sms)
    notification = await _ticket_by_sms(client.app)

    job = await queued_job(client.app, f"notification:{notification.id}:sms")
    await job.refresh(until_complete=JOB_WAIT_S)

    assert job.status == Status.COMPLETE and job.attempts == 3
    assert len(emulator.requests_to("/version1/messaging")) == 3
    stored = await Notification.get(notification.id)
    assert stored is not None
    delivery = stored.deliveries[Channel.SMS]
    assert (delivery.status, delivery.attempts, delivery.reason) == (DeliveryStatus.SENT, 3, None)


async def test_a_message_that_keeps_failing_is_recorded_failed_with_the_vendors_reason(start: Start, africastalking) -> None:  # type: ignore[no-untyped-def]
    emulator, sms = africastalking
    emulator.fail_next(DELIVERY_POLICY.retries, status=500, body=AT_DOWN)
    client = await start(sms=sms)
    notification = await _ticket_by_sms(client.app)

    for attempt in range(1, DELIVERY_POLICY.retries):
        with pytest.raises(VendorUnavailable):
            await deliver(client.app, notification, Channel.SMS)
        stored = await Notification.get(notification.id)
        assert stored is not None and stored.deliveries[Channel.SMS].status == DeliveryStatus.QUEUED
        assert stored.deliveries[Channel.SMS].attempts == attempt
    assert await deliver(client.app, notification, Channel.SMS) == "failed"

    stored = await Notification.get(notification.id)
    assert stored is not None
    delivery = stored.deliveries[Channel.SMS]
    assert (delivery.status, delivery.attempts, delivery.provider) == (DeliveryStatus.FAILED, DELIVERY_POLICY.retries, "africastalking")
    assert "africastalking answered 500" in (delivery.reason or "") and "Internal server error" in (delivery.reason or "")
    assert await deliver(client.app, notification, Channel.SMS) is None, "a settled delivery is not tried again"
    assert emulator.messages == []


async def test_a_refused_number_fails_at_once_without_retries(start: Start, africastalking) -> None:  # type: ignore[no-untyped-def]
    emulator, sms = africastalking
    emulator.reject_number(PHONE, status="UserInBlacklist", status_code=406)
    client = await start(sms=sms)
    notification = await _ticket_by_sms(client.app)

    assert await deliver(client.app, notification, Channel.SMS) == "failed"

    stored = await Notification.get(notification.id)
    assert stored is not None
    delivery = stored.deliveries[Channel.SMS]
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert "UserInBlacklist" in (delivery.reason or "")
