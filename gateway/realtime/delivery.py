"""This node's sockets by room, and delivery to them: in id order, without duplicates, gaps refilled from history."""

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

import engineio
from engineio import packet as eio_packet
from engineio.exceptions import SocketIsClosedError

from gateway.logs import get_logger
from gateway.messaging.log import MessageLog, StoredEvent
from gateway.metrics import EVENTS_DELIVERED, EVENTS_RECOVERED
from gateway.realtime.direct_socket import DirectWebSocket
from gateway.realtime.websocket_connection import WebSocketConnection

log = get_logger("lango.realtime.delivery")
# Bound once: a label lookup per event delivered would cost more than the count.
_DELIVERED_TO_SOCKETS = EVENTS_DELIVERED.labels("socket")


class EventFrame:
    """One Socket.IO EVENT packet of the default namespace, encoded once for every socket it goes to."""

    __slots__ = ("encoded",)

    def __init__(self, event_type: str, data: bytes) -> None:
        # What a direct socket writes as the text frame's payload: engine.io's MESSAGE type, then the packet,
        # built by concatenation: the data is already JSON.
        self.encoded = b'42["%s",%s]' % (event_type.encode(), data)

    def packet(self) -> eio_packet.Packet:
        """The same packet for sockets on engine.io's own path (polling, or direct writes turned off)."""
        return eio_packet.Packet(eio_packet.MESSAGE, data=self.encoded[1:].decode())


class LocalSocket:
    __slots__ = ("eio_sid", "rooms", "replaying", "replayed_up_to")

    def __init__(self, eio_sid: str) -> None:
        self.eio_sid = eio_sid
        self.rooms: set[str] = set()
        # room -> live events held back while that room's history is replayed to this socket
        self.replaying: dict[str, list[tuple[int, EventFrame]]] | None = None
        # room -> last id its replay sent, while the room's live feed here has not caught up with it
        self.replayed_up_to: dict[str, int] | None = None


