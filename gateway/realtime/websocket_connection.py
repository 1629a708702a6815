"""One accepted WebSocket (RFC 6455) as a plain asyncio protocol: frames in, engine.io packets to its socket, frames out.

A socket that lives for hours costs what this object holds and nothing else: no HTTP request, parser, response,
reader queue or suspended coroutine stays behind once the handshake is done, and nothing runs between messages."""

import asyncio
import collections
import struct
from typing import Protocol

from gateway.logs import get_logger

log = get_logger("lango.realtime.websocket")

OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
CLOSE_NORMAL, CLOSE_PROTOCOL_ERROR, CLOSE_INVALID_DATA, CLOSE_TOO_BIG = 1000, 1002, 1007, 1009
# The engine.io PONG a phone answers every ping with, handled without a task.
_ENGINEIO_PONG = "3"
# Messages read ahead of the one being handled before the peer is made to wait (reading pauses).
_INBOX_LIMIT = 32
# How long a close waits for the peer's close frame before the connection is cut.
CLOSE_GRACE_S = 3.0
# The loop keeps only weak references to tasks: a running inbox is held here until it is done.
_RUNNING: set["asyncio.Task[None]"] = set()


class MessageSink(Protocol):
    """The engine.io socket a connection hands its messages to."""

    def pong(self) -> None: ...

    async def receive_message(self, message: str | bytes) -> None: ...

    def connection_ended(self) -> None: ...


def frame_header(opcode: int, length: int) -> bytes:
    """The header of an unfragmented, unmasked frame (a server's frames are never masked)."""
    if length < 126:
        return bytes((0x80 | opcode, length))
    if length < 65_536:
        return struct.pack("!BBH", 0x80 | opcode, 126, length)
    return struct.pack("!BBQ", 0x80 | opcode, 127, length)


