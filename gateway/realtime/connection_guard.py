"""The Socket.IO server's guards around the handshake: connections held and opened per client address, a deadline to
complete the Socket.IO CONNECT, and requests too large to serve answered with an error instead of dropping the socket."""

import asyncio
import re
import time
from collections.abc import Coroutine
from typing import Any

import socketio
from limits import parse as parse_limit
from socketio import packet

from gateway.settings import Settings

NAMESPACE = "/"
# An EVENT packet of the default namespace with an ack id: `2<id>[...`. Other packets are not answered.
_ACKED_EVENT = re.compile(r"2(\d{1,18})\[")
# What a socket's environ keeps once connected (python-socketio holds it for the socket's life).
_KEPT_ENVIRON = ("REMOTE_ADDR", "QUERY_STRING")
# The rate of connects of addresses seen this many connects ago is forgotten once it has run out.
_SWEEP_EVERY = 4096


def request_failure(code: str, message: str) -> dict[str, Any]:
    """The ack of a client request that failed: `{ok: false, error: {code, message}}`."""
    return {"ok": False, "error": {"code": code, "message": message}}


class ConnectRate:
    """Connects per address as a generic cell rate (GCRA): a burst of `amount`, then one every `period / amount`.

    Kept in memory for this node: one float an address, no Redis round trip per connect, and a reconnect storm
    from many addresses costs nothing more than their number."""

    def __init__(self, limit: str) -> None:
        item = parse_limit(limit)
        self._interval = item.get_expiry() / item.amount
        self._tolerance = item.get_expiry() - self._interval
        # address -> the time at which its allowance is whole again
        self._refilled_at: dict[str, float] = {}
        self._until_sweep = _SWEEP_EVERY

    def allow(self, address: str) -> bool:
        now = time.monotonic()
        refilled_at = max(self._refilled_at.get(address, now), now)
        if refilled_at - now > self._tolerance:
            return False
        self._refilled_at[address] = refilled_at + self._interval
        self._until_sweep -= 1
        if not self._until_sweep:
            self._until_sweep = _SWEEP_EVERY
            self._refilled_at = {key: at for key, at in self._refilled_at.items() if at > now}
        return True


class GuardedServer(socketio.AsyncServer):
    """python-socketio's server with the guards this gateway needs before and around the handshake."""

    def __init__(self, settings: Settings, **options: Any) -> None:
        super().__init__(**options)
        self._limits = settings.realtime
        self._connect_rate = ConnectRate(settings.realtime.connects_per_address)
        self._held: dict[str, int] = {}
        self._address_of: dict[str, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        """Refuse (HTTP 401) an address that holds or opened too many connections; start the handshake's clock."""
        # The client behind trusted proxies, as the front door or aiohttp's route found it.
        address = environ["REMOTE_ADDR"]
        if self._held.get(address, 0) >= self._limits.max_sockets_per_address:
            return "too_many_connections"
        if not self._connect_rate.allow(address):
            return "too_many_connects"
        self._held[address] = self._held.get(address, 0) + 1
        self._address_of[eio_sid] = address
        asyncio.get_running_loop().call_later(self._limits.handshake_timeout_s, self._handshake_due, eio_sid)
        # Kept for the socket's life: the few keys a handler could want, not the whole request.
        return await super()._handle_eio_connect(eio_sid, {key: environ[key] for key in _KEPT_ENVIRON if key in environ})

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> None:
        await super()._handle_eio_disconnect(eio_sid, reason)
        address = self._address_of.pop(eio_sid, None)
        if address is not None:
            held = self._held[address] - 1
            if held:
                self._held[address] = held
            else:
                del self._held[address]

    def _handshake_due(self, eio_sid: str) -> None:
        socket = self.eio.sockets.get(eio_sid)
        if socket is None or socket.closed:
            return
        sid = self.manager.sid_from_eio_sid(eio_sid, NAMESPACE)
        if sid is None or not self.manager.is_connected(sid, NAMESPACE):
            self._spawn(self.eio.disconnect(eio_sid))

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if len(data) > self._limits.max_request_chars:
            await self._refuse_oversized(eio_sid, data)
            return
        await super()._handle_eio_message(eio_sid, data)

    async def _refuse_oversized(self, eio_sid: str, data: Any) -> None:
        """Answer a request too large to read with an error ack, without decoding it; anything else is dropped."""
        # A binary attachment of a packet no longer awaited would otherwise be read as the next one's.
        self._binary_packet.pop(eio_sid, None)
        head = _ACKED_EVENT.match(data, 0, 24) if isinstance(data, str) else None
        sid = self.manager.sid_from_eio_sid(eio_sid, NAMESPACE)
        if head is None or sid is None or not self.manager.is_connected(sid, NAMESPACE):
            return
        refusal = request_failure("request_too_large", f"a request may be at most {self._limits.max_request_chars} characters")
        await self._send_packet(eio_sid, self.packet_class(packet.ACK, namespace=NAMESPACE, id=int(head[1]), data=[refusal]))

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
