"""The realtime hub of one gateway node: sockets in, events out, presence and recovery in between."""

import asyncio
import contextlib
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import socketio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.jsoncodec import dumps
from gateway.logs import get_logger
from gateway.messaging.bus import MessageBus
from gateway.messaging.log import NODE_MESSAGE_SEPARATOR, HistorySlice
from gateway.messaging.targets import BROADCAST, user_room
from gateway.messaging.transient import TRANSIENT, parse_transient
from gateway.metrics import SOCKETS_CONNECTED
from gateway.realtime.admission import SessionChecks
from gateway.realtime.deadlines import Deadlines
from gateway.realtime.delivery import EventFrame, LocalDelivery
from gateway.realtime.heap import settle_heap_loop
from gateway.realtime.opening import Opening, OpeningRead
from gateway.realtime.presence import NodePresence
from gateway.realtime.subscriber import NodeSubscriber
from gateway.realtime.websocket_connection import WebSocketConnection
from gateway.security.revocations import REVOKED_SESSIONS
from gateway.security.tokens import AccessClaims
from gateway.settings import Settings

log = get_logger("lango.realtime.hub")

RECOVERY_EVENT = "session.recovery"
_BROADCAST = BROADCAST.encode()
EXPIRED_EVENT = "auth.expired"
REVOKED_EVENT = "auth.revoked"
REFUSED_EVENT = "connect.refused"
SESSION_REVOKED = "this session has been signed out: sign in again"
UNAVAILABLE = "the realtime service is briefly unavailable; retry"
# How long a node remembers a revocation it heard of: a connect whose check in Redis ran just before the revocation
# was marked, but whose answer arrived after the node heard of it, is refused by this memory instead.
_REVOCATION_REMEMBERED_S = 60.0


class HubUnavailable(Exception):
    """Redis did not answer while a socket was joining a room."""


