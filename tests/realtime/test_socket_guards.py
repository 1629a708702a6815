"""What a socket is refused before it is served: another origin, long-polling, too many connections from one account
or address, a handshake never completed, a request too large; and errors that never mirror the input back."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp.test_utils import TestClient

from gateway.crypto.signing_keys import new_signing_key
from gateway.settings import Settings
from gateway.state import SERVICES, SOCKETIO
from tests.factories import access_token_for, create_user
from tests.gateway_apps import gateway_app
from tests.realtime.conftest import eventually

HANDSHAKE = "/socket.io/?EIO=4&transport=websocket"
SIGNING_KEYS = json.dumps({"keys": [new_signing_key()]})


class Sockets:
    """Socket.IO clients of one served gateway, closed after the test."""

    def __init__(self) -> None:
        self.opened: list[socketio.AsyncClient] = []

    async def open(self, client: TestClient, token: str, **options: Any) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=False)
        self.opened.append(sio)
        await sio.connect(str(client.make_url("/")), auth={"token": token}, transports=["websocket"], wait_timeout=10, **options)
        return sio

    async def refusal(self, client: TestClient, token: str) -> Any:
        """The connect_error of a socket the gateway refuses."""
        sio = socketio.AsyncClient(reconnection=False)
        self.opened.append(sio)
        refusals: list[Any] = []
        sio.on("connect_error", refusals.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sio.connect(str(client.make_url("/")), auth={"token": token}, transports=["websocket"], wait_timeout=10)
        return refusals[0]

    async def late_refusal(self, client: TestClient, token: str) -> Any:
        """The `connect.refused` of a socket let connect, then refused by its opening's checks and disconnected."""
        sio = socketio.AsyncClient(reconnection=False)
        self.opened.append(sio)
        refusals: list[Any] = []
        closed = asyncio.Event()
        sio.on("connect.refused", refusals.append)
        sio.on("disconnect", lambda *_: closed.set())
        await sio.connect(str(client.make_url("/")), auth={"token": token}, transports=["websocket"], wait_timeout=10)
        await asyncio.wait_for(closed.wait(), 10)
        return refusals[0]


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    opened = Sockets()
    yield opened
    await asyncio.gather(*(sio.disconnect() for sio in opened.opened if sio.connected))


async def _served(aiohttp_client, settings: Settings, **realtime: Any) -> TestClient:  # type: ignore[no-untyped-def]
    """A gateway on this test's Redis namespace and signing keys (several share them, as nodes do) with these
    realtime settings, behind a proxy on loopback."""
    jobs_redis = settings.jobs.redis_url.get_secret_value() if settings.jobs.redis_url else None
    app = gateway_app(settings.mongodb.url.get_secret_value(), settings.redis.url.get_secret_value(),  # type: ignore[union-attr]
                      redis={"namespace": settings.redis.namespace, "cluster": settings.redis.cluster},
                      jobs={"redis_url": jobs_redis}, auth={"signing_keys": SIGNING_KEYS},
                      server={"trusted_proxies": ["127.0.0.1/32"]}, realtime=realtime)  # fmt: skip
    return await aiohttp_client(app)  # type: ignore[no-any-return]


async def _handshake_status(client: TestClient, **headers: str) -> int:
    """The HTTP status of a WebSocket handshake: 101 when the connection opens."""
    try:
        ws = await client.ws_connect(HANDSHAKE, headers=headers)
    except aiohttp.WSServerHandshakeError as refused:
        return refused.status
    await ws.close()
    return 101


async def test_a_page_of_another_origin_is_refused_while_apps_without_an_origin_connect(client: TestClient) -> None:
    own_origin = str(client.make_url("/")).rstrip("/")

    assert await _handshake_status(client, Origin="https://evil.example") == 400
    assert await _handshake_status(client, Origin=own_origin) == 101
    assert await _handshake_status(client) == 101


