"""Search pages cached in Redis under a version counter: any listing or availability change bumps it, so every
cached page is left behind at once (and expires on its own)."""

import hashlib

from aiohttp import web

from gateway.state import REDIS, SETTINGS


def _version_key(app: web.Application) -> str:
    return f"{app[SETTINGS].redis.namespace}:search:version"


async def bump_search_version(app: web.Application) -> None:
    """Invalidate every cached search page: a listing, or a property's free nights, changed."""
    await app[REDIS].incr(_version_key(app))


async def cached_page(app: web.Application, query_key: str) -> tuple[str, bytes | None]:
    """The cache key for this query at the current version, and the page stored under it if any."""
    version = int(await app[REDIS].get(_version_key(app)) or 0)
    digest = hashlib.sha256(query_key.encode()).hexdigest()
    key = f"{app[SETTINGS].redis.namespace}:search:page:{version}:{digest}"
    return key, await app[REDIS].get(key)


async def store_page(app: web.Application, key: str, page: bytes) -> None:
    ttl_s = app[SETTINGS].bookings.search_cache_ttl_s
    if ttl_s:
        await app[REDIS].set(key, page, ex=ttl_s)
