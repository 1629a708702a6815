"""A backup restored into an empty database gives back every document, byte for byte, and its indexes."""

import gzip
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bson import Binary, Decimal128, Int64, ObjectId, Regex
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from gateway.backup import BackupError, create_backup, dump_database, load_database, restore_backup
from gateway.settings import Settings
from gateway.vendors.adapters import create_store

DATABASE = "lango_test_backup"
RAW = CodecOptions(document_class=RawBSONDocument)


@pytest.fixture
def backup_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={
            "mongodb": settings.mongodb.model_copy(update={"database": DATABASE}),
            "storage": settings.storage.model_copy(
                update={"provider": "local", "local": settings.storage.local.model_copy(update={"root": tmp_path / "files"})}
            ),
        }
    )


@pytest.fixture
async def database(mongo: AsyncMongoClient) -> AsyncIterator[AsyncDatabase]:
    await mongo.drop_database(DATABASE)
    yield mongo[DATABASE]
    await mongo.drop_database(DATABASE)


async def _seed(db: AsyncDatabase) -> None:
    now = datetime(2026, 11, 24, 21, 5, 7, 123000, tzinfo=UTC)
    await db["payments"].insert_many(
        [
            {
                "_id": ObjectId(),
                "amount_minor": Int64(1_250_000_00),
                "fee": Decimal128("12.50"),
                "attempts": 3,
                "ratio": 0.125,
                "currency": "KES",
                "created_at": now,
                "settled_at": None,
                "vendor": {"name": "mpesa", "raw": {"ResultCode": 0, "Items": [{"Name": "Amount", "Value": 1.0}]}},
                "receipt": Binary(uuid.UUID("12345678-1234-5678-1234-567812345678").bytes, 4),
                "flags": [True, False],
                "pattern": Regex("^ws_CO_", "i"),
            }
            for _ in range(25)
        ]
    )
    await db["payments"].create_index([("created_at", ASCENDING)], name="created", expireAfterSeconds=86_400 * 365)
    await db["bookings"].insert_many(
        [{"_id": f"booking-{n}", "nights": n, "starts": now + timedelta(days=n), "tags": {"a": {"b": [n]}}} for n in range(1200)]
    )
    await db["bookings"].create_index([("starts", ASCENDING), ("nights", ASCENDING)], name="by_start", unique=True)
    await db.create_collection("empty_outbox")


async def _snapshot(db: AsyncDatabase) -> dict[str, list[bytes]]:
    """Each collection's documents as their exact BSON bytes, sorted: equal snapshots mean nothing changed."""
    snapshot = {}
    for name in await db.list_collection_names():
        documents = db.get_collection(name, codec_options=RAW).find()
        snapshot[name] = sorted([document.raw async for document in documents])
    return snapshot


async def test_the_round_trip_loses_nothing(backup_settings: Settings, database: AsyncDatabase, mongo: AsyncMongoClient) -> None:
    await _seed(database)
    before = await _snapshot(database)
    indexes_before = {name: await database[name].index_information() for name in before}

    key = await create_backup(backup_settings)
    assert key.startswith("backups/lango_test_backup-") and key.endswith(".jsonl.gz")
    await mongo.drop_database(DATABASE)
    manifest = await restore_backup(backup_settings, key)

    assert await _snapshot(database) == before
    assert {name: entry["count"] for name, entry in manifest.items()} == {
        "payments": 25, "bookings": 1200, "empty_outbox": 0
    }
    for name, indexes in indexes_before.items():
        after = await database[name].index_information()
        assert {index: spec["key"] for index, spec in after.items()} == {index: spec["key"] for index, spec in indexes.items()}
    payments_indexes = await database["payments"].index_information()
    assert payments_indexes["created"]["expireAfterSeconds"] == 86_400 * 365
    assert (await database["bookings"].index_information())["by_start"]["unique"] is True


async def test_restore_refuses_a_database_that_has_data(backup_settings: Settings, database: AsyncDatabase) -> None:
    await _seed(database)
    key = await create_backup(backup_settings)
    await database["bookings"].delete_one({"_id": "booking-0"})
    with pytest.raises(BackupError, match="empty database"):
        await restore_backup(backup_settings, key)
    assert await database["bookings"].count_documents({}) == 1199


async def test_a_cut_short_or_altered_archive_is_refused(database: AsyncDatabase, mongo: AsyncMongoClient) -> None:
    await _seed(database)
    data, _ = await dump_database(database)
    await mongo.drop_database(DATABASE)
    lines = gzip.decompress(data).splitlines(keepends=True)
    with pytest.raises(BackupError, match="cut short"):
        await load_database(database, gzip.compress(b"".join(lines[:-1])))
    altered = b"".join(lines).replace(b'"nights": {"$numberInt": "7"}', b'"nights": {"$numberInt": "8"}', 1)
    assert altered != b"".join(lines)
    with pytest.raises(BackupError, match="does not match"):
        await load_database(database, gzip.compress(altered))
    assert await database["bookings"].count_documents({}) == 0


async def test_archives_land_in_the_configured_storage(backup_settings: Settings, database: AsyncDatabase) -> None:
    await _seed(database)
    key = await create_backup(backup_settings)
    store = create_store(backup_settings)
    info = await store.head(key)
    assert info is not None and info.size > 0
    assert info.content_type == "application/gzip"
