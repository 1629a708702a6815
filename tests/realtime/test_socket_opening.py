"""A socket's opening: sockets connecting while their room's events are being published get each event once, in
order, whether it came in the replay or live; the CONNECT answer and the replay leave in one write."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from gateway.messaging import MessageBus, user_room
from gateway.realtime.websocket_connection import OP_TEXT, WebSocketConnection, frame_header
from gateway.security.tokens import TokenService
from tests.realtime.conftest import Cluster, RecordingClient, issue

pytestmark = pytest.mark.allows_blocking

RECOVERY = "session.recovery"


async def test_sockets_connecting_while_their_room_is_published_to_get_every_event_once_in_order(
    cluster: Cluster, bus: MessageBus, tokens: TokenService, clients: Callable[[], RecordingClient]
) -> None:
    node = await cluster.start_node()
    room = user_room("neema")
    first = await bus.publish(room, "booking.updated", {"n": 0})
    publishing = True

    async def publish() -> list[int]:
        ids = [first.event_id]
        while publishing:
            ids.append((await bus.publish(room, "booking.updated", {"n": len(ids)})).event_id)
        return ids

    publisher = asyncio.create_task(publish())
    phones = [clients() for _ in range(8)]
    # Half resume from the first event, half have nothing to resume: each opens while events keep coming.
    for index, phone in enumerate(phones):
        auth: dict[str, Any] = {"token": issue(tokens, "neema")}
        if index % 2 == 0:
            auth["last_event_id"] = first.event_id
        await phone.connect(node, auth)
        await phone.wait_for(lambda c: bool(c.of_type(RECOVERY)))
    publishing = False
    published = await publisher
    last = (await bus.publish(room, "booking.updated", {"n": "last"})).event_id

    for index, phone in enumerate(phones):
        await phone.wait_for(lambda c: any(e["id"] == last for e in c.envelopes()))
        received = [envelope["id"] for envelope in phone.envelopes()]
        (notice,) = phone.of_type(RECOVERY)
        if index % 2 == 0:
            assert received == [*published[1:], last], "every event after the id resumed from, once, in order"
            assert notice["recovered"] is True
        else:
            assert received == list(range(notice["last_event_id"] + 1, last + 1)), "every event after the opening"
            assert notice["replayed"] == 0


class RecordingTransport:
    """Stands in for the connection's socket: keeps each write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def get_write_buffer_size(self) -> int:
        return 0

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True


class Sink:
    async def receive_message(self, message: str | bytes) -> None: ...

    def pong(self) -> None: ...

    def connection_ended(self) -> None: ...


def frame(payload: bytes) -> bytes:
    return frame_header(OP_TEXT, len(payload)) + payload


async def test_frames_held_back_leave_in_one_write_in_order_and_before_a_close() -> None:
    transport = RecordingTransport()
    connection = WebSocketConnection(transport, Sink(), 1024, 1 << 20)  # type: ignore[arg-type]
    connection.send(b"0")
    connection.hold_writes()
    connection.send(b'40{"sid":"a"}')
    connection.send(b'42["session.recovery",{}]')

    assert transport.writes == [frame(b"0")]
    connection.release_writes()
    assert transport.writes == [frame(b"0"), frame(b'40{"sid":"a"}') + frame(b'42["session.recovery",{}]')]

    connection.hold_writes()
    connection.send(b"2")
    connection.close(wait_for_peer=False)
    assert transport.writes[2] == frame(b"2"), "what was held goes out before the close frame"
    assert transport.writes[3][0] == 0x88
