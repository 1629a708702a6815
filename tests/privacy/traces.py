"""Searching everything the product stores (every collection, every Redis key, the file store) for a person."""

from pathlib import Path

from bson import json_util
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from gateway.settings import Settings


def _found(text: str, needles: list[str]) -> list[str]:
    folded = text.lower()
    return [needle for needle in needles if needle.lower() in folded]


async def in_collections(mongo: AsyncMongoClient, settings: Settings, needles: list[str]) -> list[str]:
    """`collection _id: needles` for every stored document that holds one of `needles` anywhere."""
    database = mongo[settings.mongodb.database]
    hits = []
    for name in await database.list_collection_names():
        async for document in database[name].find():
            if found := _found(json_util.dumps(document), needles):
                hits.append(f"{name} {document.get('_id')}: {found}")
    return hits


async def in_redis(redis: Redis, settings: Settings, needles: list[str]) -> list[str]:
    """Every key of the deployment (its own and its job queue's) whose name or value holds one of `needles`."""
    hits = []
    namespace = settings.redis.namespace
    keys = [
        key
        for pattern in (f"{namespace}:*", f"saq:{namespace}:*")
        async for key in redis.scan_iter(match=pattern, count=500)
    ]
    for key in keys:
        kind = (await redis.type(key)).decode()
        if kind == "string":
            value = repr(await redis.get(key))
        elif kind == "list":
            value = repr(await redis.lrange(key, 0, -1))
        elif kind == "set":
            value = repr(await redis.smembers(key))
        elif kind == "zset":
            value = repr(await redis.zrange(key, 0, -1))
        elif kind == "hash":
            value = repr(await redis.hgetall(key))
        elif kind == "stream":
            value = repr(await redis.xrange(key))
        else:
            value = ""
        if found := _found(key.decode(errors="replace") + value, needles):
            hits.append(f"{key!r} ({kind}): {found}")
    return hits


def in_files(root: Path, needles: list[str]) -> list[str]:
    """Every stored object whose key or bytes hold one of `needles`."""
    hits = []
    for path in root.rglob("*") if root.exists() else []:
        if path.is_file():
            text = str(path.relative_to(root)) + path.read_bytes().decode("latin-1")
            if found := _found(text, needles):
                hits.append(f"{path.relative_to(root)}: {found}")
    return hits
