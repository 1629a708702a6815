"""The sandbox outbox: a bounded Redis list of every message the outbox adapters would have sent."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from redis.asyncio import Redis
from redis.exceptions import RedisError

from providers.errors import VendorUnavailable

OutboxChannel = Literal["email", "sms", "push"]

OUTBOX_CAPACITY = 500


def outbox_key(namespace: str) -> str:
    return f"{namespace}:outbox"


class OutboxStore:
    """Keeps the newest `capacity` entries of one namespace (the deployment's Redis namespace), newest first."""

    def __init__(self, redis: Redis, namespace: str, capacity: int = OUTBOX_CAPACITY) -> None:
        self._redis = redis
        self._key = outbox_key(namespace)
        self._capacity = capacity

    async def record(self, channel: OutboxChannel, fields: dict[str, Any]) -> dict[str, Any]:
        """Store one entry and return it as stored, with its id, channel and UTC timestamp."""
        entry = {
            "id": f"outbox-{uuid.uuid4().hex}",
            "channel": channel,
            **fields,
            "ts": datetime.now(UTC).isoformat(),
        }
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.lpush(self._key, json.dumps(entry, ensure_ascii=False))
                pipe.ltrim(self._key, 0, self._capacity - 1)
                await pipe.execute()
        except RedisError as error:
            raise VendorUnavailable("outbox store unreachable", vendor="outbox", reason=str(error)) from error
        return entry


async def list_outbox(
    redis: Redis, namespace: str, channel: OutboxChannel | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The newest `limit` entries of a namespace, optionally of one channel only, newest first."""
    if limit < 1:
        return []
    # Filtering needs the whole list; it is capped at OUTBOX_CAPACITY so this stays small.
    last_index = -1 if channel else limit - 1
    raw_entries = await redis.lrange(outbox_key(namespace), 0, last_index)
    entries = [json.loads(raw) for raw in raw_entries]
    if channel:
        entries = [entry for entry in entries if entry.get("channel") == channel]
    return entries[:limit]
