"""Names of every Redis key and channel the message bus and the realtime hub share."""

from gateway.redis_client import partition_tag, partition_tags, redis_key
from gateway.settings import RedisSettings


class RealtimeKeys:
    """Prefixes are built once: every published event names four keys.

    On a Redis Cluster a room's keys carry its partition's hash tag, and so do the copies of the live nodes and
    the nodes' channels its events are published with: one append touches one slot (gateway/redis_client.py)."""

    def __init__(self, settings: RedisSettings) -> None:
        self._settings = settings
        self.cluster = settings.cluster
        self._sequence = redis_key(settings, "rt", "seq", "")
        self._history = redis_key(settings, "rt", "history", "")
        self._presence = redis_key(settings, "rt", "presence", "")
        self._push = redis_key(settings, "rt", "push", "")
        self.nodes = redis_key(settings, "rt", "nodes")
        """A sorted set: node id -> the Redis time (ms) until which the node counts as alive."""
        self.node_channel_prefix = redis_key(settings, "rt", "node", "")

    def partition(self, target: str) -> str:
        """The hash tag of the room's partition ('' on one Redis)."""
        return partition_tag(self._settings, target)

    def partitions(self) -> list[str]:
        return partition_tags(self._settings)

    def sequence(self, target: str) -> str:
        """The last event id given in a room; never expires, so ids never go back."""
        return self._sequence + (self.partition(target) + target if self.cluster else target)

    def history(self, target: str) -> str:
        """A stream of the room's recent events, entry id `<event id>-0`."""
        return self._history + (self.partition(target) + target if self.cluster else target)

    def presence(self, target: str) -> str:
        """A hash: node id -> sockets that node holds in the room."""
        return self._presence + (self.partition(target) + target if self.cluster else target)

    def nodes_at(self, tag: str) -> str:
        """The live nodes as a partition sees them: on a cluster every partition keeps its own copy."""
        return f"{self.nodes}:{tag[:-1]}" if tag else self.nodes

    def node_channel_prefix_at(self, tag: str) -> str:
        """A node's channel in a partition is this prefix and its id: on a cluster it listens in every partition."""
        return self.node_channel_prefix + tag

    def node_channel(self, node_id: str, tag: str = "") -> str:
        return self.node_channel_prefix + tag + node_id

    def pending_push(self, user_id: str, collapse_key: str) -> str:
        """The latest event of an offline user's burst under one collapse key, until its push goes out."""
        return f"{self._push}{self.partition('user:' + user_id)}{user_id}:{collapse_key}"