class SocketRefused(Exception):
    """A socket that may not connect, or a request its session may not make; `code` is stable for clients."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Resumed:
    room: str
    recovered: bool
    replayed: int
    last_event_id: int


class SocketSession:
    __slots__ = ("user_id", "roles", "session_id")

    def __init__(self, claims: AccessClaims) -> None:
        self.user_id = claims.user_id
        self.roles = claims.roles
        # The device session the access token belongs to: revoking it closes the socket.
        self.session_id = claims.session_id


class RealtimeHub:
    def __init__(self, sio: socketio.AsyncServer, redis: Redis, bus: MessageBus, settings: Settings) -> None:
        self.node_id = uuid.uuid4().hex[:12]
        self._sio = sio
        self._bus = bus
        self._settings = settings.realtime
        self.presence = NodePresence(redis, bus.keys, settings.realtime, self.node_id)
        self.checks = SessionChecks(redis, settings.redis)
        self.delivery = LocalDelivery(sio.eio, bus.log)
        self.subscriber = NodeSubscriber(
            redis, bus.keys, settings.realtime, self.node_id, self._on_message, self._on_subscribed
        )
        self.sessions: dict[str, SocketSession] = {}
        # The disconnect due at each socket's access-token expiry.
        self._expiries = Deadlines(self._on_expiry)
        # A list, not a set: a session rarely has more than one socket, and a list of one is a third of the memory.
        self._sockets_of_session: dict[str, list[str]] = {}
        self._sockets_of_user: dict[str, int] = {}
        # session id -> when this node stops remembering its revocation (monotonic), oldest first
        self._revoked_here: dict[str, float] = {}
        # Sockets connected whose opening has not judged them yet: their requests wait for the answer (admitted?).
        self._admissions: dict[str, asyncio.Future[bool]] = {}
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
        await self.checks.close()
        await self.presence.goodbye()

    async def ready(self) -> None:
        """The readiness check: raises when this node has stopped hearing from Redis."""
        self.subscriber.check()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_message(self, raw: bytes) -> None:
        """One publish of the event log to this node: a line per event, in order; or a control line."""
        if raw.startswith(REVOKED_SESSIONS):
            self._close_sessions([session_id.decode() for session_id in raw.split(b" ")[1:]])
            return
        if raw.startswith(TRANSIENT):
            await self.delivery.send_transient(*parse_transient(raw))
            return
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
        if self._sockets_of_session:
            # Revocations published while this node was not listening were not heard: ask about every session here.
            self.spawn(self._close_revoked_sessions())

    # Sockets

    def admit(self, sid: str, claims: AccessClaims, last_event_id: int | None) -> None:
        """Let the socket connect unless this node knows already that it may not (its session heard revoked, its user
        at the cap here); the rest is for its opening to judge, once the CONNECT is answered.

        The opening is one Redis call (presence, the session's revocation mark, the user's sockets on other nodes,
        the room's history). Until it answers, the socket's requests wait and nothing is sent to it; a socket it
        refuses is told why (`connect.refused`) and closed. Answering first spares the phone that call's wait, which
        in a reconnect storm is a wait for a loop busy with the next wave's handshakes."""
        refusal = self._refusal(claims)
        if refusal is not None:
            raise refusal
        self._admissions[sid] = asyncio.get_running_loop().create_future()
        # A task runs after the connect handler returns, so after the CONNECT answer is written.
        self.spawn(self._open_socket(sid, claims, last_event_id))

    async def admitted(self, sid: str) -> bool:
        """Whether the socket is connected here, once its opening has judged it."""
        admission = self._admissions.get(sid)
        if admission is None:
            return sid in self.sessions
        # Shielded: a request given up on must not cancel the admission the socket's other requests wait for.
        return await asyncio.shield(admission)

    def _refusal(self, claims: AccessClaims, sockets_elsewhere: int = 0, marked: bool = False) -> SocketRefused | None:
        """Why the socket may not connect, from what this node knows, with what its opening read when it has."""
        if marked or self._heard_revoked(claims.session_id):
            return SocketRefused("session_revoked", SESSION_REVOKED)
        cap = self._settings.max_sockets_per_user
        if self._sockets_of_user.get(claims.user_id, 0) + sockets_elsewhere >= cap:
            return SocketRefused("too_many_sockets", f"an account may hold {cap} sockets at once: close another first")
        return None

    async def _open_socket(self, sid: str, claims: AccessClaims, last_event_id: int | None) -> None:
        admission = self._admissions.get(sid)
        if admission is None:
            return  # gone before its opening began
        room = user_room(claims.user_id)
        self.delivery.add_socket(sid, self._sio.manager.eio_sid_from_sid(sid, "/"))
        # Live events of the room are held back from here until the replay; every other frame until the admission.
        self.delivery.join(sid, room)
        held = self.delivery.hold_writes(sid)
        try:
            opened, revoked = await self._open(room, claims.session_id, last_event_id)
        except (RedisError, OSError, ConnectionError) as error:
            log.warning("socket opening failed", error=str(error))
            await self._refuse_opened(sid, admission, held, SocketRefused("unavailable", UNAVAILABLE))
            return
        # No await from here to the socket's registration: a revocation heard meanwhile is remembered, and one heard
        # afterwards finds the socket.
        refusal = self._refusal(claims, opened.sockets_elsewhere, marked=revoked)
        if refusal is not None:
            await self._refuse_opened(sid, admission, held, refusal)
            return
        if self._admissions.get(sid) is not admission:
            return  # disconnected meanwhile: its rooms were let go then
        self.sessions[sid] = session = SocketSession(claims)
        SOCKETS_CONNECTED.inc()
        self._index_socket(sid, session)
        self._arm_expiry(sid, claims.expires_at)
        try:
            notice = _recovery_notice(_resumed(room, opened.history))
            await self.delivery.finish_replay(sid, room, opened.history.events, opened.history.latest_id, notice)
        finally:
            if held is not None:
                held.release_writes()
            # Admitted after the replay: a request the socket sent meanwhile is answered after its room's replay.
            if self._admissions.get(sid) is admission:
                del self._admissions[sid]
                admission.set_result(True)

    async def _refuse_opened(
        self, sid: str, admission: "asyncio.Future[bool]", held: WebSocketConnection | None, refusal: SocketRefused
    ) -> None:
        """Tell a socket its opening refused it, and close it: it is sent nothing else. Its requests waiting meanwhile
        are let go as it disconnects (`disconnect`), after the close, so none is answered."""
        if self._admissions.get(sid) is not admission:
            return  # disconnected meanwhile: its rooms were let go then
        if held is not None:
            held.drop_held_writes()
        await self._end(sid, REFUSED_EVENT, {"code": refusal.code, "message": refusal.message})

    async def _open(self, room: str, session_id: str, last_event_id: int | None) -> tuple[Opening, bool]:
        """The room opened for one more socket, and whether the session was revoked: on one Redis in the same call,
        on a Redis Cluster (where the session's mark is in another slot) asked beside it."""
        if not self._bus.keys.cluster:
            opened = await self.presence.open(room, OpeningRead(self.checks.mark(session_id), last_event_id))
            return opened, opened.revoked
        return await asyncio.gather(self.presence.open(room, OpeningRead(None, last_event_id)), self.checks.revoked(session_id))

    async def join(self, sid: str, room: str, last_event_id: int | None) -> Resumed:
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
        resumed = _resumed(room, history)
        await self.delivery.finish_replay(sid, room, history.events, history.latest_id)
        return resumed

    def leave(self, sid: str, room: str) -> None:
        if self.delivery.leave(sid, room):
            self.presence.release(room)

    def disconnect(self, sid: str) -> None:
        admission = self._admissions.pop(sid, None)
        if admission is not None and not admission.done():
            admission.set_result(False)
        session = self.sessions.pop(sid, None)
        if session is not None:
            SOCKETS_CONNECTED.dec()
            self._expiries.cancel(sid)
            self._forget_socket(sid, session)
        for room in self.delivery.remove_socket(sid):
            self.presence.release(room)

    def _index_socket(self, sid: str, session: SocketSession) -> None:
        self._sockets_of_session.setdefault(session.session_id, []).append(sid)
        self._sockets_of_user[session.user_id] = self._sockets_of_user.get(session.user_id, 0) + 1

    def _forget_socket(self, sid: str, session: SocketSession) -> None:
        sockets = self._sockets_of_session.get(session.session_id)
        if sockets is not None and sid in sockets:
            sockets.remove(sid)
            if not sockets:
                del self._sockets_of_session[session.session_id]
        remaining = self._sockets_of_user.get(session.user_id, 0) - 1
        if remaining > 0:
            self._sockets_of_user[session.user_id] = remaining
        else:
            self._sockets_of_user.pop(session.user_id, None)

    async def renew(self, sid: str, claims: AccessClaims) -> None:
        """Adopt a fresh access token of the socket's user: its expiry, its roles, and its session (a new sign-in)."""
        session = self.sessions.get(sid)
        if session is None:
            raise SocketRefused("not_connected", "the socket is not connected")
        if session.user_id != claims.user_id:
            raise SocketRefused("invalid_token", "the new token belongs to another user")
        try:
            revoked = await self.checks.revoked(claims.session_id)
        except (RedisError, OSError, ConnectionError) as error:
            raise HubUnavailable(str(error)) from error
        if self.sessions.get(sid) is not session:
            raise SocketRefused("not_connected", "the socket is not connected")
        if revoked or self._heard_revoked(claims.session_id):
            raise SocketRefused("session_revoked", SESSION_REVOKED)
        self._forget_socket(sid, session)
        session.roles, session.session_id = claims.roles, claims.session_id
        self._index_socket(sid, session)
        self._arm_expiry(sid, claims.expires_at)

    def _arm_expiry(self, sid: str, expires_at: datetime) -> None:
        """(Re)arm the disconnect at the access token's expiry."""
        self._expiries.arm(sid, (expires_at - datetime.now(UTC)).total_seconds())

    def _on_expiry(self, sid: str) -> None:
        self.spawn(self._end(sid, EXPIRED_EVENT, {"code": "token_expired"}))

    async def _end(self, sid: str, event: str, reason: dict[str, str]) -> None:
        """Tell the client why, then close its socket and its transport: a client that ignores the Socket.IO
        disconnect cannot keep the connection."""
        eio_sid = self._sio.manager.eio_sid_from_sid(sid, "/")
        await self._sio.emit(event, reason, to=sid)
        await self._sio.disconnect(sid)
        if eio_sid is not None:
            await self._sio.eio.disconnect(eio_sid)

    # Revocations

    def _close_sessions(self, session_ids: list[str]) -> None:
        """Every node hears of each revoked session; the ones holding its sockets close them."""
        now = time.monotonic()
        for session_id in session_ids:
            self._revoked_here.pop(session_id, None)
            self._revoked_here[session_id] = now + _REVOCATION_REMEMBERED_S
            for sid in list(self._sockets_of_session.get(session_id, ())):
                self.spawn(self._end(sid, REVOKED_EVENT, {"code": "session_revoked"}))
        while self._revoked_here:
            oldest, until = next(iter(self._revoked_here.items()))
            if until > now:
                break
            del self._revoked_here[oldest]

    def _heard_revoked(self, session_id: str) -> bool:
        until = self._revoked_here.get(session_id)
        return until is not None and until > time.monotonic()

    async def _close_revoked_sessions(self) -> None:
        session_ids = list(self._sockets_of_session)
        try:
            # Asked in one loop turn, so the checks share a few script calls.
            answers = await asyncio.gather(*(self.checks.revoked(session_id) for session_id in session_ids))
        except (RedisError, OSError, ConnectionError) as error:
            log.warning("revocations not checked after resubscribing", error=str(error))
            return
        self._close_sessions([session_id for session_id, revoked in zip(session_ids, answers, strict=True) if revoked])

    def local_sockets(self) -> int:
        return len(self.sessions)


def _resumed(room: str, history: HistorySlice) -> Resumed:
    return Resumed(room, history.complete, len(history.events), max([history.latest_id, *(e.id for e in history.events)]))


def _recovery_notice(resumed: Resumed) -> EventFrame:
    """The event telling a socket how its own room resumed: whether nothing was missed, and how much was replayed."""
    body = {"room": resumed.room, "recovered": resumed.recovered, "replayed": resumed.replayed,
            "last_event_id": resumed.last_event_id}  # fmt: skip
    return EventFrame(RECOVERY_EVENT, dumps(body))
