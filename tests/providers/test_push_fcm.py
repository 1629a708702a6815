"""The FCM adapter through firebase-admin against the FCM emulator: OAuth, batching, collapse keys, dead tokens."""

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from structlog.testing import capture_logs

from providers.emulators import serve_emulator
from providers.emulators.fcm import TOKEN_PATH, FcmEmulator
from providers.errors import ProviderMisconfigured, VendorRejected, VendorUnavailable
from providers.push import FCM_BATCH_LIMIT, FcmPushSender, FcmSettings, PushMessage

PROJECT = "lango-test"
CLIENT_EMAIL = "fcm-sender@lango-test.iam.gserviceaccount.com"

ALERT = PushMessage(
    tokens=("device-a",),
    title="Payment received",
    body="KES 12,500 for Diani Beach Villa",
    data={"booking_id": "b-19", "event": "payment.updated"},
    collapse_key="booking-b-19",
    priority="high",
    kind="payment_updated",
)


@pytest.fixture(scope="module")
def private_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture
async def fcm(private_key_pem) -> AsyncIterator[tuple[FcmEmulator, str]]:
    public_pem = (
        serialization.load_pem_private_key(private_key_pem, password=None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    emulator = FcmEmulator(PROJECT, CLIENT_EMAIL, public_pem)
    async with serve_emulator(emulator.app) as base_url:
        yield emulator, base_url


def _key_for(base_url: str, private_key_pem: bytes) -> str:
    return json.dumps(
        {
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": "k1",
            "private_key": private_key_pem.decode(),
            "client_email": CLIENT_EMAIL,
            "client_id": "1",
            "token_uri": f"{base_url}{TOKEN_PATH}",
        }
    )


def _adapter(base_url: str, private_key_pem: bytes, **options) -> FcmPushSender:
    settings = FcmSettings(service_account_json=_key_for(base_url, private_key_pem), endpoint=base_url)
    return FcmPushSender(settings, **options)


@pytest.fixture
async def sender(fcm, private_key_pem) -> AsyncIterator[FcmPushSender]:
    # Building the adapter parses the key and loads TLS contexts: start-up work, kept off the loop.
    adapter = await asyncio.to_thread(_adapter, fcm[1], private_key_pem)
    yield adapter
    await adapter.aclose()


async def test_message_reaches_fcm_with_collapse_key_priority_and_data(fcm, sender):
    emulator, _ = fcm

    result = await sender.send(ALERT)

    [grant] = emulator.requests_to(TOKEN_PATH)
    assert grant.form()["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    [send] = emulator.requests_to(f"/v1/projects/{PROJECT}/messages:send")
    assert send.headers["Authorization"].removeprefix("Bearer ") in emulator.access_tokens
    [message] = emulator.messages
    assert message["token"] == "device-a"
    assert message["notification"] == {"title": "Payment received", "body": "KES 12,500 for Diani Beach Villa"}
    assert message["data"] == {"booking_id": "b-19", "event": "payment.updated"}
    assert message["android"] == {"collapse_key": "booking-b-19", "priority": "high"}
    assert message["apns"]["headers"]["apns-collapse-id"] == "booking-b-19"
    assert message["apns"]["headers"]["apns-priority"] == "10"
    assert result.delivered_tokens == ["device-a"]
    assert result.outcomes[0].message_id == message["name"]


async def test_dead_tokens_are_reported_for_removal_and_the_rest_delivered(fcm, sender):
    emulator, _ = fcm
    emulator.unregister("device-gone")
    emulator.invalidate("device-garbled")

    result = await sender.send(ALERT.model_copy(update={"tokens": ("device-gone", "device-a", "device-garbled")}))

    assert result.delivered_tokens == ["device-a"]
    assert sorted(result.tokens_to_remove) == ["device-garbled", "device-gone"]
    errors = {outcome.token: outcome.error for outcome in result.outcomes}
    assert errors == {"device-gone": "UNREGISTERED", "device-a": None, "device-garbled": "INVALID_ARGUMENT"}
    assert result.tokens_to_retry == []


async def test_a_large_multicast_goes_out_in_batches(fcm, private_key_pem):
    emulator, base_url = fcm
    tokens = tuple(f"device-{number:04d}" for number in range(5 * FCM_BATCH_LIMIT + 1))
    # Over the emulator's HTTP/1.1, httpcore queues 500 concurrent sends slowly; FCM itself multiplexes them on HTTP/2.
    sender = await asyncio.to_thread(_adapter, base_url, private_key_pem, timeout_seconds=50)

    with capture_logs() as logs:
        result = await sender.send(ALERT.model_copy(update={"tokens": tokens}))
    await sender.aclose()

    assert [line["devices"] for line in logs if line["event"] == "push batch sent"] == [FCM_BATCH_LIMIT] * 5 + [1]
    assert sorted(message["token"] for message in emulator.messages) == list(tokens)
    assert len(result.delivered_tokens) == len(tokens)
    assert len(emulator.requests_to(TOKEN_PATH)) == 1, "one access token serves every batch"


async def test_quota_exhaustion_everywhere_is_retryable(fcm, sender):
    emulator, _ = fcm
    emulator.fail_next(
        1, status=429, body={"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}
    )
    await sender.send(ALERT)  # fetches the access token first, so the planned failure hits the send
    emulator.fail_next(
        1, status=429, body={"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}
    )

    with pytest.raises(VendorUnavailable) as raised:
        await sender.send(ALERT)
    assert raised.value.__cause__ is not None


async def test_fcm_503_after_the_library_retries_is_vendor_unavailable(fcm, sender):
    emulator, _ = fcm
    await sender.send(ALERT)
    # firebase-admin retries a 503 four times with backoff before giving up.
    emulator.fail_next(
        5,
        status=503,
        body={"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}},
    )

    with pytest.raises(VendorUnavailable):
        await sender.send(ALERT)
    assert len(emulator.messages) == 1


async def test_a_payload_problem_is_rejected_without_removing_the_token(fcm, sender):
    emulator, _ = fcm
    await sender.send(ALERT)
    emulator.fail_next(
        1,
        status=400,
        body={"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT"}},
    )

    with pytest.raises(VendorRejected):
        await sender.send(ALERT)


async def test_a_key_fcm_does_not_know_is_a_deployment_problem(fcm):
    _, base_url = fcm
    stranger_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    adapter = await asyncio.to_thread(_adapter, base_url, stranger_key)
    try:
        with pytest.raises(ProviderMisconfigured, match="OAuth token refused"):
            await adapter.send(ALERT)
    finally:
        await adapter.aclose()


async def test_settings_need_one_key():
    with pytest.raises(ProviderMisconfigured, match="exactly one of service_account_json and service_account_file"):
        FcmPushSender(FcmSettings())
    with pytest.raises(ProviderMisconfigured, match="key unreadable"):
        FcmPushSender(FcmSettings(service_account_json="{not json"))
