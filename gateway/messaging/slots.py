"""Script calls sent to the Redis Cluster nodes that own their slots, pipelined on one connection per node."""

import asyncio
from typing import Any

import hiredis
from redis.asyncio import RedisCluster
from redis.commands.core import AsyncScript
from redis.crc import key_slot
from redis.exceptions import (
    AskError,
    ClusterDownError,
    NoScriptError,
    RedisClusterException,
    RedisError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.logs import get_logger
from gateway.messaging.pipelined import PipelinedConnection

log = get_logger("lango.redis.cluster")

# Replies meaning the node did not run the command (its slot is elsewhere now, or the cluster is failing over):
# safe to send again once the slot map is read again. MovedError is an AskError.
_NOT_RUN = (AskError, ClusterDownError, TryAgainError)


class SlotRouter:
    """Sends each EVALSHA to the primary that owns its first key's slot; a node's commands go in one write.

    A command a node answered with MOVED, ASK, TRYAGAIN or CLUSTERDOWN did not run: the slot map is read again and
    the command sent once more. A command lost with its connection is never sent again (it may have run); the
    slot map is read again for the next batch, so a replica promoted in a failover takes the writes."""

    def __init__(self, redis: RedisCluster) -> None:
        self._redis = redis
        self._connections: dict[str, PipelinedConnection] = {}
        self._refreshing = asyncio.Lock()

    async def execute(self, script: AsyncScript, commands: list[tuple[Any, ...]]) -> list[Any]:
        """Each command's reply in order, an error reply or a lost connection as its exception."""
        try:
            await self._redis.initialize()
        except RedisClusterException as error:
            # No node answered: redis-py says so outside its RedisError family, which callers handle.
            raise RedisConnectionError(str(error)) from error
        replies = await self._send(commands)
        if any(isinstance(reply, (*_NOT_RUN, RedisConnectionError, RedisTimeoutError, OSError)) for reply in replies):
            await self._refresh()
        moved = [index for index, reply in enumerate(replies) if isinstance(reply, _NOT_RUN)]
        for index, reply in zip(moved, await self._send([commands[i] for i in moved]), strict=True):
            replies[index] = reply
        unknown = [index for index, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if unknown:
            # That node lost its script cache (a restart, a replica promoted): it is loaded in the same write.
            again = await self._send([commands[i] for i in unknown], preload=script.script)
            for index, reply in zip(unknown, again, strict=True):
                replies[index] = reply
        return replies

    async def _send(self, commands: list[tuple[Any, ...]], preload: str | bytes | None = None) -> list[Any]:
        by_node: dict[str, list[int]] = {}
        nodes = {}
        unserved: dict[int, Exception] = {}
        for index, command in enumerate(commands):
            try:
                node = self._redis.nodes_manager.get_node_from_slot(key_slot(command[3].encode()))
            except SlotNotCoveredError as error:
                # No primary serves the slot for now (a failover under way): not sent, so safe to send again.
                unserved[index] = ClusterDownError(str(error))
                continue
            nodes[node.name] = node
            by_node.setdefault(node.name, []).append(index)
        replies: list[Any] = [unserved.get(index) for index in range(len(commands))]

        async def send_to(name: str, indexes: list[int]) -> None:
            connection = self._connections.get(name)
            if connection is None:
                connection = self._connections[name] = PipelinedConnection(nodes[name])
            packed = [hiredis.pack_command(commands[index]) for index in indexes]
            if preload is not None:
                packed.insert(0, hiredis.pack_command(("SCRIPT", "LOAD", preload)))
            try:
                answered = await connection.execute(b"".join(packed), len(packed))
            except (RedisError, OSError) as error:
                answered = [error] * len(packed)
            for index, reply in zip(indexes, answered[len(packed) - len(indexes) :], strict=True):
                replies[index] = reply

        await asyncio.gather(*(send_to(name, indexes) for name, indexes in by_node.items()))
        return replies

    async def _refresh(self) -> None:
        """Read the slot map again; connections to nodes no longer primaries are closed."""
        async with self._refreshing:
            try:
                await self._redis.nodes_manager.initialize()
            except (RedisError, RedisClusterException, OSError) as error:
                log.warning("cluster slot map not read", error=str(error))
                return
            primaries = {node.name for node in self._redis.nodes_manager.get_nodes_by_server_type("primary")}
            for name in [name for name in self._connections if name not in primaries]:
                await self._connections.pop(name).close()

    async def close(self) -> None:
        for connection in self._connections.values():
            await connection.close()
        self._connections.clear()
