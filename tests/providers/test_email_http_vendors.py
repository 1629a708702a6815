"""Resend and SendGrid adapters against emulators that check the vendors' paths, keys and body shapes."""

from collections.abc import AsyncIterator

import httpx
import pytest

from providers.email import EmailMessage, ResendEmailSender, ResendSettings, SendGridEmailSender, SendGridSettings
from providers.emulators import serve_emulator
from providers.emulators.resend import ResendEmulator
from providers.emulators.sendgrid import SendGridEmulator
from providers.errors import ProviderMisconfigured, VendorRejected, VendorUnavailable

MESSAGE = EmailMessage(
    to="host@example.com",
    subject="New booking for Nyali Loft",
    text="Amina booked 3 nights.",
    html="<p>Amina booked <b>3 nights</b>.</p>",
    kind="booking_created",
    tags={"property": "p-481"},
)


@pytest.fixture
async def resend() -> AsyncIterator[tuple[ResendEmulator, str]]:
    emulator = ResendEmulator(api_key="re_live_key")
    async with serve_emulator(emulator.app) as base_url:
        yield emulator, base_url


@pytest.fixture
async def sendgrid() -> AsyncIterator[tuple[SendGridEmulator, str]]:
    emulator = SendGridEmulator(api_key="SG.live-key")
    async with serve_emulator(emulator.app) as base_url:
        yield emulator, base_url


@pytest.fixture(params=["resend", "sendgrid"])
async def http_vendor(request) -> AsyncIterator[tuple[str, ResendEmulator | SendGridEmulator, str]]:
    emulator = ResendEmulator(api_key="re_live_key") if request.param == "resend" else SendGridEmulator("SG.live-key")
    async with serve_emulator(emulator.app) as base_url:
        yield request.param, emulator, base_url


def _sender_for(vendor, base_url, http, **overrides):
    return (_resend_sender if vendor == "resend" else _sendgrid_sender)(base_url, http, **overrides)


def _resend_sender(base_url, http, api_key="re_live_key"):
    settings = ResendSettings(api_key=api_key, sender="Lango <bookings@lango.test>", base_url=base_url)
    return ResendEmailSender(settings, http)


def _sendgrid_sender(base_url, http, api_key="SG.live-key"):
    settings = SendGridSettings(api_key=api_key, sender="Lango <bookings@lango.test>", base_url=base_url)
    return SendGridEmailSender(settings, http)


async def test_resend_receives_its_real_request(resend, http):
    emulator, base_url = resend

    receipt = await _resend_sender(base_url, http).send(MESSAGE)

    [request] = emulator.requests
    assert (request.method, request.path) == ("POST", "/emails")
    assert request.headers["Authorization"] == "Bearer re_live_key"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == {
        "from": "Lango <bookings@lango.test>",
        "to": ["host@example.com"],
        "subject": "New booking for Nyali Loft",
        "text": "Amina booked 3 nights.",
        "html": "<p>Amina booked <b>3 nights</b>.</p>",
        "tags": [{"name": "kind", "value": "booking_created"}, {"name": "property", "value": "p-481"}],
    }
    assert receipt.message_id == emulator.emails[0]["id"]
    assert receipt.provider == "resend"


async def test_resend_leaves_html_out_of_a_text_only_email(resend, http):
    emulator, base_url = resend
    await _resend_sender(base_url, http).send(MESSAGE.model_copy(update={"html": None}))
    assert "html" not in emulator.requests[0].json()


async def test_sendgrid_receives_personalizations_and_ordered_content(sendgrid, http):
    emulator, base_url = sendgrid

    receipt = await _sendgrid_sender(base_url, http).send(MESSAGE)

    [request] = emulator.requests
    assert (request.method, request.path) == ("POST", "/v3/mail/send")
    assert request.headers["Authorization"] == "Bearer SG.live-key"
    assert request.json() == {
        "personalizations": [{"to": [{"email": "host@example.com"}]}],
        "from": {"email": "bookings@lango.test", "name": "Lango"},
        "subject": "New booking for Nyali Loft",
        "content": [
            {"type": "text/plain", "value": "Amina booked 3 nights."},
            {"type": "text/html", "value": "<p>Amina booked <b>3 nights</b>.</p>"},
        ],
        "categories": ["booking_created"],
        "custom_args": {"property": "p-481", "kind": "booking_created"},
    }
    assert receipt.message_id == emulator.mails[0]["message_id"]


async def test_a_wrong_key_needs_the_deployment_fixed(http_vendor, http):
    vendor, emulator, base_url = http_vendor
    sender = _sender_for(vendor, base_url, http, api_key="wrong")
    with pytest.raises(ProviderMisconfigured) as raised:
        await sender.send(MESSAGE)
    assert isinstance(raised.value.__cause__, httpx.HTTPStatusError)
    assert emulator.requests, "the request reached the emulator"


@pytest.mark.parametrize(
    ("status", "expected"), [(503, VendorUnavailable), (429, VendorUnavailable), (422, VendorRejected)]
)
async def test_vendor_failures_map_to_what_the_caller_can_do(http_vendor, status, expected, http):
    vendor, emulator, base_url = http_vendor
    emulator.fail_next(1, status=status, body={"message": "emulated"})
    sender = _sender_for(vendor, base_url, http)

    with pytest.raises(expected) as raised:
        await sender.send(MESSAGE)
    assert raised.value.vendor == vendor
    assert "emulated" in raised.value.reason

    await sender.send(MESSAGE)
    assert len(emulator.requests) == 2


async def test_unreachable_vendor_is_retryable(http):
    async with serve_emulator(ResendEmulator().app) as base_url:
        pass
    with pytest.raises(VendorUnavailable):
        await _resend_sender(base_url, http).send(MESSAGE)


async def test_http_adapters_need_their_api_key(http):
    with pytest.raises(ProviderMisconfigured, match=r"missing settings: email\.sendgrid\.api_key$"):
        SendGridEmailSender(SendGridSettings(sender="a@lango.test"), http)
    with pytest.raises(ProviderMisconfigured, match=r"missing settings: email\.resend\.api_key$"):
        ResendEmailSender(ResendSettings(sender="a@lango.test"), http)


async def test_emulators_refuse_what_the_vendors_refuse(resend, sendgrid, http):
    _, resend_url = resend
    _, sendgrid_url = sendgrid
    no_body = await http.post(
        f"{resend_url}/emails",
        json={"from": "a@lango.test", "to": ["b@example.com"], "subject": "s"},
        headers={"Authorization": "Bearer re_live_key"},
    )
    html_first = await http.post(
        f"{sendgrid_url}/v3/mail/send",
        json={
            "personalizations": [{"to": [{"email": "b@example.com"}]}],
            "from": {"email": "a@lango.test"},
            "subject": "s",
            "content": [{"type": "text/html", "value": "<p>x</p>"}, {"type": "text/plain", "value": "x"}],
        },
        headers={"Authorization": "Bearer SG.live-key"},
    )
    assert no_body.status_code == 422 and no_body.json()["name"] == "validation_error"
    assert html_first.status_code == 400 and html_first.json()["errors"][0]["field"] == "content.0.type"
