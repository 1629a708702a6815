"""Names of every Redis key and channel the message bus and the realtime hub share."""

from gateway.redis_client import redis_key
from gateway.settings import RedisSettings


class RealtimeKeys:
    """Prefixes are built once: every published event names four keys."""

    def __init__(self, settings: RedisSettings) -> None:
        self._sequence = redis_key(settings, "rt", "seq", "")
        self._history = redis_key(settings, "rt", "history", "")
        self._presence = redis_key(settings, "rt", "presence", "")
        self._push = redis_key(settings, "rt", "push", "")
        self.nodes = redis_key(settings, "rt", "nodes")
        """A sorted set: node id -> the Redis time (ms) until which the node counts as alive."""
        self.node_channel_prefix = redis_key(settings, "rt", "node", "")

    def sequence(self, target: str) -> str:
        """The last event id given in a room; never expires, so ids never go back."""
        return self._sequence + target

    def history(self, target: str) -> str:
        """A stream of the room's recent events, entry id `<event id>-0`."""
        return self._history + target

    def presence(self, target: str) -> str:
        """A hash: node id -> sockets that node holds in the room."""
        return self._presence + target

    def node_channel(self, node_id: str) -> str:
        return self.node_channel_prefix + node_id

    def pending_push(self, user_id: str, collapse_key: str) -> str:
        """The latest event of an offline user's burst under one collapse key, until its push goes out."""
        return f"{self._push}{user_id}:{collapse_key}"
