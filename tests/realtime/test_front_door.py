"""Sockets come in through the front door: a handshake read in pieces, frames as RFC 6455 has them (fragments,
pings, closes, broken or oversized frames), a stalled handshake or a phone that stops reading cut off, and
everything else on the port still served by aiohttp."""

import asyncio
import base64
import json
import os
import socket
import struct
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestClient

from gateway.messaging.targets import user_room
from gateway.state import SERVICES, SOCKETIO
from tests.factories import access_token_for, create_user
from tests.gateway_apps import gateway_app
from tests.realtime.conftest import eventually

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA
HANDSHAKE = (
    b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def client_frame(opcode: int, payload: bytes, *, final: bool = True, masked: bool = True) -> bytes:
    """A frame as a browser writes it: masked, with the shortest length encoding."""
    first = (0x80 if final else 0) | opcode
    length = len(payload)
    if length < 126:
        header = bytes((first, (0x80 if masked else 0) | length))
    elif length < 65_536:
        header = struct.pack("!BBH", first, (0x80 if masked else 0) | 126, length)
    else:
        header = struct.pack("!BBQ", first, (0x80 if masked else 0) | 127, length)
    if not masked:
        return header + payload
    mask = os.urandom(4)
    return header + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))


class RawPhone:
    """A WebSocket client written by hand, to send what a library would not."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, client: TestClient, receive_buffer: int | None = None) -> "RawPhone":
        sock = socket.socket()
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (client.server.host, client.server.port))
        return cls(*await asyncio.open_connection(sock=sock))

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def head(self) -> bytes:
        return await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 10)

    async def answer(self) -> tuple[int, str | None, bytes]:
        """An HTTP answer's status, Content-Type and body."""
        status_line, *lines = (await self.head()).decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines if line)}
        body = await asyncio.wait_for(self.reader.readexactly(int(headers["content-length"])), 10)
        return int(status_line.split()[1]), headers.get("content-type"), body

    async def frame(self) -> tuple[int, bytes]:
        first, second = await asyncio.wait_for(self.reader.readexactly(2), 10)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return first & 0x0F, await self.reader.readexactly(length)

    async def text(self) -> str:
        opcode, payload = await self.frame()
        assert opcode == TEXT, (opcode, payload)
        return payload.decode()

    async def connect(self, token: str) -> str:
        """Socket.IO's CONNECT on an open socket; answers the sid the server gave."""
        await self.send(client_frame(TEXT, b"40" + json.dumps({"token": token}).encode()))
        answer = await self.text()
        assert answer.startswith("40"), answer
        return str(json.loads(answer[2:])["sid"])

    async def closed(self) -> bool:
        """Read until the server ends the connection."""
        with pytest.raises((asyncio.IncompleteReadError, ConnectionResetError)):
            while True:
                await asyncio.wait_for(self.reader.readexactly(1), 10)
        return True

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass


@pytest.fixture
async def raw_phones() -> Any:
    opened: list[RawPhone] = []

    async def open_phone(client: TestClient, **options: Any) -> RawPhone:
        phone = await RawPhone.open(client, **options)
        opened.append(phone)
        return phone

    yield open_phone
    for phone in opened:
        await phone.close()


async def test_a_handshake_in_pieces_and_a_connect_sent_along_with_it_are_both_read(client: TestClient, raw_phones: Any) -> None:
    user = await create_user(client.app, email="neema@example.com")
    phone: RawPhone = await raw_phones(client)
    connect = client_frame(TEXT, b"40" + json.dumps({"token": access_token_for(client.app, user)}).encode())

    await phone.send(HANDSHAKE[:7])
    await phone.send(HANDSHAKE[7:60])
    await phone.send(HANDSHAKE[60:] + connect)

    head = await phone.head()
    assert head.startswith(b"HTTP/1.1 101 ")
    # RFC 6455's own example key and answer.
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in head
    assert json.loads((await phone.text())[1:])["upgrades"] == []
    assert (await phone.text()).startswith("40{")


async def test_the_open_packet_carries_what_engineio_would_send(
    aiohttp_client, mongodb_url: str, redis_url: str, raw_phones: Any  # type: ignore[no-untyped-def]
) -> None:
    realtime = {"ping_interval_s": 7.5, "ping_timeout_s": 4.25, "max_message_bytes": 65_536, "max_request_chars": 1024}
    client: TestClient = await aiohttp_client(gateway_app(mongodb_url, redis_url, realtime=realtime))
    phone: RawPhone = await raw_phones(client)

    await phone.send(HANDSHAKE)
    await phone.head()
    opened = await phone.text()

    assert opened[0] == "0"
    fields = json.loads(opened[1:])
    # engine.io's own: the interval rounded down to whole seconds, in milliseconds.
    assert fields == {"sid": fields["sid"], "upgrades": [], "pingTimeout": 4250, "pingInterval": 7000, "maxPayload": 65_536}
    socket = client.app[SOCKETIO].eio.sockets[fields["sid"]]
    assert socket.connected and socket.upgraded and socket.queue is None


