"""Africa's Talking and Twilio adapters against emulators that check paths, auth, form fields and answers."""

import base64
from collections.abc import AsyncIterator

import httpx
import pytest

from providers.emulators import serve_emulator
from providers.emulators.africastalking import AfricasTalkingEmulator
from providers.emulators.twilio import TwilioEmulator
from providers.errors import ProviderMisconfigured, VendorRejected, VendorUnavailable
from providers.sms import AfricasTalkingSettings, AfricasTalkingSmsSender, SmsMessage, TwilioSettings, TwilioSmsSender

TEXT = SmsMessage(to="+254712345678", text="Lango: your code is 482913", kind="otp")
ACCOUNT_SID = "AC" + "1f" * 16
SERVICE_SID = "MG" + "2e" * 16


@pytest.fixture
async def africastalking() -> AsyncIterator[tuple[AfricasTalkingEmulator, str]]:
    emulator = AfricasTalkingEmulator(username="lango", api_key="at-live-key", sender_ids={"LANGO"})
    async with serve_emulator(emulator.app) as base_url:
        yield emulator, base_url


@pytest.fixture
async def twilio() -> AsyncIterator[tuple[TwilioEmulator, str]]:
    emulator = TwilioEmulator(account_sid=ACCOUNT_SID, auth_token="tw-token", owned_numbers={"+15005550006"})
    async with serve_emulator(emulator.app) as base_url:
        yield emulator, base_url


def _at_sender(base_url, http, **overrides):
    settings = {"username": "lango", "api_key": "at-live-key", "sender_id": "LANGO", "base_url": base_url}
    return AfricasTalkingSmsSender(AfricasTalkingSettings.model_validate({**settings, **overrides}), http)


def _twilio_sender(base_url, http, **overrides):
    settings = {
        "account_sid": ACCOUNT_SID,
        "auth_token": "tw-token",
        "from_number": "+15005550006",
        "base_url": base_url,
    }
    return TwilioSmsSender(TwilioSettings.model_validate({**settings, **overrides}), http)


async def test_africastalking_receives_its_form_post(africastalking, http):
    emulator, base_url = africastalking

    receipt = await _at_sender(base_url, http).send(TEXT)

    [request] = emulator.requests
    assert (request.method, request.path) == ("POST", "/version1/messaging")
    assert request.headers["apiKey"] == "at-live-key"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert dict(request.form()) == {
        "username": "lango",
        "to": "+254712345678",
        "message": "Lango: your code is 482913",
        "from": "LANGO",
    }
    assert receipt.message_id == emulator.messages[0]["messageId"]
    assert receipt.provider == "africastalking"


async def test_africastalking_recipient_refusal_carries_the_status(africastalking, http):
    emulator, base_url = africastalking
    emulator.reject_number("+254712345678", status="UserInBlacklist", status_code=406)

    with pytest.raises(VendorRejected) as raised:
        await _at_sender(base_url, http).send(TEXT)
    assert raised.value.reason == "UserInBlacklist"
    assert emulator.messages == []


async def test_africastalking_unknown_sender_id_is_rejected_with_the_reason(africastalking, http):
    _, base_url = africastalking
    with pytest.raises(VendorRejected) as raised:
        await _at_sender(base_url, http, sender_id="NOTOURS").send(TEXT)
    assert raised.value.reason == "InvalidSenderId"


async def test_africastalking_gateway_error_is_retryable(africastalking, http):
    emulator, base_url = africastalking
    emulator.reject_number("+254712345678", status="GatewayError", status_code=501)
    with pytest.raises(VendorUnavailable):
        await _at_sender(base_url, http).send(TEXT)


async def test_africastalking_wrong_key_and_outage(africastalking, http):
    emulator, base_url = africastalking
    with pytest.raises(ProviderMisconfigured):
        await _at_sender(base_url, http, api_key="nope").send(TEXT)
    emulator.fail_next(1, status=503)
    with pytest.raises(VendorUnavailable) as raised:
        await _at_sender(base_url, http).send(TEXT)
    assert isinstance(raised.value.__cause__, httpx.HTTPStatusError)


async def test_africastalking_sandbox_username_targets_the_sandbox_host():
    assert AfricasTalkingSettings(username="sandbox", api_key="k").endpoint == (
        "https://api.sandbox.africastalking.com/version1/messaging"
    )
    assert AfricasTalkingSettings(username="lango", api_key="k").endpoint == (
        "https://api.africastalking.com/version1/messaging"
    )


async def test_twilio_receives_basic_auth_and_its_form(twilio, http):
    emulator, base_url = twilio

    receipt = await _twilio_sender(base_url, http).send(TEXT)

    [request] = emulator.requests
    assert (request.method, request.path) == ("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{ACCOUNT_SID}:tw-token".encode()).decode()
    assert dict(request.form()) == {"To": "+254712345678", "From": "+15005550006", "Body": "Lango: your code is 482913"}
    assert receipt.message_id == emulator.messages[0]["sid"]
    assert receipt.message_id.startswith("SM")


async def test_twilio_through_a_messaging_service(twilio, http):
    emulator, base_url = twilio
    sender = _twilio_sender(base_url, http, from_number=None, messaging_service_sid=SERVICE_SID)
    await sender.send(TEXT)
    assert dict(emulator.requests[0].form())["MessagingServiceSid"] == SERVICE_SID


async def test_twilio_errors_map_to_what_the_caller_can_do(twilio, http):
    emulator, base_url = twilio
    emulator.block_number("+254712345678")
    with pytest.raises(VendorRejected) as refused:
        await _twilio_sender(base_url, http).send(TEXT)
    assert '"code": 21610' in refused.value.reason
    with pytest.raises(ProviderMisconfigured):
        await _twilio_sender(base_url, http, auth_token="wrong").send(TEXT)
    emulator.fail_next(1, status=429, body={"code": 20429, "message": "Too Many Requests", "status": 429})
    with pytest.raises(VendorUnavailable):
        await _twilio_sender(base_url, http).send(TEXT.model_copy(update={"to": "+254722000000"}))


async def test_twilio_settings_need_exactly_one_origin(http):
    with pytest.raises(ProviderMisconfigured, match="exactly one of from_number and messaging_service_sid"):
        TwilioSmsSender(TwilioSettings(account_sid=ACCOUNT_SID, auth_token="t"), http)
