"""Runs of one Lua script started in the same loop turn share a single pipelined round trip to Redis."""

import asyncio
import math
from typing import Any

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError

Call = tuple[list[str], list[Any], "asyncio.Future[Any]"]


class BatchedScript:
    """Like `Redis.register_script`, but concurrent callers are pipelined together, as node-redis does by itself.

    A worker publishing a burst (or a busy node's flows) pays one round trip and one connection checkout per
    batch instead of per event; a lone caller waits no longer than one turn of the loop. A batch is never
    retried after a connection error: a script that did run would run twice."""

    def __init__(self, redis: Redis, source: str) -> None:
        self._redis = redis
        self._script = redis.register_script(source)
        self._pending: list[Call] = []
        self._flushes: set[asyncio.Task[None]] = set()

    async def __call__(self, keys: list[str], args: list[Any]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((keys, args, future))
        if len(self._pending) == 1:
            # A task of its own, so a cancelled caller never strands the others of its batch.
            flush = asyncio.create_task(self._flush())
            self._flushes.add(flush)
            flush.add_done_callback(self._flushes.discard)
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # the callers of this turn join the batch
        batch, self._pending = self._pending, []
        try:
            results = await self._run(batch)
        except BaseException as error:
            # Cancelled (the process stopping) reaches the callers as Redis unavailable, which flows handle.
            failure = error if isinstance(error, Exception) else RedisConnectionError("publishing stopped")
            for *_, future in batch:
                if not future.done():
                    future.set_exception(failure)
            raise
        for (*_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _run(self, batch: list[Call]) -> list[Any]:
        results = await self._pipelined(batch)
        unknown = [index for index, result in enumerate(results) if isinstance(result, NoScriptError)]
        if unknown:
            # Redis lost its script cache (a restart, a failover): load it and run those calls again.
            self._script.sha = await self._redis.script_load(self._script.script)
            for index, result in zip(unknown, await self._pipelined([batch[i] for i in unknown]), strict=True):
                results[index] = result
        return results

    async def _pipelined(self, batch: list[Call]) -> list[Any]:
        # redis-py's Pipeline arms a timeout per reply (a fifth of a publishing worker's time); one covers the batch.
        pool = self._redis.connection_pool
        connection = await pool.get_connection()
        try:
            sha = self._script.sha
            packed = b"".join(hiredis.pack_command(("EVALSHA", sha, len(keys), *keys, *args)) for keys, args, _ in batch)
            await connection.send_packed_command(packed)
            async with asyncio.timeout(connection.socket_timeout):
                return [await _reply(connection) for _ in batch]
        except BaseException:
            await connection.disconnect(nowait=True)
            raise
        finally:
            await pool.release(connection)


async def _reply(connection: AbstractConnection) -> Any:
    """One reply of the batch; an error reply is answered to its own caller and the batch reads on."""
    try:
        return await connection.read_response(timeout=math.inf)
    except ResponseError as error:
        return error
