"""Whether a socket's session was revoked, asked of Redis: the checks of one loop turn share one script call."""

from redis.asyncio import Redis

from gateway.messaging.batching import BatchedScript
from gateway.security.revocations import revoked_session_key
from gateway.settings import RedisSettings

# KEYS: per call a session's revocation mark.
_CHECK_MARKS = """
local results = {}
for i = 1, #KEYS do
  results[i] = redis.call('EXISTS', KEYS[i])
end
return results
"""


class SessionChecks:
    def __init__(self, redis: Redis, settings: RedisSettings) -> None:
        self._settings = settings
        self._marks = BatchedScript(redis, _CHECK_MARKS, [], [])

    def mark(self, session_id: str) -> str:
        """The key whose existence says the session was revoked (gateway.security.revocations)."""
        return revoked_session_key(self._settings, session_id)

    async def revoked(self, session_id: str) -> bool:
        return bool(await self._marks([self.mark(session_id)], []))

    async def close(self) -> None:
        await self._marks.close()
