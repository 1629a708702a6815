"""Which rooms this node holds sockets in, told to Redis; the node's heartbeat, so a dead node's sockets go offline."""

import asyncio
import contextlib
import functools
from collections.abc import Awaitable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.logs import get_logger
from gateway.messaging.batching import BatchedScript
from gateway.messaging.keys import RealtimeKeys
from gateway.messaging.log import READS_PER_RUN
from gateway.realtime.opening import OPENING_LUA, WRITE_PRESENCE_LUA, Opening, OpeningRead, opening, opening_call
from gateway.realtime.subscriber import stop_requested
from gateway.settings import RealtimeSettings

log = get_logger("lango.realtime.presence")

# Liveness is judged on Redis's clock by the publish script, so the deadline is set on it too.
# KEYS: the live nodes (on a Redis Cluster, per call one partition's copy). ARGV: node id, TTL ms.
_HEARTBEAT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local results = {}
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now_ms + tonumber(ARGV[2]), ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now_ms - 86400000)
  results[i] = now_ms
end
return results
"""
# Each call: this node's count of sockets in one room (0: none left). A connect storm's rooms cost one script
# call per batch this way, where a pipeline of HSET and PEXPIRE cost the gateway ~20 us of redis-py per room.
# KEYS: per call the room's presence hash. ARGV: node id, TTL ms, then per call the count.
_SET_PRESENCE = (
    WRITE_PRESENCE_LUA
    + """
local results = {}
for i = 1, #KEYS do
  local count = tonumber(ARGV[2 + i])
  write_presence(KEYS[i], ARGV[1], count, ARGV[2])
  results[i] = count
