"""Each room's event log in Redis: ids from a counter, recent events in a bounded stream, fan-out to the nodes holding the room."""

import asyncio
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from gateway.messaging.batching import BatchedScript
from gateway.messaging.keys import RealtimeKeys
from gateway.messaging.targets import BROADCAST
from gateway.redis_client import publishing_script
from gateway.settings import RealtimeSettings

# Appends a batch of events in one atomic step, so an event is either in the history before a node registers
# presence (and the node's replay reads it) or published to that node (and live delivery brings it).
# KEYS: the live nodes, then per event its room's sequence, history and presence, and its pending push (any key of
# the room when there is no push: it is left alone).
# ARGV: history max events, max age ms, node channel prefix, push hold ms, the broadcast room, then per event its
# room, type, envelope tail and push notice ('null': no push). Answers per event id, nodes reached and push burst
# started (1 or 0), or an error and two zeros, all laid end to end: Redis turns a table per event into a reply at
# about two thirds the cost of the event's own XADD.
# Each node reached gets one message for the whole batch: its events' lines (see NODE_MESSAGE_SEPARATOR), in order;
# on a Redis Cluster through sharded pub/sub, on the node's channel in the events' partition (publishing_script).
_APPEND = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
-- Numbers are turned into text once, and as integers: tostring takes Lua's floating-point formatting, which was a
-- good part of the script's cost.
local format = string.format
local now_text = format('%d', now_ms)
local nodes, max_events, max_age, prefix, push_hold, broadcast = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
-- An absolute expiry: Redis would rewrite each relative PEXPIRE into this, building new arguments every time.
local history_expires_at = format('%d', now_ms + tonumber(max_age))
local alive = {}
local outbox = {}

