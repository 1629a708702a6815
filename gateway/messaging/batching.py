"""Calls of one Lua script made in the same loop turn run in Redis as one script call, in one round trip."""

import asyncio
from collections.abc import Callable
from typing import Any

import hiredis
from redis.asyncio import Redis, RedisCluster
from redis.crc import key_slot
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError

from gateway.messaging.pipelined import PipelinedConnection
from gateway.messaging.slots import SlotRouter
from gateway.redis_client import tag_of

Call = tuple[list[str], list[Any], "asyncio.Future[Any]"]
# One script call blocks Redis while it runs: at ~10 us a call, 128 of them hold it for about a millisecond.
DEFAULT_MAX_CALLS_PER_RUN = 128


class BatchedScript:
    """Concurrent callers of a Lua script share one EVALSHA, as node-redis pipelines by itself, only cheaper.

    The script receives `shared_keys` then each call's keys laid end to end (likewise `shared_args` and each
    call's arguments), and answers each call's result, in order: one value per call, or with `values_per_call`
    that many values per call laid end to end, an error in the first place of its call's values. An error
    result reaches only its caller.
    A worker publishing a burst (or a busy node's flows) pays one write, one read and one script start per
    batch instead of per event, on a connection of its own; a lone caller waits no longer than one turn of the
    loop. A batch is never retried after a connection error: a script that did run would run twice."""

    def __init__(
        self,
        redis: Redis,
        source: str,
        shared_keys: list[str],
        shared_args: list[Any],
        *,
        max_calls_per_run: int = DEFAULT_MAX_CALLS_PER_RUN,
        values_per_call: int = 1,
        shared_at: "Callable[[str], tuple[list[str], list[Any]]] | None" = None,
    ) -> None:
        self._redis = redis
        self._max_calls_per_run = max_calls_per_run
        self._values_per_call = values_per_call
        self._script = redis.register_script(source)
        self._shared_keys = shared_keys
        self._shared_args = shared_args
        # On a Redis Cluster: the shared keys and arguments of a partition, from its tag (gateway/redis_client.py).
        self._shared_at = shared_at
        self._slots = SlotRouter(redis) if isinstance(redis, RedisCluster) else None
        self._connection = PipelinedConnection(redis) if self._slots is None else None
        self._pending: list[Call] = []
        self._flushes: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
        if self._slots is not None:
            await self._slots.close()

    def __call__(self, keys: list[str], args: list[Any]) -> "asyncio.Future[Any]":
        """Join this loop turn's batch; the future answers this call's own result (or error)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((keys, args, future))
        if len(self._pending) == 1:
            # A task of its own, so a cancelled caller never strands the others of its batch.
            flush = asyncio.create_task(self._flush())
            self._flushes.add(flush)
            flush.add_done_callback(self._flushes.discard)
        return future

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
        size = self._max_calls_per_run
        if self._slots is None:
            runs = [batch[start : start + size] for start in range(0, len(batch), size)]
            replies = await self._pipelined(runs)
        else:
            # One script call may only touch keys of one slot: the batch is split per slot, then sent per node.
            by_slot: dict[int, list[Call]] = {}
            for call in batch:
                by_slot.setdefault(key_slot(call[0][0].encode()), []).append(call)
            runs = [calls[start : start + size] for calls in by_slot.values() for start in range(0, len(calls), size)]
            replies = await self._slots.execute(self._script, [self._command(run) for run in runs])
        results: list[Any] = []
        width = self._values_per_call
        for run, reply in zip(runs, replies, strict=True):
            if isinstance(reply, Exception):
                # The script failed outside its per-call guard: that is every caller's error.
                results.extend([reply] * len(run))
            elif width == 1:
                results.extend(reply)
            else:
                results.extend(_call_result(reply[start : start + width]) for start in range(0, len(reply), width))
        if self._slots is not None:
            # Back in the callers' order: the runs grouped them by slot.
            order = {id(call): index for index, call in enumerate(call for run in runs for call in run)}
            results = [results[order[id(call)]] for call in batch]
        return results

    async def _pipelined(self, runs: list[list[Call]]) -> list[Any]:
        assert self._connection is not None
        replies = await self._connection.execute(
            b"".join(hiredis.pack_command(self._command(run)) for run in runs), len(runs)
        )
        unknown = [index for index, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if unknown:
            # Redis lost its script cache (a restart, a failover): load it and run those calls again.
            self._script.sha = await self._redis.script_load(self._script.script)
            again = b"".join(hiredis.pack_command(self._command(runs[index])) for index in unknown)
            for index, reply in zip(unknown, await self._connection.execute(again, len(unknown)), strict=True):
                replies[index] = reply
        return replies

    def _command(self, run: list[Call]) -> tuple[Any, ...]:
        shared_keys, shared_args = self._shared_keys, self._shared_args
        if self._shared_at is not None:
            shared_keys, shared_args = self._shared_at(tag_of(run[0][0][0]))
        keys = [*shared_keys, *(key for call_keys, _, _ in run for key in call_keys)]
        args = [*shared_args, *(arg for _, call_args, _ in run for arg in call_args)]
        return ("EVALSHA", self._script.sha, len(keys), *keys, *args)


def _call_result(values: list[Any]) -> Any:
    """One call's values, or its error."""
    return values[0] if isinstance(values[0], Exception) else values
