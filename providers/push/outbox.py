"""Push adapter of the sandbox: keeps each notification in the outbox instead of sending it."""

import structlog

from providers.outbox import OutboxStore
from providers.push.base import PushMessage, PushResult, TokenOutcome

log = structlog.get_logger(__name__)


class OutboxPushSender:
    name = "outbox"

    def __init__(self, store: OutboxStore) -> None:
        self._store = store

    async def send(self, message: PushMessage) -> PushResult:
        entry = await self._store.record(
            "push",
            {
                "to": list(message.tokens),
                "title": message.title,
                "body": message.body,
                "data": message.data,
                "collapse_key": message.collapse_key,
                "priority": message.priority,
                "kind": message.kind,
            },
        )
        log.info("push kept in outbox", devices=len(message.tokens), kind=message.kind, message_id=entry["id"])
        return PushResult(
            provider=self.name,
            outcomes=tuple(TokenOutcome(token=token, message_id=entry["id"]) for token in message.tokens),
        )