def unmask(payload: bytes, mask: bytes) -> bytes:
    """XOR with the repeated 4-byte mask, done as one big-integer operation instead of a loop over bytes."""
    length = len(payload)
    if not length:
        return payload
    key = (mask * (length // 4 + 1))[:length]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(length, "little")


class WebSocketConnection(asyncio.Protocol):
    """Reads a client's frames (masked, possibly fragmented, at most `max_message_bytes` a message), answers pings
    and closes, and passes each message to its socket in order: the next one is handled once the last is done."""

    __slots__ = ("_transport", "_sink", "_max_bytes", "_buffer", "_fragments", "_fragment_opcode", "_fragmented_bytes",
                 "_inbox", "_closing", "_max_buffered", "_held")  # fmt: skip

    def __init__(self, transport: asyncio.Transport, sink: MessageSink, max_message_bytes: int, max_buffered_bytes: int) -> None:
        self._transport: asyncio.Transport | None = transport
        self._sink = sink
        self._max_bytes = max_message_bytes
        self._max_buffered = max_buffered_bytes
        self._buffer = b""
        self._fragments: list[bytes] | None = None
        self._fragment_opcode = OP_TEXT
        self._fragmented_bytes = 0
        self._inbox: collections.deque[str | bytes] | None = None
        self._closing = False
        # Frames kept back by `hold_writes` until `release_writes`.
        self._held: list[bytes] | None = None

    # Writing

    def send(self, payload: bytes, opcode: int = OP_TEXT) -> None:
        """Write one frame; never waits. A peer that stops reading while frames pile up past the limit is cut
        off: its phone reconnects and recovers what it missed from the rooms' history."""
        frame = frame_header(opcode, len(payload)) + payload
        if self._held is not None:
            self._held.append(frame)
        else:
            self._write(frame)

    def hold_writes(self) -> None:
        """Keep frames sent from now on until `release_writes`, to write them at once: a socket's CONNECT answer and
        its replay cost the peer one read, and this side one write."""
        if self._held is None:
            self._held = []

    def drop_held_writes(self) -> None:
        """Forget the frames held back, and hold no more."""
        self._held = None

    def release_writes(self) -> None:
        held, self._held = self._held, None
        if held:
            self._write(b"".join(held))

    def _write(self, frames: bytes) -> None:
        transport = self._transport
        if transport is None or self._closing:
            return
        transport.write(frames)
        if transport.get_write_buffer_size() > self._max_buffered:
            log.info("websocket peer not reading, cut off", buffered=transport.get_write_buffer_size())
            self._abort()

    def close(self, code: int = CLOSE_NORMAL, *, wait_for_peer: bool = True) -> None:
        """Send a close frame; the connection ends when the peer answers it, after a grace period, or (not waiting,
        as on shutdown) as soon as what is written has left."""
        transport = self._transport
        if transport is None:
            return
        if not self._closing:
            self.release_writes()
            transport.write(frame_header(OP_CLOSE, 2) + struct.pack("!H", code))
            self._closing = True
            if wait_for_peer:
                asyncio.get_running_loop().call_later(CLOSE_GRACE_S, self._abort)
        if not wait_for_peer:
            transport.close()

    def _abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # Reading

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        position, size = 0, len(buffer)
        while size - position >= 2 and self._transport is not None:
            first, second = buffer[position], buffer[position + 1]
            length, header = second & 0x7F, 2
            if length == 126:
                if size - position < 4:
                    break
                (length,), header = struct.unpack_from("!H", buffer, position + 2), 4
            elif length == 127:
                if size - position < 10:
                    break
                (length,), header = struct.unpack_from("!Q", buffer, position + 2), 10
            if first & 0x70 or not second & 0x80:
                # Reserved bits with no extension agreed, or a client frame without a mask.
                self._fail(CLOSE_PROTOCOL_ERROR)
                return
            if length > self._max_bytes:
                self._fail(CLOSE_TOO_BIG)
                return
            end = position + header + 4 + length
            if size < end:
                break
            mask_at = position + header
            payload = unmask(buffer[mask_at + 4 : end], buffer[mask_at : mask_at + 4])
            position = end
            self._frame(bool(first & 0x80), first & 0x0F, payload)
        self._buffer = buffer[position:] if position < size else b""

    def _frame(self, final: bool, opcode: int, payload: bytes) -> None:
        if opcode >= OP_CLOSE:
            if not final or len(payload) > 125:
                self._fail(CLOSE_PROTOCOL_ERROR)
            elif opcode == OP_PING:
                self._write(frame_header(OP_PONG, len(payload)) + payload)  # answered at once, even while frames are held
            elif opcode == OP_CLOSE:
                self._closed_by_peer(payload)
            elif opcode != OP_PONG:
                self._fail(CLOSE_PROTOCOL_ERROR)
            return
        if opcode == OP_CONTINUATION:
            if self._fragments is None:
                self._fail(CLOSE_PROTOCOL_ERROR)
                return
            self._fragments.append(payload)
            # The fragments' total so far, kept as it grows: summing the list on each one would let a flood of
            # one-byte fragments cost quadratic time.
            self._fragmented_bytes += len(payload)
            if self._fragmented_bytes > self._max_bytes:
                self._fail(CLOSE_TOO_BIG)
                return
            if final:
                payload, opcode, self._fragments = b"".join(self._fragments), self._fragment_opcode, None
                self._message(opcode, payload)
        elif opcode in (OP_TEXT, OP_BINARY) and self._fragments is None:
            if final:
                self._message(opcode, payload)
            else:
                self._fragments, self._fragment_opcode, self._fragmented_bytes = [payload], opcode, len(payload)
        else:
            self._fail(CLOSE_PROTOCOL_ERROR)

    def _message(self, opcode: int, payload: bytes) -> None:
        message: str | bytes = payload
        if opcode == OP_TEXT:
            try:
                message = payload.decode()
            except UnicodeDecodeError:
                self._fail(CLOSE_INVALID_DATA)
                return
            if message == _ENGINEIO_PONG and self._inbox is None:
                self._sink.pong()
                return
        if self._inbox is not None:
            self._inbox.append(message)
            if len(self._inbox) >= _INBOX_LIMIT and self._transport is not None:
                self._transport.pause_reading()
            return
        self._inbox = collections.deque((message,))
        task = asyncio.get_running_loop().create_task(self._handle_inbox())
        _RUNNING.add(task)
        task.add_done_callback(_RUNNING.discard)

    async def _handle_inbox(self) -> None:
        inbox = self._inbox
        while inbox and self._transport is not None:
            message = inbox.popleft()
            try:
                await self._sink.receive_message(message)
            except Exception:
                log.exception("socket message failed")
            transport = self._transport
            if len(inbox) <= _INBOX_LIMIT // 2 and transport is not None and not transport.is_reading():
                transport.resume_reading()
        self._inbox = None

    def _closed_by_peer(self, payload: bytes) -> None:
        if not self._closing:
            # Echo the peer's status code (or none, if it sent none), as RFC 6455 5.5.1 asks.
            self._transport.write(frame_header(OP_CLOSE, len(payload[:2])) + payload[:2])  # type: ignore[union-attr]
            self._closing = True
        self._transport.close()  # type: ignore[union-attr]

    def _fail(self, code: int) -> None:
        self.close(code, wait_for_peer=False)

    def eof_received(self) -> bool:
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._inbox = None
        self._sink.connection_ended()