-- A node's message is gathered as parts and joined once: joining each line first would make Lua intern one more
-- long string per event.
local function send(node, room, id, event_type, envelope)
  local parts = outbox[node]
  if parts == nil then
    parts = {}
    outbox[node] = parts
  else
    parts[#parts + 1] = '\\n'
  end
  local n = #parts
  parts[n + 1] = room
  parts[n + 2] = ' '
  parts[n + 3] = id
  parts[n + 4] = ' '
  parts[n + 5] = event_type
  parts[n + 6] = ' '
  parts[n + 7] = envelope
end

local function is_alive(node)
  if alive[node] == nil then
    local until_ms = redis.call('ZSCORE', nodes, node)
    alive[node] = until_ms ~= false and tonumber(until_ms) > now_ms
  end
  return alive[node]
end

local function append(k, a)
  local room, event_type = ARGV[a], ARGV[a + 1]
  local seq = redis.call('INCR', KEYS[k])
  local id = format('%d', seq)
  local envelope = '{"id":' .. id .. ',' .. ARGV[a + 2]
  -- The entry id `<id>`, which XADD reads as `<id>-0`.
  redis.call('XADD', KEYS[k + 1], 'MAXLEN', '~', max_events, id, 't', event_type, 'e', envelope, 'ms', now_text)
  redis.call('PEXPIREAT', KEYS[k + 1], history_expires_at)
  local reached = 0
  if room == broadcast then
    for _, node in ipairs(redis.call('ZRANGEBYSCORE', nodes, now_text, '+inf')) do
      send(node, room, id, event_type, envelope)
      reached = reached + 1
    end
  else
    for _, node in ipairs(redis.call('HKEYS', KEYS[k + 2])) do
      if is_alive(node) then
        send(node, room, id, event_type, envelope)
        reached = reached + 1
      else
        redis.call('HDEL', KEYS[k + 2], node)
      end
    end
  end
  local push_started = 0
  if reached == 0 and ARGV[a + 3] ~= 'null' then
    local pending = '{"notice":' .. ARGV[a + 3] .. ',"event":' .. envelope .. '}'
    if redis.call('SET', KEYS[k + 3], pending, 'PX', push_hold, 'NX') then
      push_started = 1
    else
      redis.call('SET', KEYS[k + 3], pending, 'PX', push_hold, 'XX')
    end
  end
  return seq, reached, push_started
end

local results = {}
for i = 0, (#KEYS - 1) / 4 - 1 do
  local ok, seq_or_error, reached, push_started = pcall(append, 2 + 4 * i, 6 + 4 * i)
  local at = 3 * i
  if ok then
    results[at + 1], results[at + 2], results[at + 3] = seq_or_error, reached, push_started
  else
    if type(seq_or_error) ~= 'table' or not seq_or_error.err then
      seq_or_error = redis.error_reply(tostring(seq_or_error))
    end
    results[at + 1], results[at + 2], results[at + 3] = seq_or_error, 0, 0
  end
end
for node, parts in pairs(outbox) do
  redis.call('$PUBLISH', prefix .. node, table.concat(parts))
end
return results
"""
# Reads a room's events after the id its socket last saw. Before reading a range it checks that the first event
# wanted is still kept and young enough: an id fallen out of the window costs one lookup. Needs `oldest_ms`, the
# time before which an event is too old (`history_window_lua` sets it). Answers {latest id, 1 if
# nothing is missing else 0, the kept entries after the id}; `seen` '' (none) reads the latest id only, `partial`
# '1' reads what is kept even when events are missing.
READ_AFTER_LUA = """
-- An entry's fields are t, type, e, envelope, ms, time, as the append script writes them.
local function young(entry)
  return tonumber(entry[2][6]) >= oldest_ms
end

local function read_after(sequence, history, seen, partial)
  local latest = tonumber(redis.call('GET', sequence) or '0')
  if seen == '' then
    return {latest, 0, {}}
  end
  local after = tonumber(seen)
  if after >= latest then
    return {latest, after == latest and 1 or 0, {}}
  end
  local start = (after + 1) .. '-0'
  local first = redis.call('XRANGE', history, start, start)
  local complete = #first == 1 and young(first[1])
  if not complete and partial ~= '1' then
    return {latest, 0, {}}
  end
  local kept = {}
  for _, entry in ipairs(redis.call('XRANGE', history, start, '+')) do
    if young(entry) then
      kept[#kept + 1] = entry
    end
  end
  return {latest, complete and 1 or 0, kept}
end
"""


def history_window_lua(max_age_at: int) -> str:
    """Lua setting `now_ms` (Redis's clock) and `oldest_ms` from the max age in ARGV[max_age_at]."""
    return f"""
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local oldest_ms = now_ms - tonumber(ARGV[{max_age_at}])
"""


# The reads of one loop turn share one script call, so a reconnect storm costs a few hundred calls, not one pool
# checkout per socket.
# KEYS: per call the room's sequence and history. ARGV: max age ms, then per call the last id seen ('' for none:
# the latest id only) and 1 to read what is kept even when events are missing.
_READ_AFTER = (
    history_window_lua(1)
    + READ_AFTER_LUA
    + """
local results = {}
for i = 0, #KEYS / 2 - 1 do
  results[i + 1] = read_after(KEYS[1 + 2 * i], KEYS[2 + 2 * i], ARGV[2 + 2 * i], ARGV[3 + 2 * i])
end
return results
"""
)
# 16 replays of a full window (1,000 events each by default) read in one call hold Redis for ~10 ms.
READS_PER_RUN = 16
# Lines of a node message: room, id, type and envelope can hold no raw newline (ids and types are checked
# names; the envelope is compact JSON, which escapes it).
NODE_MESSAGE_SEPARATOR = b"\n"
# The pending push outlives its debounce window by this much, so a slow job still finds it.
_PENDING_PUSH_MARGIN_S = 300


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


class MessageLog:
    def __init__(self, redis: Redis, keys: RealtimeKeys, settings: RealtimeSettings) -> None:
        self._keys = keys
        push_hold_ms = int((settings.push_debounce_s + _PENDING_PUSH_MARGIN_S) * 1000)
        max_age_ms = settings.history_max_age_s * 1000
        shared_args = [
            settings.history_max_events, max_age_ms, keys.node_channel_prefix, push_hold_ms, BROADCAST,
        ]  # fmt: skip

        def shared_at(tag: str) -> tuple[list[str], list[Any]]:
            return [keys.nodes_at(tag)], [*shared_args[:2], keys.node_channel_prefix_at(tag), *shared_args[3:]]

        append = publishing_script(_APPEND, keys.cluster)
        self._append = BatchedScript(
            redis, append, [keys.nodes], shared_args, values_per_call=3, shared_at=shared_at if keys.cluster else None
        )
        # A long replay holds Redis while it is read: fewer of them to a call than appends.
        self._read_after = BatchedScript(redis, _READ_AFTER, [], [max_age_ms], max_calls_per_run=READS_PER_RUN)

    async def close(self) -> None:
        await self._append.close()
        await self._read_after.close()

    def append(
        self, target: str, event_type: str, envelope_tail: bytes, pending_push_key: str | None, push_notice: bytes
    ) -> "asyncio.Future[list[int]]":
        """Give the event the room's next id, keep it, publish it to every live node holding the room.

        Answers [event id, nodes reached, 1 if a push burst started else 0]; a future, not a coroutine, since
        a busy worker calls it for every event."""
        keys = self._keys
        sequence = keys.sequence(target)
        return self._append(
            [sequence, keys.history(target), keys.presence(target), pending_push_key or sequence],
            [target, event_type, envelope_tail, push_notice],
        )

    async def read_after(self, target: str, after_id: int | None, *, partial: bool = False) -> HistorySlice:
        """The room's events after `after_id` in order; `complete` is false when the window no longer reaches back.

        Without `after_id` (a client with nothing to resume) only the latest id is read, not the history; with
        an id the window no longer reaches, no event is read unless `partial` asks for whatever is still kept."""
        keys = [self._keys.sequence(target), self._keys.history(target)]
        seen = "" if after_id is None else after_id
        return history_slice(await self._read_after(keys, [seen, int(partial)]))


def history_slice(reply: list[Any]) -> HistorySlice:
    """What READ_AFTER_LUA's `read_after` answered."""
    latest, complete, entries = reply
    events = [StoredEvent(int(entry_id.split(b"-", 1)[0]), fields[1].decode(), fields[3]) for entry_id, fields in entries]
    return HistorySlice(events, int(latest), complete=bool(complete))
