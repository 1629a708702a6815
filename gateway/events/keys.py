"""Names of every Redis key and channel the event bus and the realtime hub share."""

from dataclasses import dataclass

from gateway.redis_client import redis_key
from gateway.settings import RedisSettings


@dataclass(frozen=True)
class RealtimeKeys:
    settings: RedisSettings

    def sequence(self, target: str) -> str:
        """The last event id given in a room; never expires, so ids never go back."""
        return redis_key(self.settings, "rt", "seq", target)

    def history(self, target: str) -> str:
        """A stream of the room's recent events, entry id `<event id>-0`."""
        return redis_key(self.settings, "rt", "history", target)

    def presence(self, target: str) -> str:
        """A hash: node id -> sockets that node holds in the room."""
        return redis_key(self.settings, "rt", "presence", target)

    @property
    def nodes(self) -> str:
        """A sorted set: node id -> the Redis time (ms) until which the node counts as alive."""
        return redis_key(self.settings, "rt", "nodes")

    def node_channel(self, node_id: str) -> str:
        return self.node_channel_prefix + node_id

    @property
    def node_channel_prefix(self) -> str:
        return redis_key(self.settings, "rt", "node", "")

    def pending_push(self, user_id: str, collapse_key: str) -> str:
        """The latest event of an offline user's burst under one collapse key, until its push goes out."""
        return redis_key(self.settings, "rt", "push", user_id, collapse_key)
