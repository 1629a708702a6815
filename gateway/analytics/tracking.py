"""Product events: the closed set the gateway tracks, and `track`, which queues one in Redis for the flusher."""

import uuid
from collections.abc import Mapping
from enum import StrEnum

from pydantic import ValidationError
from redis.exceptions import RedisError

from gateway.logs import get_logger
from gateway.redis_client import redis_key
from gateway.services import Services
from providers.analytics import AnalyticsEvent, PropertyValue

log = get_logger("lango.analytics")
# Retried or replayed flows name an occurrence; the same name gives the same uuid, which PostHog deduplicates.
_OCCURRENCE_NAMESPACE = uuid.UUID("6f1c3a52-8d2e-4b7a-9e0f-2a4c6b8d0e13")


class ProductEvent(StrEnum):
    SIGNUP = "signup"
    SEARCH = "search"
    BOOKING_CREATED = "booking_created"
    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_CANCELLED = "booking_cancelled"
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    TICKET_SOLD = "ticket_sold"
    TICKET_SCANNED = "ticket_scanned"


# Ids, counts, amounts and closed-set labels: nothing a person typed, nothing that names or locates them.
ALLOWED_PROPERTIES = frozenset(
    {
        "booking_id",
        "property_id",
        "payment_id",
        "event_id",
        "ticket_id",
        "nights",
        "guests",
        "amount_minor",
        "currency",
        "method",
        "provider",
        "role",
        "results",
        "page",
        "cancelled_by",
        "reason",
        "outcome",
    }
)


def queue_key(services: Services) -> str:
    return redis_key(services.settings.redis, "analytics", "queue")


async def track(
    services: Services,
    event: ProductEvent,
    user_id: str,
    properties: Mapping[str, PropertyValue] | None = None,
    *,
    occurrence: str | None = None,
) -> None:
    """Queue `event` about `user_id` for the next flush: one Redis write, never an error for the caller.

    Properties outside ALLOWED_PROPERTIES are dropped. `occurrence` names what happened once (a booking id),
    so the same occurrence tracked twice is counted once.
    """
    if not services.analytics.configured:
        return
    given = dict(properties or {})
    kept = {name: value for name, value in given.items() if name in ALLOWED_PROPERTIES}
    if len(kept) != len(given):
        log.warning("analytics properties dropped", analytics_event=event.value, dropped=sorted(set(given) - set(kept)))
    try:
        captured = AnalyticsEvent(event=event.value, distinct_id=user_id, properties=kept)
    except ValidationError as error:
        # The error's text quotes the input, which is exactly what must not reach a log.
        fields = sorted({".".join(str(part) for part in problem["loc"]) for problem in error.errors()})
        log.warning("analytics event refused", analytics_event=event.value, fields=fields)
        return
    if occurrence is not None:
        same_uuid = uuid.uuid5(_OCCURRENCE_NAMESPACE, f"{event.value}:{occurrence}")
        captured = captured.model_copy(update={"uuid": same_uuid})
    key = queue_key(services)
    try:
        async with services.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, captured.model_dump_json())
            # Bounded: when the vendor is down for long, the oldest events go first.
            pipe.ltrim(key, -services.settings.analytics.queue_max_events, -1)
            await pipe.execute()
    except RedisError as error:
        log.warning("analytics event not queued", analytics_event=event.value, error=str(error))
