"""SMS adapter of the sandbox: keeps each text message in the outbox instead of sending it."""

import structlog
from redis.asyncio import Redis

from providers.delivery import SendReceipt, mask_phone
from providers.outbox import OutboxConfig, OutboxStore
from providers.sms.base import SmsMessage

log = structlog.get_logger(__name__)


class OutboxSmsSender:
    name = "outbox"

    def __init__(self, config: OutboxConfig, redis: Redis) -> None:
        self._store = OutboxStore(redis, config)

    async def send(self, message: SmsMessage) -> SendReceipt:
        entry = await self._store.record("sms", {"to": message.to, "text": message.text, "kind": message.kind})
        log.info("sms kept in outbox", to=mask_phone(message.to), kind=message.kind, message_id=entry["id"])
        return SendReceipt(provider=self.name, message_id=entry["id"])
