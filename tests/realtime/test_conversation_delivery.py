"""Conversation messages between gateway nodes: sent through one node, received live on another, recovered after a
reconnect with the last id; read receipts and typing indicators cross nodes too, and typing is never kept."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from gateway.conversations.contacts import MASK
from gateway.security.tokens import TokenService
from providers.outbox import list_outbox
from tests.conftest import TEST_DATABASE
from tests.factories import access_token_for, auth_header, create_user
from tests.properties.builders import published_listing, signed_in
from tests.realtime.conftest import Cluster, GatewayNode, RecordingClient, eventually, issue

# The gateways run as sibling processes that saturate both cores while they start; the loop-blocking
# guard measures wall time, so it would flag this process for being descheduled, not for blocking.
pytestmark = pytest.mark.allows_blocking

RECOVERY = "session.recovery"


async def _call(node: GatewayNode, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, node.url + path, json=body, headers=headers) as answer,
    ):
        assert answer.status < 300, await answer.text()
        return await answer.json()


async def _booked_stay(client: TestClient) -> tuple[str, str, str]:
    """A host's listing and a guest's held stay there: the host's id, the guest's id and the booking id."""
    host = await create_user(client.app, roles=("agent",))
    guest_id, guest = await signed_in(client)
    listing = await published_listing(client, auth_header(access_token_for(client.app, host)))
    check_in = datetime.now(UTC).date() + timedelta(days=10)
    stay = {
        "property_id": listing["id"],
        "check_in": str(check_in),
        "check_out": str(check_in + timedelta(days=2)),
        "guests": 1,
    }
    held = await client.post("/v1/bookings", json=stay, headers=guest)
    assert held.status == 201, await held.text()
    return str(host.id), guest_id, (await held.json())["id"]


async def test_a_message_sent_through_one_node_reaches_the_other_party_on_another_and_after_a_reconnect(
    cluster: Cluster,
    client: TestClient,
    tokens: TokenService,
    clients: Callable[[], RecordingClient],
    mongo: AsyncMongoClient,
    redis: Redis,
) -> None:
    node_a, node_b = await cluster.start_node(), await cluster.start_node()
    host_id, guest_id, booking_id = await _booked_stay(client)
    host_token, guest_token = issue(tokens, host_id, ("agent",)), issue(tokens, guest_id)
    conversation = await _call(node_a, "POST", "/v1/conversations", guest_token, {"booking_id": booking_id})
    messages = f"/v1/conversations/{conversation['id']}/messages"

    host_on_b = clients()
    await host_on_b.connect(node_b, {"token": host_token})
    await host_on_b.wait_for(lambda c: bool(c.of_type(RECOVERY)))
    sent = await _call(
        node_a, "POST", messages, guest_token, {"client_id": uuid.uuid4().hex, "text": "Karibu? 0712 345 678"}
    )

    await host_on_b.wait_for(lambda c: bool(c.of_type("message.created")))
    live = host_on_b.of_type("message.created")[0]
    assert live["room"] == f"user:{host_id}"
    assert live["data"]["id"] == sent["id"] and live["data"]["sender_role"] == "guest"
    assert live["data"]["text"] == f"Karibu? {MASK}" and live["data"]["contacts_hidden"] is True
    last_seen = live["id"]
    await host_on_b.close()

    missed = [
        await _call(node_b, "POST", messages, guest_token, {"client_id": uuid.uuid4().hex, "text": text})
        for text in ("Are towels provided?", "And parking?")
    ]

    host_on_a = clients()
    await host_on_a.connect(node_a, {"token": host_token, "last_event_id": last_seen})
    await host_on_a.wait_for(lambda c: bool(c.of_type(RECOVERY)))
    replayed = host_on_a.of_type("message.created")
    assert [event["data"]["id"] for event in replayed] == [message["id"] for message in missed]
    assert [event["id"] for event in replayed] == [last_seen + 1, last_seen + 2]
    assert [event["data"]["text"] for event in replayed] == ["Are towels provided?", "And parking?"]
    assert host_on_a.of_type(RECOVERY) == [
        {"room": f"user:{host_id}", "recovered": True, "replayed": 2, "last_event_id": last_seen + 2}
    ]

    # The guest is offline: the host's reply reaches their phone as one push, its contact points hidden.
    await mongo[TEST_DATABASE]["devices"].insert_one(
        {"user_id": guest_id, "token": "guest-phone", "platform": "android"}
    )
    reply = {"client_id": uuid.uuid4().hex, "text": "Yes! Mail me at host@example.com"}
    await _call(node_a, "POST", messages, host_token, reply)
    outbox = cluster.settings.redis.namespace
    pushes = await eventually(lambda: list_outbox(redis, outbox, "push"), timeout=20, what="the push of the reply")
    assert [(push["to"], push["title"], push["body"]) for push in pushes] == [
        (["guest-phone"], "New message from your host", f"Yes! Mail me at {MASK}")
    ]

    # The guest's read receipt and typing reach the host on the other node; typing is not kept as an event.
    guest_on_b = clients()
    await guest_on_b.connect(node_b, {"token": guest_token})
    await guest_on_b.wait_for(lambda c: bool(c.of_type(RECOVERY)))
    ack = await guest_on_b.sio.call("conversation.typing", {"conversation_id": conversation["id"]}, timeout=10)
    assert ack == {"ok": True, "conversation_id": conversation["id"], "online": 1}
    await host_on_a.wait_for(lambda c: bool(c.of_type("conversation.typing")))
    typing = host_on_a.of_type("conversation.typing")[0]
    assert "id" not in typing
    assert typing["data"] == {
        "conversation_id": conversation["id"],
        "user_id": guest_id,
        "role": "guest",
        "typing": True,
    }

    await _call(
        node_b, "POST", f"/v1/conversations/{conversation['id']}/read", host_token, {"message_id": missed[-1]["id"]}
    )
    await guest_on_b.wait_for(lambda c: bool(c.of_type("conversation.read")))
    receipt = guest_on_b.of_type("conversation.read")[0]
    assert receipt["data"]["user_id"] == host_id and receipt["data"]["last_read_message_id"] == missed[-1]["id"]
    await host_on_a.wait_for(lambda c: bool(c.of_type("conversation.read")))
    # Ids: the host's own reply, then the receipt; the typing indicator took none.
    assert host_on_a.of_type("conversation.read")[0]["id"] == last_seen + 4

    stranger = clients()
    await stranger.connect(node_b, {"token": issue(tokens, "stranger")})
    await stranger.wait_for(lambda c: bool(c.of_type(RECOVERY)))
    refused = await stranger.sio.call("conversation.typing", {"conversation_id": conversation["id"]}, timeout=10)
    assert refused["ok"] is False and refused["error"]["code"] == "conversation_not_found"


async def test_an_admins_support_message_and_a_second_admin_joining_reach_the_member_live_on_another_node(
    cluster: Cluster, client: TestClient, tokens: TokenService, clients: Callable[[], RecordingClient]
) -> None:
    node_a, node_b = await cluster.start_node(), await cluster.start_node()
    first, second = [await create_user(client.app, roles=("admin",)) for _ in range(2)]
    host = await create_user(client.app, roles=("agent",))
    host_id = str(host.id)
    host_on_b = clients()
    await host_on_b.connect(node_b, {"token": issue(tokens, host_id, ("agent",))})
    await host_on_b.wait_for(lambda c: bool(c.of_type(RECOVERY)))

    opening = {"user_id": host_id, "role": "host", "message": {"client_id": uuid.uuid4().hex, "text": "Hello from support"}}
    sent = await _call(node_a, "POST", "/v1/admin/conversations/support", issue(tokens, str(first.id), ("admin",)), opening)
    await host_on_b.wait_for(lambda c: bool(c.of_type("message.created")))
    live = host_on_b.of_type("message.created")[0]
    assert live["room"] == f"user:{host_id}"
    assert (live["data"]["id"], live["data"]["sender_role"], live["data"]["text"]) == (sent["id"], "admin", "Hello from support")
    await host_on_b.wait_for(lambda c: bool(c.of_type("notification.created")))
    assert host_on_b.of_type("notification.created")[0]["data"]["kind"] == "support_conversation"

    joining = {**opening, "message": {"client_id": uuid.uuid4().hex, "text": "Taking over"}}
    await _call(node_a, "POST", "/v1/admin/conversations/support", issue(tokens, str(second.id), ("admin",)), joining)
    await host_on_b.wait_for(lambda c: len(c.of_type("message.created")) == 3)
    later = [(event["data"]["sender_id"], event["data"]["notice"], event["data"]["text"])
             for event in host_on_b.of_type("message.created")[1:]]  # fmt: skip
    assert later == [(str(second.id), "admin_joined", ""), (str(second.id), None, "Taking over")]
