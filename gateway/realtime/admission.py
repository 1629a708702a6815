"""What Redis says about a socket that asks to connect: whether its session was revoked, and how many sockets its
user holds on the other live nodes."""

from dataclasses import dataclass

from redis.asyncio import Redis

from gateway.messaging.batching import BatchedScript
from gateway.messaging.keys import RealtimeKeys
from gateway.security.revocations import revoked_session_key
from gateway.settings import RedisSettings

# Each call: 1 if the session's revocation mark exists, then the sockets the user room's presence hash counts on the
# other live nodes (a dead node's count is left for the append script to clear). The checks of a connect storm
# share one script call per batch, like the room presence writes that follow them.
# KEYS: the live nodes, then per call the session's mark and the user room's presence hash ('' for no count).
# ARGV: this node's id.
_CHECK = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local nodes, here = KEYS[1], ARGV[1]
local results = {}
for i = 2, #KEYS, 2 do
  local elsewhere = 0
  if KEYS[i + 1] ~= '' then
    local counts = redis.call('HGETALL', KEYS[i + 1])
    for j = 1, #counts, 2 do
      if counts[j] ~= here then
        local until_ms = redis.call('ZSCORE', nodes, counts[j])
        if until_ms and tonumber(until_ms) > now_ms then
          elsewhere = elsewhere + tonumber(counts[j + 1])
        end
      end
    end
  end
  results[#results + 1] = redis.call('EXISTS', KEYS[i])
  results[#results + 1] = elsewhere
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
        self._check = BatchedScript(redis, _CHECK, [keys.nodes], [node_id], values_per_call=2)

    async def standing(self, session_id: str, user_room: str) -> Standing:
        revoked, elsewhere = await self._check([revoked_session_key(self._settings, session_id), self._keys.presence(user_room)], [])
        return Standing(bool(revoked), int(elsewhere))

    async def revoked(self, session_id: str) -> bool:
        revoked, _ = await self._check([revoked_session_key(self._settings, session_id), ""], [])
        return bool(revoked)

    async def close(self) -> None:
        await self._check.close()
