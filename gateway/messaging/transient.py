"""Signals not worth keeping (a typing indicator): sent to the nodes holding a user room now, never stored, no id."""

from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from gateway.jsoncodec import dumps
from gateway.messaging.keys import RealtimeKeys
from gateway.messaging.targets import checked_message_type, checked_target
from gateway.redis_client import publishing_script

# A control line on the nodes' channels: the prefix, the room, the type, then the envelope. It starts with "~",
# which no room name does, so a node tells it from the event lines it reads there (as it does revocations).
TRANSIENT = b"~transient"

# KEYS: the live nodes, the room's presence. ARGV: the node channel prefix, the message. Answers the nodes reached.
# On a Redis Cluster the live nodes and the channels are the room's partition's copies (as for events), so the call
# touches one slot and goes out by sharded pub/sub.
_TELL_HOLDERS = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local reached = 0
for _, node in ipairs(redis.call('HKEYS', KEYS[2])) do
  local until_ms = redis.call('ZSCORE', KEYS[1], node)
  if until_ms and tonumber(until_ms) > now_ms then
    redis.call('$PUBLISH', ARGV[1] .. node, ARGV[2])
    reached = reached + 1
  end
end
return reached
"""


class TransientSignals:
    """One per process, beside the message bus: whoever is connected now hears it, nobody later."""

    def __init__(self, redis: Redis, keys: RealtimeKeys) -> None:
        self._keys = keys
        self._tell = redis.register_script(publishing_script(_TELL_HOLDERS, keys.cluster))

    async def signal(self, target: str, event_type: str, data: dict[str, Any]) -> int:
        """Deliver to the sockets following `target` on every node; answers how many nodes hold it."""
        checked_target(target)
        checked_message_type(event_type)
        envelope = dumps({"room": target, "type": event_type, "ts": datetime.now(UTC), "data": data})
        message = b" ".join([TRANSIENT, target.encode(), event_type.encode(), envelope])
        tag = self._keys.partition(target)
        keys = [self._keys.nodes_at(tag), self._keys.presence(target)]
        return int(await self._tell(keys=keys, args=[self._keys.node_channel_prefix_at(tag), message]))


def parse_transient(raw: bytes) -> tuple[str, str, bytes]:
    """The room, type and envelope of a transient control line."""
    _, room, event_type, envelope = raw.split(b" ", 3)
    return room.decode(), event_type.decode(), envelope
