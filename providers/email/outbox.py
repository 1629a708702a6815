"""Email adapter of the sandbox: keeps each email in the outbox instead of sending it."""

import structlog

from providers.delivery import SendReceipt, mask_email
from providers.email.base import EmailMessage
from providers.outbox import OutboxStore

log = structlog.get_logger(__name__)


class OutboxEmailSender:
    name = "outbox"

    def __init__(self, store: OutboxStore) -> None:
        self._store = store

    async def send(self, message: EmailMessage) -> SendReceipt:
        entry = await self._store.record(
            "email",
            {
                "to": message.to,
                "subject": message.subject,
                "text": message.text,
                "html": message.html,
                "kind": message.kind,
                "tags": message.tags,
            },
        )
        log.info("email kept in outbox", to=mask_email(message.to), kind=message.kind, message_id=entry["id"])
        return SendReceipt(provider=self.name, message_id=entry["id"])
