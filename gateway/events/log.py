"""Each room's event log in Redis: ids from a counter, recent events in a bounded stream, fan-out to the nodes holding the room."""

import time
from dataclasses import dataclass

from redis.asyncio import Redis

from gateway.events.batching import BatchedScript
from gateway.events.keys import RealtimeKeys
from gateway.events.targets import BROADCAST
from gateway.settings import RealtimeSettings

# One atomic step, so an event is either in the history before a node registers presence
# (and the node's replay reads it) or published to that node (and live delivery brings it).
_APPEND = """
local seq = redis.call('INCR', KEYS[1])
local envelope = '{"id":' .. seq .. ',' .. ARGV[1]
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-0', 't', ARGV[6], 'e', envelope, 'ms', now_ms)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
local message = ARGV[5] .. ' ' .. seq .. ' ' .. ARGV[6] .. ' ' .. envelope
local reached = 0
if ARGV[7] == '1' then
  for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], now_ms, '+inf')) do
    redis.call('PUBLISH', ARGV[4] .. node, message)
    reached = reached + 1
  end
else
  for _, node in ipairs(redis.call('HKEYS', KEYS[3])) do
    local alive_until = redis.call('ZSCORE', KEYS[4], node)
    if alive_until and tonumber(alive_until) > now_ms then
      redis.call('PUBLISH', ARGV[4] .. node, message)
      reached = reached + 1
    else
      redis.call('HDEL', KEYS[3], node)
    end
  end
end
local push_started = 0
if reached == 0 and KEYS[5] then
  local pending = '{"notice":' .. ARGV[9] .. ',"event":' .. envelope .. '}'
  if redis.call('SET', KEYS[5], pending, 'PX', ARGV[8], 'NX') then
    push_started = 1
  else
    redis.call('SET', KEYS[5], pending, 'PX', ARGV[8], 'XX')
  end
end
return {seq, reached, push_started}
"""


@dataclass(frozen=True)
class Appended:
    event_id: int
    nodes_reached: int
    push_burst_started: bool


@dataclass(frozen=True)
class StoredEvent:
    id: int
    type: str
    envelope: bytes


@dataclass(frozen=True)
class HistorySlice:
    """The events after a given id still in the window, and whether none is missing."""

    events: list[StoredEvent]
    latest_id: int
    complete: bool


class EventLog:
    def __init__(self, redis: Redis, keys: RealtimeKeys, settings: RealtimeSettings) -> None:
        self._redis = redis
        self._keys = keys
        self._settings = settings
        self._append = BatchedScript(redis, _APPEND)

    async def append(
        self,
        target: str,
        event_type: str,
        envelope_tail: bytes,
        pending_push_key: str | None,
        push_notice: bytes,
        push_hold_ms: int,
    ) -> Appended:
        """Give the event the room's next id, keep it, publish it to every live node holding the room."""
        keys = [self._keys.sequence(target), self._keys.history(target), self._keys.presence(target), self._keys.nodes]
        if pending_push_key:
            keys.append(pending_push_key)
        event_id, reached, push_started = await self._append(
            keys,
            [
                envelope_tail,
                self._settings.history_max_events,
                self._settings.history_max_age_s * 1000,
                self._keys.node_channel_prefix,
                target,
                event_type,
                "1" if target == BROADCAST else "0",
                push_hold_ms,
                push_notice,
            ],
        )
        return Appended(int(event_id), int(reached), bool(push_started))

    async def read_after(self, target: str, after_id: int | None) -> HistorySlice:
        """The room's events after `after_id` in order; `complete` is false when the window no longer reaches back."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._keys.sequence(target))
            pipe.xrange(self._keys.history(target), min=f"{(after_id or 0) + 1}-0")
            raw_latest, entries = await pipe.execute()
        latest = int(raw_latest or 0)
        if after_id is None:
            return HistorySlice([], latest, complete=False)
        oldest_kept_ms = (time.time() - self._settings.history_max_age_s) * 1000
        events = [
            StoredEvent(int(entry_id.split(b"-", 1)[0]), fields[b"t"].decode(), fields[b"e"])
            for entry_id, fields in entries
            if int(fields[b"ms"]) >= oldest_kept_ms
        ]
        if after_id > latest:
            return HistorySlice([], latest, complete=False)
        complete = after_id == latest or (bool(events) and events[0].id == after_id + 1)
        return HistorySlice(events, latest, complete)
