"""`lango migrate`: create or update every index; idempotent, safe on every deploy."""

from gateway.database import create_mongo_client, init_documents
from gateway.logs import get_logger
from gateway.settings import Settings

log = get_logger("lango.migrate")


async def migrate(settings: Settings) -> None:
    client = create_mongo_client(settings.mongodb)
    try:
        await init_documents(client, settings.mongodb, create_indexes=True)
        log.info("indexes up to date", database=settings.mongodb.database)
    finally:
        await client.close()
