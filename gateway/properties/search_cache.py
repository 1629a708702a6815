"""Search pages cached in Redis under a version counter: any listing or availability change bumps it, so every
cached page is left behind at once (and expires on its own)."""

import hashlib

from gateway.services import Services


def _version_key(services: Services) -> str:
    return f"{services.settings.redis.namespace}:search:version"


async def bump_search_version(services: Services) -> None:
    """Invalidate every cached search page: a listing, or a property's free nights, changed."""
    await services.redis.incr(_version_key(services))


async def cached_page(services: Services, query_key: str) -> tuple[str, bytes | None]:
    """The cache key for this query at the current version, and the page stored under it if any."""
    version = int(await services.redis.get(_version_key(services)) or 0)
    digest = hashlib.sha256(query_key.encode()).hexdigest()
    key = f"{services.settings.redis.namespace}:search:page:{version}:{digest}"
    return key, await services.redis.get(key)


async def store_page(services: Services, key: str, page: bytes) -> None:
    ttl_s = services.settings.bookings.search_cache_ttl_s
    if ttl_s:
        await services.redis.set(key, page, ex=ttl_s)
