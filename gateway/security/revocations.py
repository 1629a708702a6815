"""Sessions revoked before their access tokens expire: a short-lived Redis mark that every request and socket connect
checks, and word to every live gateway node, which closes the sessions' open sockets at once."""

from datetime import timedelta

from redis.asyncio import Redis

from gateway.messaging.keys import RealtimeKeys
from gateway.redis_client import partition_tag, publishing_script, redis_key
from gateway.settings import RedisSettings

# A control line on the nodes' channels, then the session ids, space-separated. It starts with "~", which no room
# name does (gateway/messaging/targets.py), so a node tells it from the event lines it reads there.
REVOKED_SESSIONS = b"~revoked"

# Marks and tells in one step: a node either finds the mark when a socket connects, or hears of it afterwards.
# KEYS: the live nodes, then each session's mark. ARGV: the node channel prefix, the mark's lifetime ms, the message.
_MARK_AND_TELL = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], '1', 'PX', ARGV[2])
end
local told = 0
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now_ms, '+inf')) do
  redis.call('$PUBLISH', ARGV[1] .. node, ARGV[3])
  told = told + 1
end
return told
"""


def revoked_session_key(settings: RedisSettings, session_id: str) -> str:
    # Tagged on a Redis Cluster, so a connect storm's checks of marks batch per partition (gateway/realtime/admission.py).
    return redis_key(settings, "auth", "revoked-session", partition_tag(settings, session_id) + session_id)


async def mark_sessions_revoked(
    redis: Redis, settings: RedisSettings, session_ids: list[str], lifetime: timedelta
) -> None:
    """Remember the sessions for as long as an access token minted for them can live, and have every node close
    their sockets."""
    if not session_ids:
        return
    keys = RealtimeKeys(settings)
    marks = [revoked_session_key(settings, session_id) for session_id in session_ids]
    message = b" ".join([REVOKED_SESSIONS, *(session_id.encode() for session_id in session_ids)])
    lifetime_ms = int(lifetime.total_seconds() * 1000)
    mark_and_tell = redis.register_script(publishing_script(_MARK_AND_TELL, settings.cluster))
    if not settings.cluster:
        await mark_and_tell(keys=[keys.nodes, *marks], args=[keys.node_channel_prefix, lifetime_ms, message])
        return
    # The marks are in the sessions' partitions: set first, then every node is told through one partition (each
    # node listens in all), so a node still either finds the mark or hears of it afterwards.
    async with redis.pipeline(transaction=False) as pipe:
        for mark in marks:
            pipe.set(mark, "1", px=lifetime_ms)
        await pipe.execute()
    tag = keys.partitions()[0]
    await mark_and_tell(keys=[keys.nodes_at(tag)], args=[keys.node_channel_prefix_at(tag), lifetime_ms, message])


async def is_session_revoked(redis: Redis, settings: RedisSettings, session_id: str) -> bool:
    return bool(await redis.exists(revoked_session_key(settings, session_id)))
