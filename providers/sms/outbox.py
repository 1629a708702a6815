"""SMS adapter of the sandbox: keeps each text message in the outbox instead of sending it."""

import structlog

from providers.delivery import SendReceipt, mask_phone
from providers.outbox import OutboxStore
from providers.sms.base import SmsMessage

log = structlog.get_logger(__name__)


class OutboxSmsSender:
    name = "outbox"

    def __init__(self, store: OutboxStore) -> None:
        self._store = store

    async def send(self, message: SmsMessage) -> SendReceipt:
        entry = await self._store.record("sms", {"to": message.to, "text": message.text, "kind": message.kind})
        log.info("sms kept in outbox", to=mask_phone(message.to), kind=message.kind, message_id=entry["id"])
        return SendReceipt(provider=self.name, message_id=entry["id"])