end
return results
"""
)


class NodePresence:
    """Room presence writes go through one writer task, so they reach Redis in the order the rooms changed; so do
    sockets' openings, which write the room's presence and read after it in one call."""

    def __init__(self, redis: Redis, keys: RealtimeKeys, settings: RealtimeSettings, node_id: str) -> None:
        self._redis = redis
        self._keys = keys
        self._settings = settings
        self.node_id = node_id
        self._held: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._flushed: asyncio.Future[None] | None = None
        self._wake = asyncio.Event()
        self._ttl_ms = int(settings.presence_refresh_s * 3 * 1000)
        self._set_presence = BatchedScript(redis, _SET_PRESENCE, [], [node_id, self._ttl_ms])
        opening_args = [node_id, self._ttl_ms, settings.history_max_age_s * 1000]
        # A long replay holds Redis while it is read: as few openings to a call as history reads.
        self._open = BatchedScript(
            redis, OPENING_LUA, [keys.nodes], opening_args, max_calls_per_run=READS_PER_RUN,
            shared_at=(lambda tag: ([keys.nodes_at(tag)], opening_args)) if keys.cluster else None,
        )  # fmt: skip
        # room -> the openings waiting for the writer's next call on that room
        self._openings: dict[str, list[tuple[OpeningRead, asyncio.Future[Opening]]]] = {}
        beat_args = [node_id, int(settings.node_ttl_s * 1000)]
        self._heartbeat = redis.register_script(_HEARTBEAT)
        # On a Redis Cluster every partition's copy of the live nodes is renewed: a script call per partition, in one
        # write per shard.
        self._heartbeats = BatchedScript(redis, _HEARTBEAT, [], beat_args) if keys.cluster else None
        self._beat_args = beat_args

    def rooms(self) -> list[str]:
        return list(self._held)

    async def hold(self, room: str) -> None:
        """Count one more local socket in the room; returns once Redis knows this node holds it."""
        self._held[room] = self._held.get(room, 0) + 1
        if self._held[room] == 1 or room in self._dirty:
            self._mark(room)
            if self._flushed is None or self._flushed.done():
                self._flushed = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._flushed)

    async def open(self, room: str, read: OpeningRead) -> Opening:
        """Count one more local socket in the room and, in the writer's next call on the room, read what `read` asks
        after the room's presence is written: an event is either in the history read or published to this node."""
        self._held[room] = self._held.get(room, 0) + 1
        answer: asyncio.Future[Opening] = asyncio.get_running_loop().create_future()
        self._openings.setdefault(room, []).append((read, answer))
        self._mark(room)
        return await answer

    def release(self, room: str) -> None:
        """Count one socket less; the last one out clears the room's presence in the next write."""
        count = self._held.get(room, 0) - 1
        if count > 0:
            self._held[room] = count
            return
        self._held.pop(room, None)
        self._mark(room)

    def _mark(self, room: str) -> None:
        self._dirty.add(room)
        self._wake.set()

    async def write_loop(self) -> None:
        """Write dirty rooms in batches; a failed batch is retried after the next heartbeat."""
        while not stop_requested():
            await self._wake.wait()
            self._wake.clear()
            rooms, self._dirty = self._dirty, set()
            waiting, self._flushed = self._flushed, None
            try:
                await self._write(rooms)
            except (RedisError, OSError) as error:
                self._dirty |= rooms
                self._fail_openings(rooms, error)
                if waiting is not None and not waiting.done():
                    waiting.set_exception(ConnectionError(f"presence not written: {error}"))
                    waiting.exception()
                log.warning("presence write failed", rooms=len(rooms), error=str(error))
                await asyncio.sleep(self._settings.node_heartbeat_s)
                self._wake.set()
                continue
            if waiting is not None and not waiting.done():
                waiting.set_result(None)

    async def _write(self, rooms: set[str]) -> None:
        calls: list[Awaitable[Any]] = []
        for room in rooms:
            presence, count = self._keys.presence(room), self._held.get(room, 0)
            openings = self._openings.pop(room, None)
            if openings is None:
                calls.append(self._set_presence([presence], [count]))
                continue
            sequence, history = self._keys.sequence(room), self._keys.history(room)
            for read, answer in openings:
                reply = self._open(*opening_call(presence, sequence, history, count, read))
                reply.add_done_callback(functools.partial(_answer, answer))
                calls.append(reply)
        await _all(calls)

    def _fail_openings(self, rooms: set[str], error: Exception) -> None:
        """Openings not yet sent when a write failed: their sockets are refused, as Redis is out of reach."""
        for room in rooms:
            for _, answer in self._openings.pop(room, ()):
                if not answer.done():
                    answer.set_exception(ConnectionError(f"presence not written: {error}"))

    async def beat(self) -> None:
        """Alive until the TTL from now, in every partition's copy of the live nodes (one on a single Redis)."""
        if self._heartbeats is None:
            await self._heartbeat(keys=[self._keys.nodes], args=self._beat_args)
        else:
            await _all([self._heartbeats([self._keys.nodes_at(tag)], []) for tag in self._keys.partitions()])

    async def reassert(self) -> None:
        """Tell Redis again every room held here: after Redis lost its data, and so presence never outlives its TTL."""
        await self.beat()
        await self._write(set(self._held))

    async def heartbeat_loop(self) -> None:
        refreshed_at = asyncio.get_running_loop().time()
        while not stop_requested():
            await asyncio.sleep(self._settings.node_heartbeat_s)
            try:
                await self.beat()
                if asyncio.get_running_loop().time() - refreshed_at >= self._settings.presence_refresh_s:
                    await self._write(set(self._held))
                    refreshed_at = asyncio.get_running_loop().time()
            except (RedisError, OSError) as error:
                log.warning("heartbeat failed", node=self.node_id, error=str(error))

    async def goodbye(self) -> None:
        """Leave Redis as if this node had never been there; best effort, the TTLs cover a failure."""
        with contextlib.suppress(RedisError, OSError):
            async with self._redis.pipeline(transaction=False) as pipe:
                for tag in self._keys.partitions():
                    pipe.zrem(self._keys.nodes_at(tag), self.node_id)
                await pipe.execute()
            rooms = set(self._held) | self._dirty
            self._held.clear()
            await self._write(rooms)
        await self._set_presence.close()
        await self._open.close()
        if self._heartbeats is not None:
            await self._heartbeats.close()


def _answer(answer: "asyncio.Future[Opening]", reply: "asyncio.Future[Any]") -> None:
    """Hand an opening's reply to the socket waiting for it."""
    if answer.done():
        return
    error = ConnectionError("presence writer stopped") if reply.cancelled() else reply.exception()
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(opening(reply.result()))


async def _all(calls: list[Awaitable[Any]]) -> None:
    """Wait for every batched call; the first failure is raised once all are settled, none left unread."""
    for outcome in await asyncio.gather(*calls, return_exceptions=True):
        if isinstance(outcome, BaseException):
            raise outcome
