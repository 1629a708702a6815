"""The maps proxy: the vendor is called from the server with its key, answers are cached, each user is rate-limited."""

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel
from redis.exceptions import RedisError

from gateway.logs import get_logger
from gateway.problems import NotFound, ServiceUnavailable, ValidationFailed
from gateway.redis_client import redis_key
from gateway.security.callers import Caller
from gateway.services import Services
from providers.errors import ProviderMisconfigured, VendorRejected, VendorUnavailable
from providers.maps import LatLng

log = get_logger("lango.maps")
RATE_LIMIT = "maps_requests_per_user"
CACHE_VERSION = "1"
_NOT_FOUND_REASONS = frozenset({"NOT_FOUND", "ZERO_RESULTS"})
# A vendor in trouble (quota, outage) is asked again no sooner than this.
RETRY_AFTER_S = 30

AnswerT = TypeVar("AnswerT", bound=BaseModel)


class MapsUnavailable(ServiceUnavailable):
    slug, title = "maps-unavailable", "Maps are not available on this deployment"


class MapsVendorUnavailable(ServiceUnavailable):
    slug, title = "maps-vendor-unavailable", "The maps service is not answering; try again later"

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": str(RETRY_AFTER_S)})


class PlaceNotFound(NotFound):
    slug, title = "place-not-found", "No such place or route"


class MapsRequestRefused(ValidationFailed):
    slug, title = "maps-request-refused", "The maps service refused this request"


def normalized_text(text: str) -> str:
    """What makes two typed queries the same question: case and runs of spaces do not."""
    return " ".join(text.casefold().split())


def normalized_point(point: LatLng) -> str:
    # Five decimals are about a metre: closer points share an answer.
    return f"{point.lat:.5f},{point.lng:.5f}"


def cache_key(services: Services, operation: str, params: dict[str, Any]) -> str:
    """A key from the operation and its normalized parameters; session tokens are never part of it."""
    digest = hashlib.sha256(orjson.dumps(params, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return redis_key(services.settings.redis, "maps", CACHE_VERSION, services.maps.name, operation, digest)


async def answer(
    services: Services,
    caller: Caller,
    operation: str,
    params: dict[str, Any],
    model: type[AnswerT],
    fetch: Callable[[], Awaitable[BaseModel]],
) -> AnswerT:
    """The cached answer to `operation(params)`, or the vendor's through `fetch`, kept for the configured TTL."""
    if not services.maps.configured:
        raise MapsUnavailable("no maps vendor key is configured on this deployment")
    await services.limits.hit(RATE_LIMIT, caller.user_id)
    ttl_s = services.settings.maps.cache_ttl_s
    key = cache_key(services, operation, params)
    if ttl_s and (cached := await _cached(services, key)) is not None:
        return model.model_validate_json(cached)
    # The vendor's raw reply stays on the server: clients get the normalized fields only.
    fresh = model.model_validate((await _fetched(operation, fetch)).model_dump(exclude={"raw"}))
    if ttl_s:
        await _keep(services, key, fresh.model_dump_json(), ttl_s)
    return fresh


async def _fetched(operation: str, fetch: Callable[[], Awaitable[BaseModel]]) -> BaseModel:
    try:
        return await fetch()
    except ProviderMisconfigured as error:
        # Only the operator can fix this; the client learns no more than that maps are off.
        log.error("maps vendor refused our credentials", operation=operation, error=str(error), reason=error.reason)
        raise MapsUnavailable("the maps vendor refused this deployment's credentials") from None
    except VendorUnavailable as error:
        log.warning("maps vendor unavailable", operation=operation, error=str(error), reason=error.reason)
        raise MapsVendorUnavailable() from None
    except VendorRejected as error:
        if error.reason in _NOT_FOUND_REASONS:
            raise PlaceNotFound() from None
        raise MapsRequestRefused(f"the maps service answered {error.reason}") from None


async def _cached(services: Services, key: str) -> bytes | None:
    try:
        return await services.redis.get(key)
    except RedisError as error:
        # The cache only saves money: without it the vendor still answers.
        log.warning("maps cache unreadable", error=str(error))
        return None


async def _keep(services: Services, key: str, value: str, ttl_s: int) -> None:
    try:
        await services.redis.set(key, value, ex=ttl_s)
    except RedisError as error:
        log.warning("maps cache unwritable", error=str(error))
