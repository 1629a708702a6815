"""The realtime hub of one gateway node: sockets in, events out, presence and recovery in between."""

import asyncio
import contextlib
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import socketio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.events.bus import EventBus
from gateway.events.log import NODE_MESSAGE_SEPARATOR
from gateway.events.targets import BROADCAST, user_room
from gateway.jsoncodec import dumps
from gateway.logs import get_logger
from gateway.realtime.delivery import EventFrame, LocalDelivery
from gateway.realtime.heap import settle_heap_loop
from gateway.realtime.presence import NodePresence
from gateway.realtime.subscriber import NodeSubscriber
from gateway.settings import Settings

log = get_logger("lango.realtime.hub")

RECOVERY_EVENT = "session.recovery"
_BROADCAST = BROADCAST.encode()
EXPIRED_EVENT = "auth.expired"


class HubUnavailable(Exception):
    """Redis did not answer while a socket was joining a room."""


@dataclass(frozen=True)
class Resumed:
    room: str
    recovered: bool
    replayed: int
    last_event_id: int


class SocketSession:
    __slots__ = ("user_id", "roles", "expiry")

    def __init__(self, user_id: str, roles: frozenset[str]) -> None:
        self.user_id = user_id
        self.roles = roles
        self.expiry: asyncio.TimerHandle | None = None


class RealtimeHub:
    def __init__(self, sio: socketio.AsyncServer, redis: Redis, bus: EventBus, settings: Settings) -> None:
        self.node_id = uuid.uuid4().hex[:12]
        self._sio = sio
        self._bus = bus
        self._settings = settings.realtime
        self.presence = NodePresence(redis, bus.keys, settings.realtime, self.node_id)
        self.delivery = LocalDelivery(sio.eio, bus.log)
        self.subscriber = NodeSubscriber(
            redis, bus.keys, settings.realtime, self.node_id, self._on_message, self._on_subscribed
        )
        self.sessions: dict[str, SocketSession] = {}
        self._loops: list[asyncio.Task[None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        try:
            await self.presence.beat()
        except (RedisError, OSError) as error:
            log.warning("redis unreachable at start; the hub keeps trying", error=str(error))
        loops = [
            ("presence-writer", self.presence.write_loop()),
            ("heartbeat", self.presence.heartbeat_loop()),
            ("subscriber", self.subscriber.run()),
            ("pubsub-probe", self.subscriber.probe_loop()),
        ]
        if self._settings.gc_freeze:
            loops.append(("heap-settler", settle_heap_loop(self._settings, self.local_sockets)))
        for name, loop in loops:
            self._loops.append(asyncio.create_task(loop, name=f"realtime-{name}"))
        # Serving before the subscription is live would accept sockets this node cannot deliver to yet.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.subscriber.subscribed.wait(), self._settings.selftest_max_silence_s)
        log.info("realtime hub started", node=self.node_id)

    async def stop(self) -> None:
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.delivery.close()
        await self.presence.goodbye()

    async def ready(self) -> None:
        """The readiness check: raises when this node has stopped hearing from Redis."""
        self.subscriber.check()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_message(self, raw: bytes) -> None:
        """One publish of the event log to this node: a line per event, in order."""
        for line in raw.split(NODE_MESSAGE_SEPARATOR):
            room, event_id, event_type, envelope = line.split(b" ", 3)
            if room == _BROADCAST:
                await self.delivery.broadcast(event_type.decode(), envelope)
            else:
                await self.delivery.deliver(room.decode(), int(event_id), event_type.decode(), envelope)

    async def _on_subscribed(self) -> None:
        try:
            await self.presence.reassert()
        except (RedisError, OSError) as error:
            log.warning("presence not reasserted", error=str(error))
        for room in self.delivery.room_cursors():
            self.delivery.refill(room)

    # Sockets

    def connect(self, sid: str, user_id: str, roles: frozenset[str], expires_at: datetime, last_event_id: int | None) -> None:
        """Called from the connect handler: the socket's own room is replayed once the client is connected."""
        self.sessions[sid] = SocketSession(user_id, roles)
        self.delivery.add_socket(sid, self._sio.manager.eio_sid_from_sid(sid, "/"))
        self.renew(sid, expires_at)
        # Anything emitted before the connect handler returns would reach the client before its CONNECT
        # packet, and be dropped; the task runs after that packet is queued.
        self.spawn(self._resume_own_room(sid, user_room(user_id), last_event_id))

    async def _resume_own_room(self, sid: str, room: str, last_event_id: int | None) -> None:
        try:
            await self.join(sid, room, last_event_id, announce=True)
        except HubUnavailable as error:
            log.warning("socket refused: hub unavailable", error=str(error))
            await self._sio.disconnect(sid)

    async def join(self, sid: str, room: str, last_event_id: int | None, *, announce: bool = False) -> Resumed:
        """Follow a room: replay after `last_event_id` (if given and still kept), then live events, in order."""
        if room in self.delivery.sockets[sid].rooms:
            # Followed already: every event since the first join has been sent live, nothing is replayed again.
            sent = self.delivery.last_sent(sid, room)
            return Resumed(room, recovered=last_event_id is None or last_event_id >= sent, replayed=0, last_event_id=sent)
        self.delivery.join(sid, room)
        try:
            # Both go out batched with the other joins of this loop turn: a reconnect storm needs no queue here.
            await self.presence.hold(room)
            history = await self._bus.log.read_after(room, last_event_id)
        except (RedisError, OSError, ConnectionError) as error:
            self.leave(sid, room)
            raise HubUnavailable(str(error)) from error
        replay = history.events
        resumed = Resumed(room, history.complete, len(replay), max([history.latest_id, *(e.id for e in replay)]))
        notice = None
        if announce:
            body = {"room": room, "recovered": resumed.recovered, "replayed": resumed.replayed,
                    "last_event_id": resumed.last_event_id}  # fmt: skip
            notice = EventFrame(RECOVERY_EVENT, dumps(body))
        await self.delivery.finish_replay(sid, room, replay, history.latest_id, notice)
        return resumed

    def leave(self, sid: str, room: str) -> None:
        if self.delivery.leave(sid, room):
            self.presence.release(room)

    def disconnect(self, sid: str) -> None:
        session = self.sessions.pop(sid, None)
        if session is not None and session.expiry is not None:
            session.expiry.cancel()
        for room in self.delivery.remove_socket(sid):
            self.presence.release(room)

    def renew(self, sid: str, expires_at: datetime) -> None:
        """(Re)arm the disconnect at the access token's expiry."""
        session = self.sessions[sid]
        if session.expiry is not None:
            session.expiry.cancel()
        delay = max(0.0, (expires_at - datetime.now(UTC)).total_seconds())
        session.expiry = asyncio.get_running_loop().call_later(delay, self._on_expiry, sid)

    def _on_expiry(self, sid: str) -> None:
        self.spawn(self._expire(sid))

    async def _expire(self, sid: str) -> None:
        await self._sio.emit(EXPIRED_EVENT, {"code": "token_expired"}, to=sid)
        await self._sio.disconnect(sid)

    def local_sockets(self) -> int:
        return len(self.sessions)