def _through_aiohttp(handshake: bytes) -> bytes:
    """The same request without its WebSocket key: the front door leaves it to aiohttp's route and engine.io."""
    return handshake.replace(b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", b"")


@pytest.mark.parametrize(
    "handshake",
    [
        HANDSHAKE.replace(b"Host: 127.0.0.1\r\n", b"Host: 127.0.0.1\r\nOrigin: https://evil.example\r\n"),
        HANDSHAKE.replace(b"EIO=4", b"EIO=3"),
        HANDSHAKE.replace(b"transport=websocket", b"transport=websocket&j=x"),
    ],
    ids=["another origin", "an old protocol", "a broken jsonp index"],
)
async def test_a_handshake_engineio_refuses_is_answered_as_engineio_answers_it(
    client: TestClient, raw_phones: Any, handshake: bytes
) -> None:
    front_door: RawPhone = await raw_phones(client)
    engineio: RawPhone = await raw_phones(client)

    await front_door.send(handshake)
    await engineio.send(_through_aiohttp(handshake))

    refusal = await front_door.answer()
    assert refusal[0] == 400
    assert refusal == await engineio.answer()
    assert await front_door.closed()
    assert not client.app[SOCKETIO].eio.sockets


async def test_a_page_of_the_gateways_own_origin_is_let_in(client: TestClient, raw_phones: Any) -> None:
    phone: RawPhone = await raw_phones(client)

    await phone.send(HANDSHAKE.replace(b"Host: 127.0.0.1\r\n", b"Host: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\n"))

    assert (await phone.head()).startswith(b"HTTP/1.1 101 ")


async def test_an_address_over_its_limit_is_refused_as_engineio_refuses_a_connection(
    aiohttp_client, mongodb_url: str, redis_url: str, raw_phones: Any  # type: ignore[no-untyped-def]
) -> None:
    client: TestClient = await aiohttp_client(gateway_app(mongodb_url, redis_url, realtime={"max_sockets_per_address": 1}))
    held: RawPhone = await raw_phones(client)
    await held.send(HANDSHAKE)
    await held.head()
    opened = json.loads((await held.text())[1:])
    refused: RawPhone = await raw_phones(client)

    await refused.send(HANDSHAKE)

    assert await refused.answer() == (401, "application/json", b'"too_many_connections"')
    assert await refused.closed()
    assert list(client.app[SOCKETIO].eio.sockets) == [opened["sid"]]


async def test_fragments_pings_and_a_close_are_answered_as_rfc_6455_asks(client: TestClient, raw_phones: Any) -> None:
    user = await create_user(client.app, email="imani@example.com")
    phone: RawPhone = await raw_phones(client)
    await phone.send(HANDSHAKE)
    await phone.head()
    opened = json.loads((await phone.text())[1:])
    await phone.connect(access_token_for(client.app, user))

    # A request in two fragments, a ping between them (control frames may come mid-message).
    await phone.send(client_frame(TEXT, b'427["no.such', final=False))
    await phone.send(client_frame(PING, b"are you there"))
    await phone.send(client_frame(0x0, b'.request",{}]'))
    answers = [await phone.frame() for _ in range(3)]  # with the session event the connect brings
    assert (PONG, b"are you there") in answers
    ack = next(payload.decode() for opcode, payload in answers if payload.startswith(b"437["))
    assert json.loads(ack[3:])[0]["error"]["code"] == "unknown_event"

    await phone.send(client_frame(CLOSE, struct.pack("!H", 1000)))
    assert await phone.frame() == (CLOSE, struct.pack("!H", 1000))
    assert await phone.closed()
    sockets = client.app[SOCKETIO].eio.sockets
    await eventually(lambda: opened["sid"] not in sockets, 10, "the server to forget the closed socket")


async def test_an_engineio_close_packet_ends_the_websocket_too(client: TestClient, raw_phones: Any) -> None:
    phone: RawPhone = await raw_phones(client)
    await phone.send(HANDSHAKE)
    await phone.head()
    opened = json.loads((await phone.text())[1:])

    await phone.send(client_frame(TEXT, b"1"))

    assert await phone.frame() == (CLOSE, struct.pack("!H", 1000))
    await phone.send(client_frame(CLOSE, struct.pack("!H", 1000)))
    assert await phone.closed()
    sockets = client.app[SOCKETIO].eio.sockets
    await eventually(lambda: opened["sid"] not in sockets, 10, "the server to forget the socket")


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (client_frame(TEXT, b"40", masked=False), 1002),  # a client's frame must be masked
        (bytes((0xC1, 0x80)) + os.urandom(4), 1002),  # a reserved bit, with no extension agreed
        (client_frame(TEXT, b"4" + b"x" * 8192), 1009),  # longer than realtime.max_message_bytes
        (client_frame(TEXT, b"42\xff\xfe"), 1007),  # text that is not UTF-8
        (client_frame(0x0, b"orphan"), 1002),  # a continuation of nothing
        # Fragments each within the limit, together over it.
        (client_frame(TEXT, b"4" + b"x" * 999, final=False) + b"".join(client_frame(0x0, b"x" * 1000, final=False) for _ in range(4)), 1009),
    ],
)
async def test_a_broken_or_oversized_frame_closes_the_socket_with_its_code(
    aiohttp_client, mongodb_url: str, redis_url: str, raw_phones: Any, frame: bytes, code: int  # type: ignore[no-untyped-def]
) -> None:
    client: TestClient = await aiohttp_client(
        gateway_app(mongodb_url, redis_url, realtime={"max_message_bytes": 4096, "max_request_chars": 1024})
    )
    phone: RawPhone = await raw_phones(client)
    await phone.send(HANDSHAKE)
    await phone.head()
    opened = json.loads((await phone.text())[1:])

    await phone.send(frame)

    assert await phone.frame() == (CLOSE, struct.pack("!H", code))
    assert await phone.closed()
    sockets = client.app[SOCKETIO].eio.sockets
    await eventually(lambda: opened["sid"] not in sockets, 10, "the server to forget the socket")


