"""Versioned migrations: in order, exactly once under concurrent runs, and a failure is retried next time."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

import gateway.migrations
from gateway.migrations import Migration, apply_migrations, discover_migrations
from gateway.migrations.runner import LOCK_ID, LOCKS_COLLECTION, MIGRATIONS_COLLECTION
from gateway.settings import Settings

DATABASE = "lango_test_migrations"
SETTINGS = Settings()


@pytest.fixture
async def database(mongo: AsyncMongoClient) -> AsyncIterator[AsyncDatabase]:
    await mongo.drop_database(DATABASE)
    yield mongo[DATABASE]
    await mongo.drop_database(DATABASE)


def _counting(version: str, order: list[str]) -> Migration:
    async def up(db: AsyncDatabase, _: Settings) -> None:
        order.append(version)
        await db["side_effects"].update_one({"_id": version}, {"$inc": {"runs": 1}}, upsert=True)
        # Give a concurrent run every chance to interleave.
        await asyncio.sleep(0)

    return Migration(version, f"count_{version}", up)


async def _runs(db: AsyncDatabase) -> dict[str, int]:
    return {effect["_id"]: effect["runs"] async for effect in db["side_effects"].find()}


async def test_two_concurrent_runs_apply_each_migration_exactly_once_in_order(database: AsyncDatabase) -> None:
    order: list[str] = []
    migrations = [_counting(version, order) for version in ("0001", "0002", "0003")]
    first, second = await asyncio.gather(*(apply_migrations(database, migrations, SETTINGS) for _ in range(2)))
    assert sorted([first, second]) == [[], ["0001", "0002", "0003"]]
    assert order == ["0001", "0002", "0003"]
    assert await _runs(database) == {"0001": 1, "0002": 1, "0003": 1}
    recorded = [record["_id"] async for record in database[MIGRATIONS_COLLECTION].find().sort("_id")]
    assert recorded == ["0001", "0002", "0003"]
    assert await database[LOCKS_COLLECTION].count_documents({"_id": LOCK_ID}) == 0
    assert await apply_migrations(database, migrations, SETTINGS) == []


async def test_a_failing_migration_stops_the_run_is_not_recorded_and_is_retried(database: AsyncDatabase) -> None:
    order: list[str] = []
    attempts = {"0002": 0}

    async def flaky(db: AsyncDatabase, _: Settings) -> None:
        attempts["0002"] += 1
        if attempts["0002"] == 1:
            raise RuntimeError("backfill hit a bad document")
        await db["side_effects"].update_one({"_id": "0002"}, {"$inc": {"runs": 1}}, upsert=True)

    migrations = [_counting("0001", order), Migration("0002", "flaky", flaky), _counting("0003", order)]
    with pytest.raises(RuntimeError, match="bad document"):
        await apply_migrations(database, migrations, SETTINGS)
    assert [record["_id"] async for record in database[MIGRATIONS_COLLECTION].find()] == ["0001"]
    assert await _runs(database) == {"0001": 1}
    assert await database[LOCKS_COLLECTION].count_documents({}) == 0

    assert await apply_migrations(database, migrations, SETTINGS) == ["0002", "0003"]
    assert await _runs(database) == {"0001": 1, "0002": 1, "0003": 1}


async def test_a_lease_left_by_a_dead_run_does_not_block(database: AsyncDatabase) -> None:
    expired = datetime.now(UTC) - timedelta(minutes=5)
    await database[LOCKS_COLLECTION].insert_one({"_id": LOCK_ID, "owner": "dead-host:1", "expires_at": expired})
    assert await apply_migrations(database, [_counting("0001", [])], SETTINGS, lock_wait_s=5) == ["0001"]


async def test_a_live_lease_makes_another_run_wait_and_give_up(database: AsyncDatabase) -> None:
    from gateway.migrations import MigrationLockTimeout

    live = datetime.now(UTC) + timedelta(minutes=5)
    await database[LOCKS_COLLECTION].insert_one({"_id": LOCK_ID, "owner": "busy-host:1", "expires_at": live})
    with pytest.raises(MigrationLockTimeout):
        await apply_migrations(database, [_counting("0001", [])], SETTINGS, lock_wait_s=1)
    assert await _runs(database) == {}


def test_the_package_holds_numbered_migrations_in_order() -> None:
    found = discover_migrations(gateway.migrations)
    versions = [migration.version for migration in found]
    assert versions == sorted(versions) and versions[0] == "0001"
    assert len(set(versions)) == len(versions)


async def test_the_real_migrations_apply_once(database: AsyncDatabase) -> None:
    real = discover_migrations(gateway.migrations)
    assert await apply_migrations(database, real, SETTINGS) == [migration.version for migration in real]
    assert await apply_migrations(database, real, SETTINGS) == []
    indexes = await database[LOCKS_COLLECTION].index_information()
    assert indexes["lease_expiry"]["expireAfterSeconds"] == 0
