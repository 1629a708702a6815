"""What Redis says about a socket that asks to connect: whether its session was revoked, and how many sockets its
user holds on the other live nodes."""

import asyncio
from dataclasses import dataclass

from redis.asyncio import Redis

from gateway.messaging.batching import BatchedScript
from gateway.messaging.keys import RealtimeKeys
from gateway.security.revocations import revoked_session_key
from gateway.settings import RedisSettings

# Counts the sockets a user room's presence hash holds on the other live nodes (a dead node's count is left for the
# append script to clear). KEYS[1] is the live nodes.
_SOCKETS_ELSEWHERE = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local nodes, here = KEYS[1], ARGV[1]
local function sockets_elsewhere(presence)
  local elsewhere = 0
  local counts = redis.call('HGETALL', presence)
  for j = 1, #counts, 2 do
    if counts[j] ~= here then
      local until_ms = redis.call('ZSCORE', nodes, counts[j])
      if until_ms and tonumber(until_ms) > now_ms then
        elsewhere = elsewhere + tonumber(counts[j + 1])
      end
    end
  end
  return elsewhere
end
"""
# Each call: 1 if the session's revocation mark exists, then the sockets on the other live nodes. The checks of a
# connect storm share one script call per batch, like the room presence writes that follow them.
# KEYS: the live nodes, then per call the session's mark and the user room's presence hash ('' for no count).
# ARGV: this node's id.
_CHECK = (
    _SOCKETS_ELSEWHERE
    + """
local results = {}
for i = 2, #KEYS, 2 do
  results[#results + 1] = redis.call('EXISTS', KEYS[i])
  results[#results + 1] = KEYS[i + 1] ~= '' and sockets_elsewhere(KEYS[i + 1]) or 0
end
return results
"""
)
# On a Redis Cluster a session's mark and its user's room are in different partitions: two scripts, each per slot.
# KEYS: the partition's live nodes, then per call a user room's presence hash. ARGV: this node's id.
_CHECK_ELSEWHERE = (
    _SOCKETS_ELSEWHERE
    + """
local results = {}
for i = 2, #KEYS do
  results[i - 1] = sockets_elsewhere(KEYS[i])
end
return results
"""
)
# KEYS: per call a session's revocation mark.
_CHECK_MARKS = """
local results = {}
for i = 1, #KEYS do
  results[i] = redis.call('EXISTS', KEYS[i])
end
return results
"""


@dataclass(frozen=True)
class Standing:
    revoked: bool
    sockets_elsewhere: int


class SessionChecks:
    def __init__(self, redis: Redis, settings: RedisSettings, keys: RealtimeKeys, node_id: str) -> None:
        self._settings = settings
        self._keys = keys
        if keys.cluster:
            self._scripts = [
                BatchedScript(redis, _CHECK_MARKS, [], []),
                BatchedScript(redis, _CHECK_ELSEWHERE, [], [node_id], shared_at=lambda tag: ([keys.nodes_at(tag)], [node_id])),
            ]  # fmt: skip
        else:
            self._scripts = [BatchedScript(redis, _CHECK, [keys.nodes], [node_id], values_per_call=2)]

    async def standing(self, session_id: str, user_room: str) -> Standing:
        mark, presence = revoked_session_key(self._settings, session_id), self._keys.presence(user_room)
        if self._keys.cluster:
            marks, elsewhere_by_node = self._scripts
            revoked, elsewhere = await asyncio.gather(marks([mark], []), elsewhere_by_node([presence], []))
        else:
            revoked, elsewhere = await self._scripts[0]([mark, presence], [])
        return Standing(bool(revoked), int(elsewhere))

    async def revoked(self, session_id: str) -> bool:
        mark = revoked_session_key(self._settings, session_id)
        if self._keys.cluster:
            return bool(await self._scripts[0]([mark], []))
        revoked, _ = await self._scripts[0]([mark, ""], [])
        return bool(revoked)

    async def close(self) -> None:
        for script in self._scripts:
            await script.close()
