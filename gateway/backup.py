"""`lango backup` and `lango restore`: every collection to one gzip'd archive of canonical Extended JSON, and back.

The archive is JSON lines (readable with `zcat | jq`): a header, then per collection a section line (its
options and indexes) followed by one line per document, and last a manifest with each collection's count
and checksum. The checksum covers the exact BSON of every document, so a restore proves it lost nothing:
types (int32/int64/Decimal128/dates/ObjectIds/binaries) included. Compression and parsing run in threads.
"""

import asyncio
import gzip
import hashlib
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import bson
from bson import json_util
from bson.codec_options import CodecOptions, DatetimeConversion
from bson.json_util import JSONMode, JSONOptions
from bson.raw_bson import RawBSONDocument
from pymongo import IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from gateway.database import create_mongo_client
from gateway.logs import get_logger
from gateway.settings import Settings
from gateway.vendors.adapters import create_store

log = get_logger("lango.backup")

ARCHIVE_FORMAT = "lango-backup/1"
ARCHIVE_CONTENT_TYPE = "application/gzip"
BATCH_SIZE = 1000
_RAW = CodecOptions(document_class=RawBSONDocument)
_DECODE = CodecOptions(tz_aware=True, tzinfo=UTC, datetime_conversion=DatetimeConversion.DATETIME_AUTO)
_EJSON = JSONOptions(
    json_mode=JSONMode.CANONICAL, tz_aware=True, tzinfo=UTC, datetime_conversion=DatetimeConversion.DATETIME_AUTO
)
# Index fields that describe the index rather than configure it.
_INDEX_DESCRIPTION_FIELDS = {"v", "key", "ns"}


class BackupError(Exception):
    """The archive is unusable (truncated, altered, another format) or the target database is not empty."""


def collection_digest(raw_documents: Iterable[bytes]) -> str:
    """A checksum of a collection's documents, independent of their order."""
    digests = sorted(hashlib.sha256(raw).digest() for raw in raw_documents)
    return hashlib.sha256(b"".join(digests)).hexdigest()


def _line(value: Any) -> bytes:
    return json_util.dumps(value, json_options=_EJSON).encode() + b"\n"


def _document_lines(raw_documents: list[bytes]) -> bytes:
    return b"".join(_line({"d": bson.decode(raw, _DECODE)}) for raw in raw_documents)


async def dump_database(database: AsyncDatabase) -> tuple[bytes, dict[str, dict[str, Any]]]:
    """The whole database as archive bytes, and its manifest {collection: {count, sha256}}."""
    buffer = io.BytesIO()
    archive = gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0)
    header = {"format": ARCHIVE_FORMAT, "database": database.name, "created_at": datetime.now(UTC)}
    await asyncio.to_thread(archive.write, _line(header))
    manifest: dict[str, dict[str, Any]] = {}
    async for info in await database.list_collections(filter={"type": "collection"}):
        name = info["name"]
        if name.startswith("system."):
            continue
        collection = database.get_collection(name, codec_options=_RAW)
        indexes = [_index_spec(index) async for index in await collection.list_indexes() if index["name"] != "_id_"]
        section = {"collection": name, "options": info.get("options", {}), "indexes": indexes}
        await asyncio.to_thread(archive.write, _line(section))
        raw_documents: list[bytes] = []
        batch: list[bytes] = []
        async for document in collection.find({}, batch_size=BATCH_SIZE):
            batch.append(document.raw)
            if len(batch) == BATCH_SIZE:
                await asyncio.to_thread(archive.write, await asyncio.to_thread(_document_lines, batch))
                raw_documents += batch
                batch = []
        await asyncio.to_thread(archive.write, await asyncio.to_thread(_document_lines, batch))
        raw_documents += batch
        manifest[name] = {"count": len(raw_documents), "sha256": await asyncio.to_thread(collection_digest, raw_documents)}
    await asyncio.to_thread(archive.write, _line({"manifest": manifest}))
    await asyncio.to_thread(archive.close)
    return buffer.getvalue(), manifest


def _index_spec(index: Any) -> dict[str, Any]:
    spec = bson.decode(index.raw) if isinstance(index, RawBSONDocument) else dict(index)
    return {"keys": list(spec["key"].items()), "options": {k: v for k, v in spec.items() if k not in _INDEX_DESCRIPTION_FIELDS}}


def read_archive(data: bytes) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Parse and verify an archive: its sections with raw BSON documents, and the manifest they match."""
    try:
        lines = gzip.decompress(data).splitlines()
        records = [json_util.loads(line, json_options=_EJSON) for line in lines if line]
    except (OSError, EOFError, ValueError) as error:
        raise BackupError(f"the archive is not readable: {error}") from None
    if not records or records[0].get("format") != ARCHIVE_FORMAT:
        raise BackupError(f"not a {ARCHIVE_FORMAT} archive")
    if "manifest" not in records[-1]:
        raise BackupError("the archive has no manifest: it was cut short")
    manifest: dict[str, dict[str, Any]] = records[-1]["manifest"]
    sections: list[dict[str, Any]] = []
    for record in records[1:-1]:
        if "collection" in record:
            sections.append({**record, "documents": []})
        else:
            sections[-1]["documents"].append(bson.encode(record["d"]))
    for section in sections:
        expected = manifest.get(section["collection"], {})
        found = {"count": len(section["documents"]), "sha256": collection_digest(section["documents"])}
        if found != expected:
            raise BackupError(f"collection {section['collection']} does not match the manifest")
    return sections, manifest


async def load_database(database: AsyncDatabase, data: bytes) -> dict[str, dict[str, Any]]:
    """Load an archive into an empty database; answer its manifest."""
    occupied = [name for name in await database.list_collection_names() if await database[name].find_one({}, {"_id": 1})]
    if occupied:
        raise BackupError(f"restore needs an empty database; {database.name} has data in {', '.join(sorted(occupied))}")
    sections, manifest = await asyncio.to_thread(read_archive, data)
    existing = set(await database.list_collection_names())
    for section in sections:
        name = section["collection"]
        if name not in existing:
            await database.create_collection(name, **section["options"])
        collection = database.get_collection(name, codec_options=_RAW)
        documents = section["documents"]
        for start in range(0, len(documents), BATCH_SIZE):
            await collection.insert_many([RawBSONDocument(raw) for raw in documents[start : start + BATCH_SIZE]])
        if section["indexes"]:
            await collection.create_indexes(
                [IndexModel(index["keys"], **index["options"]) for index in section["indexes"]]
            )
    return manifest


async def create_backup(settings: Settings) -> str:
    """Write a backup of the configured database into the configured storage; answer its key."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    key = f"{settings.backup.prefix}/{settings.mongodb.database}-{stamp}.jsonl.gz"
    client = create_mongo_client(settings.mongodb)
    store = create_store(settings)
    try:
        data, manifest = await dump_database(client[settings.mongodb.database])
        await store.put(key, data, ARCHIVE_CONTENT_TYPE)
    finally:
        await store.close()
        await client.close()
    log.info("backup written", key=key, bytes=len(data), collections={name: m["count"] for name, m in manifest.items()})
    return key


async def restore_backup(settings: Settings, key: str) -> dict[str, dict[str, Any]]:
    """Load the backup `key` into the configured database, which must be empty; migrate runs afterwards."""
    client = create_mongo_client(settings.mongodb)
    store = create_store(settings)
    try:
        data = await store.get(key)
        manifest = await load_database(client[settings.mongodb.database], data)
    finally:
        await store.close()
        await client.close()
    log.info("backup restored", key=key, collections={name: m["count"] for name, m in manifest.items()})
    return manifest