async def test_long_polling_is_refused_unless_configured(aiohttp_client, client: TestClient, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    polling = "/socket.io/?EIO=4&transport=polling"
    assert (await client.get(polling)).status == 400
    allowing = await _served(aiohttp_client, settings, transports=["websocket", "polling"])
    assert (await allowing.get(polling)).status == 200


async def test_an_account_holds_only_so_many_sockets_counted_across_nodes(
    aiohttp_client, settings: Settings, sockets: Sockets  # type: ignore[no-untyped-def]
) -> None:
    node_a = await _served(aiohttp_client, settings, max_sockets_per_user=2)
    node_b = await _served(aiohttp_client, settings, max_sockets_per_user=2)
    user = await create_user(node_a.app, email="zuri@example.com")
    token = access_token_for(node_a.app, user)
    recovered = [asyncio.Event(), asyncio.Event()]
    first = await sockets.open(node_a, token)
    first.on("session.recovery", lambda _: recovered[0].set())
    second = await sockets.open(node_b, token)
    second.on("session.recovery", lambda _: recovered[1].set())
    # Each node tells Redis of its sockets before it replays their room: both notices mean both counts are there.
    await asyncio.wait_for(asyncio.gather(*(event.wait() for event in recovered)), 10)

    # Neither node holds two of the account's sockets: each learns of the other's from its opening, after the CONNECT.
    refused_a, refused_b = await sockets.late_refusal(node_a, token), await sockets.late_refusal(node_b, token)
    other = await sockets.open(node_b, access_token_for(node_a.app, await create_user(node_a.app)))

    cap = "an account may hold 2 sockets at once: close another first"
    assert refused_a == refused_b == {"code": "too_many_sockets", "message": cap}
    assert other.connected
    await first.disconnect()
    await eventually(lambda: _connects(sockets, node_b, token), 10, "a socket once one was closed")
    # Node b now holds both: it refuses the next at once, as the CONNECT's answer.
    assert (await sockets.refusal(node_b, token))["data"] == {"code": "too_many_sockets", "message": cap}


async def _connects(sockets: Sockets, client: TestClient, token: str) -> bool:
    try:
        await sockets.open(client, token)
    except socketio.exceptions.ConnectionError:
        return False
    return True


async def test_an_address_holds_and_opens_only_so_many_connections(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = await _served(aiohttp_client, settings, max_sockets_per_address=2, connects_per_address="4/minute")
    # Behind a trusted proxy (here the loopback peer) each client is told apart by X-Forwarded-For.
    crowd, other = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "198.51.100.1, 203.0.113.8"}
    held = [await client.ws_connect(HANDSHAKE, headers=crowd) for _ in range(2)]

    assert await _handshake_status(client, **crowd) == 401
    assert await _handshake_status(client, **other) == 101
    await held.pop().close()
    await eventually(lambda: _opens(client, crowd), 10, "a connection once one was closed")

    hasty = {"X-Forwarded-For": "203.0.113.20"}
    assert [await _handshake_status(client, **hasty) for _ in range(5)] == [101, 101, 101, 101, 401], (
        "connects per minute count, not only connections held"
    )
    await held.pop().close()


async def _opens(client: TestClient, headers: dict[str, str]) -> bool:
    return await _handshake_status(client, **headers) == 101


async def test_a_forwarded_address_is_believed_only_from_a_trusted_proxy(aiohttp_client, mongodb_url: str, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(gateway_app(mongodb_url, redis_url, server={"trusted_proxies": []},
                                              realtime={"max_sockets_per_address": 1}))  # fmt: skip
    held = await client.ws_connect(HANDSHAKE, headers={"X-Forwarded-For": "203.0.113.7"})

    assert await _handshake_status(client, **{"X-Forwarded-For": "203.0.113.9"}) == 401
    await held.close()


async def test_a_connection_that_never_completes_the_handshake_is_closed(
    aiohttp_client, settings: Settings, sockets: Sockets  # type: ignore[no-untyped-def]
) -> None:
    client = await _served(aiohttp_client, settings, handshake_timeout_s=0.3)
    connected = await sockets.open(client, access_token_for(client.app, await create_user(client.app)))
    idle = await client.ws_connect(HANDSHAKE)

    async with asyncio.timeout(10):
        async for _ in idle:
            pass

    assert idle.closed
    await asyncio.sleep(0)
    assert connected.connected and len(client.app[SOCKETIO].eio.sockets) == 1


async def test_a_request_too_large_is_answered_with_an_error_and_a_huge_message_closes_the_socket(
    aiohttp_client, settings: Settings, sockets: Sockets  # type: ignore[no-untyped-def]
) -> None:
    client = await _served(aiohttp_client, settings, max_request_chars=1024, max_message_bytes=8192)
    sio = await sockets.open(client, access_token_for(client.app, await create_user(client.app)))

    too_large = await sio.call("rooms.join", {"room": "property:" + "x" * 2000}, timeout=5)
    after = await sio.call("rooms.leave", {"room": "property:p1"}, timeout=5)

    assert too_large == {"ok": False, "error": {"code": "request_too_large", "message": "a request may be at most 1024 characters"}}
    assert after == {"ok": True, "room": "property:p1"}
    await sio.emit("rooms.join", {"room": "x" * 10_000})
    await eventually(lambda: not sio.connected, 10, "the socket to be dropped")


async def test_refusals_quote_only_a_short_prefix_of_what_was_sent(client: TestClient, sockets: Sockets) -> None:
    sio = await sockets.open(client, access_token_for(client.app, await create_user(client.app)))
    huge = "k" * 10_000

    answers = [
        await sio.call("rooms.join", {"room": huge}, timeout=5),
        await sio.call(huge, {}, timeout=5),
        await sio.call("rooms.join", {"room": "property:p1", huge: 1}, timeout=5),
    ]

    assert [answer["error"]["code"] for answer in answers] == ["invalid_room", "unknown_event", "invalid_request"]
    for answer in answers:
        assert "k" * 40 in answer["error"]["message"] and len(answer["error"]["message"]) < 200, answer


async def test_joining_a_room_already_followed_answers_its_last_event_id(client: TestClient, sockets: Sockets) -> None:
    admin = await create_user(client.app, roles=("admin",))
    sio = await sockets.open(client, access_token_for(client.app, admin))
    received: list[int] = []
    sio.on("booking.updated", lambda envelope: received.append(envelope["id"]))
    first = await sio.call("rooms.join", {"room": "property:p1"}, timeout=5)
    for n in range(3):
        await client.app[SERVICES].bus.publish("property:p1", "booking.updated", {"n": n})
    await eventually(lambda: len(received) == 3, 10, "the room's events")

    again = await sio.call("rooms.join", {"room": "property:p1"}, timeout=5)
    behind = await sio.call("rooms.join", {"room": "property:p1", "last_event_id": 1}, timeout=5)

    assert first["last_event_id"] == 0
    assert again == {"ok": True, "room": "property:p1", "recovered": True, "replayed": 0, "last_event_id": 3}
    assert behind == {"ok": True, "room": "property:p1", "recovered": False, "replayed": 0, "last_event_id": 3}
