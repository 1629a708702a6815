"""The Socket.IO CONNECT as the client reads it on the wire: the ack, each refusal with its data, a second connect,
namespaces that are not served, a CONNECT's text arriving where a binary attachment is awaited, and the ack that
comes before the socket's opening: requests wait for it, and a socket it refuses is told so and sent nothing else."""

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from gateway.security.revocations import revoked_session_key
from gateway.state import SERVICES
from tests.factories import access_token_for, create_user

HANDSHAKE = "/socket.io/?EIO=4&transport=websocket"
# python-socketio's session ids: 20 characters of URL-safe base64.
ACK = re.compile(r'40\{"sid":"[A-Za-z0-9_-]{20}"\}')
Open = Callable[[], Awaitable[ClientWebSocketResponse]]


@pytest.fixture
async def sockets(client: TestClient) -> AsyncIterator[Open]:
    """WebSockets past engine.io's OPEN packet, where a client sends its Socket.IO CONNECT; closed after the test."""
    opened: list[ClientWebSocketResponse] = []

    async def open_socket() -> ClientWebSocketResponse:
        ws = await client.ws_connect(HANDSHAKE)
        opened.append(ws)
        assert (await ws.receive_str(timeout=10)).startswith("0{")
        return ws

    yield open_socket
    for ws in opened:
        await ws.close()


async def _answer(ws: ClientWebSocketResponse, packet: str) -> str:
    """The server's answer to `packet`, past the recovery notice a connected socket gets right after its ack."""
    await ws.send_str(packet)
    while (answer := await ws.receive_str(timeout=10)).startswith('42["session.recovery"'):
        pass
    return answer


async def test_a_connect_is_acked_with_a_sid_once_and_a_second_one_is_refused(client: TestClient, sockets: Open) -> None:
    token = access_token_for(client.app, await create_user(client.app))
    ws = await sockets()

    ack = await _answer(ws, "40" + json.dumps({"token": token}))

    assert ACK.fullmatch(ack), ack
    assert await _answer(ws, "40" + json.dumps({"token": token})) == '44"Unable to connect"'
    # Still connected: a request is answered.
    assert await _answer(ws, '421["rooms.leave",{"room":"property:p1"}]') == '431[{"ok":true,"room":"property:p1"}]'


async def test_a_refused_connect_is_told_the_code_and_the_reason(client: TestClient, sockets: Open) -> None:
    refusals = [await _answer(await sockets(), packet) for packet in ('40{"token":"not-a-jwt"}', "40{}", "40", '40{"token":7}')]

    assert [json.loads(refusal[2:]) for refusal in refusals] == [
        {"message": "invalid_token", "data": {"code": "invalid_token", "message": "the access token is not valid"}},
        *[{"message": "missing_token", "data": {"code": "missing_token", "message": "send the access token in the connect auth payload"}}] * 2,
        {"message": "invalid_auth", "data": {"code": "invalid_auth", "message": "auth must be {token, last_event_id}"}},
    ]
    assert all(refusal.startswith("44{") for refusal in refusals), refusals


async def test_a_namespace_not_served_is_refused_and_the_default_one_named_is_served(client: TestClient, sockets: Open) -> None:
    token = access_token_for(client.app, await create_user(client.app))
    ws = await sockets()

    assert await _answer(ws, "40/chat," + json.dumps({"token": token})) == '44/chat,"Unable to connect"'
    assert ACK.fullmatch(await _answer(ws, "40/," + json.dumps({"token": token})))


async def test_a_connect_awaited_as_a_binary_attachment_is_read_as_one(client: TestClient, sockets: Open) -> None:
    ws = await sockets()
    assert ACK.fullmatch(await _answer(ws, "40" + json.dumps({"token": access_token_for(client.app, await create_user(client.app))})))

    # A binary event announcing one attachment: the next message is that attachment, whatever it looks like.
    await ws.send_str('451-2["rooms.join",{"_placeholder":true,"num":0}]')
    answer = await _answer(ws, '40{"token":"x"}')

    assert answer.startswith('432[{"ok":false,"error":{"code":"invalid_request"'), answer


async def test_a_connect_is_answered_before_its_opening_and_a_request_sent_meanwhile_waits_for_it(
    client: TestClient, sockets: Open, redis: Redis
) -> None:
    token = access_token_for(client.app, await create_user(client.app))
    ws = await client.ws_connect(HANDSHAKE, autoping=False)
    assert (await ws.receive_str(timeout=10)).startswith("0{")
    # Redis holds every script call, the socket's opening among them, until it is unpaused.
    await redis.execute_command("CLIENT", "PAUSE", 10_000, "WRITE")
    try:
        await ws.send_str("40" + json.dumps({"token": token}))
        assert ACK.fullmatch(await ws.receive_str(timeout=10))
        await ws.send_str('421["rooms.leave",{"room":"property:p1"}]')
        # Frames are read in order: once the ping after it is answered, the request has been read.
        await ws.ping(b"read?")
        pong = await ws.receive(timeout=10)
        assert (pong.type.name, pong.data) == ("PONG", b"read?")
    finally:
        await redis.execute_command("CLIENT", "UNPAUSE")

    recovery, answer = await ws.receive_str(timeout=10), await ws.receive_str(timeout=10)

    assert recovery.startswith('42["session.recovery"'), recovery
    assert answer == '431[{"ok":true,"room":"property:p1"}]'
    await ws.close()


async def test_a_session_revoked_where_no_node_heard_it_is_answered_then_refused_and_sent_nothing_else(
    client: TestClient, sockets: Open, redis: Redis
) -> None:
    services = client.app[SERVICES]
    user = await create_user(client.app)
    # Marked as a revocation is, with no node told: this node learns of it from the socket's opening.
    await redis.set(revoked_session_key(services.settings.redis, "s-unheard"), b"1", ex=timedelta(minutes=16))
    ws = await sockets()

    await ws.send_str("40" + json.dumps({"token": services.tokens.issue_access(str(user.id), ["guest"], "s-unheard")}))
    await ws.send_str('421["rooms.leave",{"room":"property:p1"}]')
    frames = [await ws.receive_str(timeout=10) for _ in range(4)]
    closing = await ws.receive(timeout=10)

    assert ACK.fullmatch(frames[0])
    refusal = {"code": "session_revoked", "message": "this session has been signed out: sign in again"}
    # The refusal, Socket.IO's DISCONNECT, engine.io's CLOSE, then the WebSocket's close: the request that waited
    # for the opening is never answered, nor is anything else sent.
    assert frames[1:] == ['42["connect.refused",' + json.dumps(refusal, separators=(",", ":")) + "]", "41", "1"]
    assert closing.type.name == "CLOSE", closing