class LocalDelivery:
    """Each room this node holds has one ordered feed; each socket in the room gets the feed's events."""

    def __init__(self, eio: engineio.AsyncServer, history: MessageLog) -> None:
        self._eio = eio
        self._history = history
        self.rooms: dict[str, set[str]] = {}
        self.sockets: dict[str, LocalSocket] = {}
        self._last_id: dict[str, int] = {}
        self._refilling: dict[str, list[tuple[int, str, bytes]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def add_socket(self, sid: str, eio_sid: str) -> None:
        self.sockets[sid] = LocalSocket(eio_sid)

    def remove_socket(self, sid: str) -> list[str]:
        """Forget the socket; answer the rooms it was in."""
        socket = self.sockets.get(sid)
        if socket is None:
            return []
        rooms = list(socket.rooms)
        for room in rooms:
            self._leave(sid, room)
        del self.sockets[sid]
        return rooms

    def join(self, sid: str, room: str) -> None:
        """Add the socket to the room, holding back its live events until `finish_replay`."""
        socket = self.sockets[sid]
        if socket.replaying is None:
            socket.replaying = {}
        socket.replaying[room] = []
        socket.rooms.add(room)
        self.rooms.setdefault(room, set()).add(sid)

    def leave(self, sid: str, room: str) -> bool:
        """Take the socket out of the room; false if it was not in it."""
        socket = self.sockets.get(sid)
        if socket is None or room not in socket.rooms:
            return False
        self._leave(sid, room)
        return True

    def _leave(self, sid: str, room: str) -> None:
        socket = self.sockets[sid]
        socket.rooms.discard(room)
        if socket.replaying:
            socket.replaying.pop(room, None)
        if socket.replayed_up_to:
            socket.replayed_up_to.pop(room, None)
        members = self.rooms.get(room)
        if members is None:
            return
        members.discard(sid)
        if not members:
            del self.rooms[room]
            self._last_id.pop(room, None)
            self._refilling.pop(room, None)

    async def finish_replay(
        self, sid: str, room: str, events: list[StoredEvent], latest_id: int, notice: EventFrame | None = None
    ) -> None:
        """Send the history, then `notice`, then the live events held back meanwhile that it did not contain."""
        socket = self.sockets.get(sid)
        if socket is None or socket.replaying is None or room not in socket.replaying:
            return
        sent_up_to = latest_id
        for event in events:
            await self._send(socket, EventFrame(event.type, event.envelope))
            sent_up_to = max(sent_up_to, event.id)
        if events:
            EVENTS_RECOVERED.inc(len(events))
        if notice is not None:
            await self._write(socket, notice)
        held = socket.replaying[room]
        # Loop until empty with no await between the check and the release, so nothing slips in between.
        while held:
            event_id, frame = held.pop(0)
            if event_id > sent_up_to:
                await self._send(socket, frame)
                sent_up_to = event_id
        del socket.replaying[room]
        if not socket.replaying:
            socket.replaying = None
        feed_last = self._last_id.get(room)
        if feed_last is None:
            self._last_id[room] = sent_up_to
        elif feed_last < sent_up_to:
            socket.replayed_up_to = {**(socket.replayed_up_to or {}), room: sent_up_to}

    def last_sent(self, sid: str, room: str) -> int:
        """The id of the last event of a room this socket follows that it has been sent (0: none yet)."""
        socket = self.sockets[sid]
        replayed = socket.replayed_up_to.get(room, 0) if socket.replayed_up_to else 0
        return max(self._last_id.get(room, 0), replayed)

    def room_cursors(self) -> dict[str, int]:
        """The last id delivered in every room held here, to ask history for anything missed."""
        return dict(self._last_id)

    async def deliver(self, room: str, event_id: int, event_type: str, envelope: bytes) -> None:
        """One event from Redis: drop it if seen, refill from history first if some before it are missing."""
        if room not in self.rooms:
            return
        held = self._refilling.get(room)
        if held is not None:
            held.append((event_id, event_type, envelope))
            return
        last = self._last_id.get(room)
        if last is not None and event_id <= last:
            return
        if last is not None and event_id > last + 1:
            self._refilling[room] = [(event_id, event_type, envelope)]
            self._spawn(self._refill(room, last))
            return
        await self._fan_out(room, event_id, EventFrame(event_type, envelope))

    def refill(self, room: str) -> None:
        """Fetch whatever the room's history has after the last id delivered here (after Redis came back)."""
        last = self._last_id.get(room)
        if last is None or room in self._refilling:
            return
        self._refilling[room] = []
        self._spawn(self._refill(room, last))

    async def _refill(self, room: str, last: int) -> None:
        try:
            missed = (await self._history.read_after(room, last, partial=True)).events
        except Exception as error:
            missed = []
            log.warning("history unreachable; delivering what arrived", room=room, error=str(error))
        held = self._refilling.get(room)
        if held is None:
            return
        merged = sorted([(event.id, event.type, event.envelope) for event in missed] + held, key=lambda item: item[0])
        held.clear()
        for item in merged:
            await self._deliver_in_order(room, *item)
        # Events that arrived during those sends come after them in id order; drain before refilling ends.
        while held:
            await self._deliver_in_order(room, *held.pop(0))
        self._refilling.pop(room, None)

    async def _deliver_in_order(self, room: str, event_id: int, event_type: str, envelope: bytes) -> None:
        if room in self.rooms and event_id > self._last_id.get(room, 0):
            await self._fan_out(room, event_id, EventFrame(event_type, envelope))

    async def _fan_out(self, room: str, event_id: int, frame: EventFrame) -> None:
        self._last_id[room] = event_id
        for sid in list(self.rooms.get(room, ())):
            socket = self.sockets.get(sid)
            if socket is None:
                continue
            if socket.replaying is not None and room in socket.replaying:
                socket.replaying[room].append((event_id, frame))
            elif socket.replayed_up_to is not None and event_id <= socket.replayed_up_to.get(room, 0):
                continue
            else:
                await self._send(socket, frame)

    async def send_transient(self, room: str, event_type: str, envelope: bytes) -> None:
        """A signal without an id (a typing indicator) to the room's sockets here: not ordered, never replayed."""
        frame = EventFrame(event_type, envelope)
        for sid in list(self.rooms.get(room, ())):
            socket = self.sockets.get(sid)
            if socket is not None:
                await self._send(socket, frame)

    async def broadcast(self, event_type: str, envelope: bytes) -> None:
        frame = EventFrame(event_type, envelope)
        for socket in list(self.sockets.values()):
            await self._send(socket, frame)

    def hold_writes(self, sid: str) -> "WebSocketConnection | None":
        """Keep the socket's frames back until its connection's `release_writes`; answers that connection (None: a
        socket on engine.io's own path, written as ever)."""
        socket = self.sockets.get(sid)
        eio_socket = self._eio.sockets.get(socket.eio_sid) if socket is not None else None
        connection = eio_socket.connection if type(eio_socket) is DirectWebSocket else None
        if connection is not None:
            connection.hold_writes()
        return connection

    async def _send(self, socket: LocalSocket, frame: EventFrame) -> None:
        """Hand an event to a socket, counted."""
        _DELIVERED_TO_SOCKETS.inc()
        await self._write(socket, frame)

    async def _write(self, socket: LocalSocket, frame: EventFrame) -> None:
        eio_socket = self._eio.sockets.get(socket.eio_sid)
        if type(eio_socket) is DirectWebSocket and eio_socket.connection is not None:
            eio_socket.send_encoded(frame.encoded)
            return
        with contextlib.suppress(SocketIsClosedError):
            await self._eio.send_packet(socket.eio_sid, frame.packet())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
