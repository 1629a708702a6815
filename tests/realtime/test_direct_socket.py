"""Sockets opened on WebSocket get frames written straight to them; polling clients that upgrade keep engine.io's path."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestClient
from engineio.async_socket import AsyncSocket

from gateway.messaging.targets import user_room
from gateway.realtime.direct_socket import DirectWebSocket
from gateway.state import SERVICES, SOCKETIO
from tests.factories import access_token_for, create_user
from tests.gateway_apps import gateway_app
from tests.realtime.conftest import eventually

EVENTS = 200


class Phone:
    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.ids: list[int] = []
        self.all_arrived = asyncio.Event()
        self.sio.on("test.tick", self._tick)

    async def _tick(self, envelope: dict[str, Any]) -> None:
        self.ids.append(envelope["id"])
        if len(self.ids) == EVENTS:
            self.all_arrived.set()


@pytest.fixture
async def phones() -> AsyncIterator[list[Phone]]:
    opened: list[Phone] = []
    yield opened
    await asyncio.gather(*(phone.sio.disconnect() for phone in opened if phone.sio.connected))


async def _connect(client: TestClient, token: str, transports: list[str], phones: list[Phone]) -> Phone:
    phone = Phone()
    phones.append(phone)
    await phone.sio.connect(str(client.make_url("/")), auth={"token": token}, transports=transports, wait_timeout=10)
    return phone


def _server_socket(client: TestClient, phone: Phone) -> AsyncSocket:
    return client.app[SOCKETIO].eio.sockets[phone.sio.eio.sid]


async def test_websocket_and_upgraded_polling_sockets_both_get_every_event_in_order(
    aiohttp_client, mongodb_url: str, redis_url: str, phones: list[Phone]  # type: ignore[no-untyped-def]
) -> None:
    # Long-polling is accepted only when configured (it needs sticky load balancing).
    client: TestClient = await aiohttp_client(
        gateway_app(mongodb_url, redis_url, realtime={"transports": ["polling", "websocket"]})
    )
    user = await create_user(client.app, email="zawadi@example.com")
    token = access_token_for(client.app, user)
    websocket = await _connect(client, token, ["websocket"], phones)
    upgraded = await _connect(client, token, ["polling", "websocket"], phones)

    for n in range(EVENTS):
        await client.app[SERVICES].bus.publish(user_room(str(user.id)), "test.tick", {"n": n})
    await asyncio.wait_for(asyncio.gather(websocket.all_arrived.wait(), upgraded.all_arrived.wait()), 10)

    assert type(_server_socket(client, websocket)) is DirectWebSocket
    assert type(_server_socket(client, upgraded)) is AsyncSocket
    assert websocket.ids == upgraded.ids == sorted(websocket.ids) and len(set(websocket.ids)) == EVENTS


async def test_a_direct_socket_that_goes_away_is_forgotten_by_the_server(client: TestClient, phones: list[Phone]) -> None:
    user = await create_user(client.app, email="baraka@example.com")
    phone = await _connect(client, access_token_for(client.app, user), ["websocket"], phones)
    eio_sid = phone.sio.eio.sid
    sockets = client.app[SOCKETIO].eio.sockets
    assert type(sockets[eio_sid]) is DirectWebSocket

    await phone.sio.disconnect()

    await eventually(lambda: eio_sid not in sockets, 10, "the server to drop the closed socket")


async def test_a_phone_that_stops_answering_pings_is_let_go_while_one_that_answers_stays(
    aiohttp_client, mongodb_url: str, redis_url: str, phones: list[Phone]  # type: ignore[no-untyped-def]
) -> None:
    client: TestClient = await aiohttp_client(
        gateway_app(mongodb_url, redis_url, realtime={"ping_interval_s": 1.0, "ping_timeout_s": 0.5})
    )
    silent_user = await create_user(client.app, email="shani@example.com")
    awake_user = await create_user(client.app, email="jabari@example.com")
    awake = await _connect(client, access_token_for(client.app, awake_user), ["websocket"], phones)
    silent = await client.ws_connect("/socket.io/?EIO=4&transport=websocket")
    opened = json.loads((await silent.receive_str())[1:])
    await silent.send_str("40" + json.dumps({"token": access_token_for(client.app, silent_user)}))

    # The silent phone reads what comes (its CONNECT answer, then pings) and never answers a ping.
    received: list[str] = []
    async with asyncio.timeout(10):
        async for message in silent:
            received.append(message.data)

    assert received[0].startswith("40") and "2" in received
    sockets = client.app[SOCKETIO].eio.sockets
    await eventually(lambda: opened["sid"] not in sockets, 10, "the server to forget the silent phone")
    for n in range(3):
        await client.app[SERVICES].bus.publish(user_room(str(awake_user.id)), "test.tick", {"n": n})
    await eventually(lambda: len(awake.ids) == 3, 10, "the awake phone's events")
    assert awake.sio.connected


@pytest.mark.parametrize("compression", [False, True])
async def test_a_compression_offer_is_declined_unless_compression_is_configured(
    aiohttp_client, mongodb_url: str, redis_url: str, compression: bool  # type: ignore[no-untyped-def]
) -> None:
    client: TestClient = await aiohttp_client(
        gateway_app(mongodb_url, redis_url, realtime={"websocket_compression": compression})
    )
    # Socket.IO clients offer permessage-deflate; each accepted offer keeps a ~90 KB zlib context on the server.
    offering = await client.ws_connect("/socket.io/?EIO=4&transport=websocket", compress=15)
    opened = json.loads((await offering.receive_str())[1:])

    assert bool(offering.compress) is compression
    # Compressed sockets are served by aiohttp on engine.io's own path; the rest come in through the front door.
    socket_type = AsyncSocket if compression else DirectWebSocket
    assert type(client.app[SOCKETIO].eio.sockets[opened["sid"]]) is socket_type
    await offering.close()
