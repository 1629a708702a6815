"""Device tokens: registered and removed through the API, pushed to through FCM, forgotten when FCM rejects them."""

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from documents.device import Device
from documents.notification import Channel, DeliveryStatus, Notification, NotificationKind
from gateway.notifications import notify
from gateway.state import SERVICES
from providers.emulators import serve_emulator
from providers.emulators.fcm import TOKEN_PATH, FcmEmulator
from tests.factories import access_token_for, auth_header, create_user
from tests.notifications.conftest import Start, deliver

PROJECT = "lango-test"
CLIENT_EMAIL = "fcm-sender@lango-test.iam.gserviceaccount.com"
WELCOME_PUSH_ON = {"locale": "sw", "time_zone": "Africa/Nairobi", "kinds": {"welcome": {"email": False, "sms": False, "push": True}}}


@pytest.fixture(scope="module")
def private_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@pytest.fixture
async def fcm(private_key_pem: bytes) -> AsyncIterator[tuple[FcmEmulator, dict[str, Any]]]:
    """The FCM emulator and the `push` settings that point the gateway at it."""
    public_pem = (
        serialization.load_pem_private_key(private_key_pem, password=None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    emulator = FcmEmulator(PROJECT, CLIENT_EMAIL, public_pem)
    async with serve_emulator(emulator.app) as base_url:
        key = {
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": "k1",
            "private_key": private_key_pem.decode(),
            "client_email": CLIENT_EMAIL,
            "client_id": "1",
            "token_uri": f"{base_url}{TOKEN_PATH}",
        }
        yield emulator, {"provider": "fcm", "fcm": {"service_account_json": json.dumps(key), "endpoint": base_url}}


async def _signed_in(client: TestClient) -> tuple[str, dict[str, str]]:
    user = await create_user(client.app)
    return str(user.id), auth_header(access_token_for(client.app, user))


async def _register(client: TestClient, headers: dict[str, str], token: str, **extra: Any) -> dict[str, Any]:
    response = await client.post("/v1/me/devices", json={"token": token, "platform": "android", **extra}, headers=headers)
    assert response.status == 201, await response.text()
    return await response.json()


async def test_devices_are_registered_once_per_token_and_removed_by_their_owner(start: Start) -> None:
    client = await start()
    user_id, owner = await _signed_in(client)
    _, stranger = await _signed_in(client)

    first = await _register(client, owner, "token-a", app_version="1.4.0")
    again = await _register(client, owner, "token-a", app_version="1.5.0")
    second = await _register(client, owner, "token-b")

    assert again["id"] == first["id"] and again["app_version"] == "1.5.0"
    listed = await (await client.get("/v1/me/devices", headers=owner)).json()
    assert sorted(device["id"] for device in listed["items"]) == sorted([first["id"], second["id"]])
    assert "token" not in listed["items"][0], "tokens never leave the server"
    assert (await client.delete(f"/v1/me/devices/{first['id']}", headers=stranger)).status == 404
    assert (await client.delete(f"/v1/me/devices/{first['id']}", headers=owner)).status == 204
    assert await Device.tokens_of(user_id) == ["token-b"]
    assert (await client.delete(f"/v1/me/devices/{first['id']}", headers=owner)).status == 404


async def test_a_token_registered_by_another_user_moves_to_them(start: Start) -> None:
    client = await start()
    first_id, first = await _signed_in(client)
    second_id, second = await _signed_in(client)

    await _register(client, first, "shared-phone")
    await _register(client, second, "shared-phone")

    assert await Device.tokens_of(first_id) == [] and await Device.tokens_of(second_id) == ["shared-phone"]


async def test_the_push_reaches_fcm_and_tokens_fcm_rejects_are_removed(start: Start, fcm) -> None:  # type: ignore[no-untyped-def]
    emulator, push = fcm
    client = await start(push=push)
    user_id, headers = await _signed_in(client)
    assert (await client.put("/v1/me/notification-preferences", json=WELCOME_PUSH_ON, headers=headers)).status == 200
    for token in ("phone-live", "phone-uninstalled", "phone-garbled"):
        await _register(client, headers, token)
    emulator.unregister("phone-uninstalled")
    emulator.invalidate("phone-garbled")

    notification = await notify(client.app[SERVICES], user_id, NotificationKind.WELCOME, {}, dedupe_key="welcome")
    assert notification is not None and list(notification.deliveries) == [Channel.PUSH]
    assert await deliver(client.app, notification, Channel.PUSH) == "sent"

    sends = emulator.requests_to(f"/v1/projects/{PROJECT}/messages:send")
    assert len(sends) == 3
    assert all(send.headers["Authorization"].removeprefix("Bearer ") in emulator.access_tokens for send in sends)
    [message] = emulator.messages
    assert message["token"] == "phone-live"
    assert message["notification"] == {
        "title": "Karibu Lango",
        "body": "Tafuta malazi, lipa kwa M-Pesa na upate tiketi za matukio karibu nawe.",
    }
    assert message["data"] == {"notification_id": str(notification.id), "kind": "welcome"}
    assert message["android"] == {"collapse_key": "welcome", "priority": "normal"}
    assert await Device.tokens_of(user_id) == ["phone-live"]
    stored = await Notification.get(notification.id)
    assert stored is not None
    delivery = stored.deliveries[Channel.PUSH]
    assert (delivery.status, delivery.provider, delivery.vendor_message_id) == (DeliveryStatus.SENT, "fcm", message["name"])


async def test_a_push_every_token_of_which_is_rejected_fails_and_leaves_no_token(start: Start, fcm) -> None:  # type: ignore[no-untyped-def]
    emulator, push = fcm
    client = await start(push=push)
    user_id, headers = await _signed_in(client)
    await client.put("/v1/me/notification-preferences", json=WELCOME_PUSH_ON, headers=headers)
    await _register(client, headers, "phone-gone")
    emulator.unregister("phone-gone")
    notification = await notify(client.app[SERVICES], user_id, NotificationKind.WELCOME, {})
    assert notification is not None

    assert await deliver(client.app, notification, Channel.PUSH) == "failed"

    stored = await Notification.get(notification.id)
    assert stored is not None
    assert stored.deliveries[Channel.PUSH].status == DeliveryStatus.FAILED
    assert stored.deliveries[Channel.PUSH].reason == "no device took the push (UNREGISTERED)"
    assert await Device.tokens_of(user_id) == []

