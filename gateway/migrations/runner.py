"""Apply pending migrations in order, once each, from any number of concurrent `lango migrate` runs.

One lock document (`migration_locks`, `_id` "migrate") with a lease serialises the runs: the holder applies
what is pending and records each success in `migrations`; the others wait for the lock, then find nothing
left to do. A migration that raises is not recorded, stops the run, and is tried again by the next run.
A holder that dies leaves a lease that expires; a live holder renews its lease while it works.
"""

import asyncio
import contextlib
import importlib
import pkgutil
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gateway.logs import get_logger
from gateway.settings import Settings

log = get_logger("lango.migrations")

MIGRATIONS_COLLECTION = "migrations"
LOCKS_COLLECTION = "migration_locks"
LOCK_ID = "migrate"
LEASE_S = 120.0
LOCK_WAIT_S = 900.0
LOCK_RETRY_S = 0.5
_MODULE_NAME = re.compile(r"^m(\d{4})_(\w+)$")


class MigrationLockTimeout(Exception):
    """Another run held the migration lock for longer than this run would wait."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    up: Callable[[AsyncDatabase, Settings], Awaitable[None]]


def discover_migrations(package: ModuleType) -> list[Migration]:
    """Every `mNNNN_name` module of `package`, by number; a number used twice is a mistake caught here."""
    found: dict[str, Migration] = {}
    for module_info in pkgutil.iter_modules(package.__path__):
        match = _MODULE_NAME.match(module_info.name)
        if match is None:
            continue
        version, name = match.groups()
        if version in found:
            raise ValueError(f"two migrations numbered {version}: {found[version].name} and {name}")
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        found[version] = Migration(version, name, module.up)
    return [found[version] for version in sorted(found)]


async def apply_migrations(
    database: AsyncDatabase, migrations: Sequence[Migration], settings: Settings, *, lock_wait_s: float = LOCK_WAIT_S
) -> list[str]:
    """Apply the pending ones in order, each given the settings it may need (a key, say); answer those applied."""
    async with _migration_lock(database, lock_wait_s):
        records = database[MIGRATIONS_COLLECTION]
        done = {record["_id"] async for record in records.find({}, {"_id": 1})}
        applied: list[str] = []
        for migration in migrations:
            if migration.version in done:
                continue
            log.info("applying migration", version=migration.version, name=migration.name)
            started = time.perf_counter()
            await migration.up(database, settings)
            await records.insert_one(
                {
                    "_id": migration.version,
                    "name": migration.name,
                    "applied_at": datetime.now(UTC),
                    "duration_s": round(time.perf_counter() - started, 3),
                }
            )
            applied.append(migration.version)
        return applied


@contextlib.asynccontextmanager
async def _migration_lock(database: AsyncDatabase, wait_s: float) -> AsyncIterator[None]:
    locks = database[LOCKS_COLLECTION]
    owner = f"{socket.gethostname()}:{uuid.uuid4().hex[:12]}"
    deadline = time.monotonic() + wait_s
    while not await _try_claim(locks, owner):
        if time.monotonic() > deadline:
            raise MigrationLockTimeout(f"the migration lock stayed held for {wait_s:.0f}s")
        await asyncio.sleep(LOCK_RETRY_S)
    renewal = asyncio.create_task(_renew_lease(locks, owner), name="migration-lease")
    try:
        yield
    finally:
        renewal.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewal
        await locks.delete_one({"_id": LOCK_ID, "owner": owner})


async def _try_claim(locks: AsyncCollection, owner: str) -> bool:
    """Take the lock when it is free or its lease ran out; the unique `_id` makes two claims impossible."""
    now = datetime.now(UTC)
    try:
        await locks.update_one(
            {"_id": LOCK_ID, "expires_at": {"$lt": now}},
            {"$set": {"owner": owner, "claimed_at": now, "expires_at": now + timedelta(seconds=LEASE_S)}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False
    return True


async def _renew_lease(locks: AsyncCollection, owner: str) -> None:
    while True:
        await asyncio.sleep(LEASE_S / 3)
        await locks.update_one(
            {"_id": LOCK_ID, "owner": owner},
            {"$set": {"expires_at": datetime.now(UTC) + timedelta(seconds=LEASE_S)}},
        )