async def test_a_handshake_left_unfinished_is_cut_off(
    aiohttp_client, mongodb_url: str, redis_url: str, raw_phones: Any  # type: ignore[no-untyped-def]
) -> None:
    client: TestClient = await aiohttp_client(gateway_app(mongodb_url, redis_url, realtime={"handshake_timeout_s": 0.3}))
    phone: RawPhone = await raw_phones(client)

    await phone.send(HANDSHAKE[:40])

    assert await phone.closed()


async def test_what_is_not_a_socket_handshake_is_served_by_aiohttp_on_the_same_port(client: TestClient, raw_phones: Any) -> None:
    not_upgrading: RawPhone = await raw_phones(client)
    await not_upgrading.send(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    # engine.io's refusal, through aiohttp's route: a GET asking for WebSocket without the upgrade.
    assert (await not_upgrading.head()).startswith(b"HTTP/1.1 400 ")

    keeping_alive: RawPhone = await raw_phones(client)
    await keeping_alive.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert (await keeping_alive.head()).startswith(b"HTTP/1.1 200 ")


async def test_a_phone_that_stops_reading_is_cut_off_rather_than_buffered(
    aiohttp_client, mongodb_url: str, redis_url: str, raw_phones: Any  # type: ignore[no-untyped-def]
) -> None:
    client: TestClient = await aiohttp_client(gateway_app(mongodb_url, redis_url, realtime={"max_unsent_bytes": 65_536}))
    user = await create_user(client.app, email="zuri@example.com")
    phone: RawPhone = await raw_phones(client, receive_buffer=4096)
    await phone.send(HANDSHAKE)
    await phone.head()
    opened = json.loads((await phone.text())[1:])
    await phone.connect(access_token_for(client.app, user))
    sockets = client.app[SOCKETIO].eio.sockets
    bulky = {"note": base64.b64encode(os.urandom(12_000)).decode()}

    # The phone reads nothing more. Once the kernel's buffers are full, what the gateway holds grows to the limit.
    for n in range(800):
        await client.app[SERVICES].bus.publish(user_room(str(user.id)), "test.bulky", {"n": n, **bulky})
        if opened["sid"] not in sockets:
            break
    await eventually(lambda: opened["sid"] not in sockets, 10, "the server to cut off the phone that stopped reading")


async def test_a_shutdown_tells_connected_phones_to_go_elsewhere_and_closes_every_socket(client: TestClient, raw_phones: Any) -> None:
    user = await create_user(client.app, email="amani@example.com")
    phone = socketio.AsyncClient(reconnection=False)
    notices: list[Any] = []
    phone.on("server.draining", notices.append)
    await phone.connect(str(client.make_url("/")), auth={"token": access_token_for(client.app, user)}, transports=["websocket"])
    # A socket that never sent its Socket.IO CONNECT is in no room: the drain does not reach it, the shutdown does.
    half_open: RawPhone = await raw_phones(client)
    await half_open.send(HANDSHAKE)
    await half_open.head()

    try:
        await client.server.close()

        await eventually(lambda: not phone.connected, 10, "the phone's socket to close")
        assert notices == [{"reconnect": True}]
        assert await half_open.closed()
    finally:
        await phone.disconnect()
