"""One Redis connection that pipelines: each call's commands are written at once, one reader answers them in order."""

import asyncio
from collections import deque
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError


class _Awaited:
    __slots__ = ("expected", "replies", "future")

    def __init__(self, expected: int, future: "asyncio.Future[list[Any]]") -> None:
        self.expected = expected
        self.replies: list[Any] = []
        self.future = future


class _Line:
    """A connection and the calls written on it still waiting for their replies, oldest first."""

    def __init__(self, connection: AbstractConnection) -> None:
        self.connection = connection
        self.awaited: deque[_Awaited] = deque()
        self.reader: asyncio.Task[None] | None = None


class PipelinedConnection:
    """A pool connection is checked out, health-checked and, under the client's socket timeout, written through a
    task of its own, for every call: 130 us of CPU per round trip on the 2-core machine of docs/performance.md,
    against 80 us on a connection held open. Here one connection stays open, calls are written without waiting
    for earlier replies, and a closed connection is noticed by its reader at once, so the next call opens a new
    one. A timeout covers each call's replies, not its write."""

    def __init__(self, redis: Redis | ClusterNode) -> None:
        # A client's pool, or one node of a Redis Cluster: both hold the options and class of their connections.
        source = redis.connection_pool if isinstance(redis, Redis) else redis
        self._timeout: float | None = source.connection_kwargs.get("socket_timeout")
        self._options = {**source.connection_kwargs, "socket_timeout": None}
        self._connection_class = source.connection_class
        self._line: _Line | None = None
        self._opening = asyncio.Lock()

    async def execute(self, packed: bytes, replies: int) -> list[Any]:
        """Write `packed`, which holds `replies` commands, and answer their replies in order; an error reply is
        answered as its ResponseError, not raised. A connection error or timeout fails every call in flight."""
        line = self._line or await self._open()
        if not line.connection.is_connected:
            # Lost a moment ago, and its reader has yet to say so: writing would silently open a connection
            # that no reader watches.
            raise RedisConnectionError("the Redis connection was lost")
        awaited = _Awaited(replies, asyncio.get_running_loop().create_future())
        line.awaited.append(awaited)
        try:
            # Connected and unchecked, the write happens before the first await: calls reach the wire in
            # the order of `awaited`, which is the order the reader hands replies out.
            await line.connection.send_packed_command(packed, check_health=False)
            async with asyncio.timeout(self._timeout):
                return await asyncio.shield(awaited.future)
        except TimeoutError:
            error = RedisTimeoutError(f"no reply from Redis within {self._timeout}s")
            await self._drop(line, error)
            raise error from None
        except (RedisError, OSError) as error:
            await self._drop(line, error)
            raise

    async def close(self) -> None:
        line = self._line
        if line is not None:
            await self._drop(line, RedisConnectionError("the connection was closed"))

    async def _open(self) -> _Line:
        async with self._opening:
            if self._line is None:
                connection = self._connection_class(**self._options)
                await connection.connect()
                line = _Line(connection)
                line.reader = asyncio.create_task(self._read(line), name="redis-pipeline-reader")
                self._line = line
            return self._line

    async def _read(self, line: _Line) -> None:
        try:
            while True:
                try:
                    reply = await line.connection.read_response()
                except ResponseError as error:
                    reply = error
                if not line.awaited:
                    raise RedisConnectionError("Redis answered a command that was not sent")
                awaited = line.awaited[0]
                awaited.replies.append(reply)
                if len(awaited.replies) == awaited.expected:
                    line.awaited.popleft()
                    if not awaited.future.done():
                        awaited.future.set_result(awaited.replies)
        except (RedisError, OSError) as error:
            await self._drop(line, error)

    async def _drop(self, line: _Line, error: Exception) -> None:
        """Fail every call in flight on the line and close it; the next call opens a new connection."""
        if self._line is line:
            self._line = None
        while line.awaited:
            future = line.awaited.popleft().future
            if not future.done():
                future.set_exception(error)
                future.exception()  # a caller that was cancelled meanwhile leaves it unread; nothing to report
        if line.reader is not None and line.reader is not asyncio.current_task():
            line.reader.cancel()
        await line.connection.disconnect(nowait=True)
