"""A socket's opening in one Redis script call: this node's presence in its user room written, then the session's
revocation mark, the user's sockets on other nodes and the room's history read, in that order and atomically."""

from dataclasses import dataclass
from typing import Any

from gateway.messaging.log import READ_AFTER_LUA, HistorySlice, history_slice, history_window_lua

# Writes this node's socket count in a room's presence hash (0: none left, the node's entry goes).
WRITE_PRESENCE_LUA = """
local function write_presence(presence, node, count, ttl)
  if count > 0 then
    redis.call('HSET', presence, node, count)
    redis.call('PEXPIRE', presence, ttl)
  else
    redis.call('HDEL', presence, node)
  end
end
"""
# Counts the sockets a user room's presence hash holds on the other live nodes (a dead node's count is left for the
# append script to clear). Needs `now_ms`, `nodes` (the live nodes) and `here` (this node's id).
_SOCKETS_ELSEWHERE_LUA = """
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
# The presence write comes first, in the same call: an event appended before it is in the history read here, one
# appended after it is published to this node. Openings of one flush of the presence writer share a script call.
# KEYS: the live nodes (on a Redis Cluster the partition's copy), then per call the room's presence, sequence and
# history, and the session's revocation mark when its call says so (on a Redis Cluster the mark lives in another
# slot and is asked apart). ARGV: node id, presence TTL ms, history max age ms, then per call this node's socket
# count in the room (0: none left), the last event id seen ('' for none) and 1 if a mark key follows.
# Answers per call {1 if the mark exists, sockets elsewhere, {latest id, complete, entries}}.
OPENING_LUA = (
    history_window_lua(3)
    + "local nodes, here, ttl = KEYS[1], ARGV[1], ARGV[2]\n"
    + WRITE_PRESENCE_LUA
    + _SOCKETS_ELSEWHERE_LUA
    + READ_AFTER_LUA
    + """
local results = {}
local k, a = 2, 4
while k <= #KEYS do
  local presence, sequence, history = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local count, seen, marked = tonumber(ARGV[a]), ARGV[a + 1], ARGV[a + 2]
  k, a = k + 3, a + 3
  write_presence(presence, here, count, ttl)
  local revoked = 0
  if marked == '1' then
    revoked = redis.call('EXISTS', KEYS[k])
    k = k + 1
  end
  results[#results + 1] = {revoked, sockets_elsewhere(presence), read_after(sequence, history, seen, '0')}
end
return results
"""
)


@dataclass(frozen=True)
class OpeningRead:
    """What a socket asks for as it opens: its session's revocation mark (None: asked apart) and the last event id
    its client saw in the room (None: nothing to resume, the latest id only)."""

    mark: str | None
    last_event_id: int | None


@dataclass(frozen=True)
class Opening:
    revoked: bool
    sockets_elsewhere: int
    history: HistorySlice


def opening_call(presence: str, sequence: str, history: str, count: int, read: OpeningRead) -> tuple[list[str], list[Any]]:
    """One call's keys and arguments for OPENING_LUA."""
    keys = [presence, sequence, history] if read.mark is None else [presence, sequence, history, read.mark]
    seen = "" if read.last_event_id is None else read.last_event_id
    return keys, [count, seen, 0 if read.mark is None else 1]


def opening(reply: list[Any]) -> Opening:
    revoked, elsewhere, history = reply
    return Opening(bool(revoked), int(elsewhere), history_slice(history))
