"""MongoDB through PyMongo's async client, with Beanie initialised on every document."""

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from documents import ALL_DOCUMENTS
from gateway.services import Services
from gateway.settings import MongoSettings

T = TypeVar("T")


def create_mongo_client(settings: MongoSettings) -> AsyncMongoClient:
    if settings.url is None:
        raise ValueError("mongodb.url is not set")
    return AsyncMongoClient(
        settings.url.get_secret_value(),
        maxPoolSize=settings.max_pool_size,
        minPoolSize=settings.min_pool_size,
        connectTimeoutMS=settings.connect_timeout_ms,
        serverSelectionTimeoutMS=settings.server_selection_timeout_ms,
        socketTimeoutMS=settings.socket_timeout_ms,
        maxIdleTimeMS=settings.max_idle_time_ms,
        tz_aware=True,
        appname="lango",
    )


async def init_documents(client: AsyncMongoClient, settings: MongoSettings, *, create_indexes: bool) -> None:
    """Bind every document to the database; indexes are created only when asked (`lango migrate`)."""
    from beanie import init_beanie

    await init_beanie(
        database=client[settings.database], document_models=ALL_DOCUMENTS, skip_indexes=not create_indexes
    )


async def in_transaction(services: Services, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
    """Run `work` in a transaction; PyMongo retries it whole, with backoff, on TransientTransactionError
    (a write conflict with a concurrent writer) and retries an unknown commit result, so `work` must only
    write through `session`."""
    async with services.mongo.start_session() as session:
        return await session.with_transaction(work)


async def ping_mongodb(client: AsyncMongoClient) -> float:
    """Round-trip a ping; answer the latency in seconds or raise."""
    started = time.perf_counter()
    await client.admin.command("ping")
    return time.perf_counter() - started
