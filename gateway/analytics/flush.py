"""Sending queued product events to the analytics vendor in batches, leaving out users who opted out."""

from typing import Any

from pydantic import ValidationError

from documents.analytics_opt_out import AnalyticsOptOut
from gateway.analytics.tracking import queue_key
from gateway.jobs import every
from gateway.logs import get_logger
from gateway.services import Services
from providers.analytics import AnalyticsEvent
from providers.errors import ProviderMisconfigured, VendorRejected, VendorUnavailable

log = get_logger("lango.analytics")


async def flush_events(services: Services) -> int:
    """Send what is queued, a batch at a time, up to `analytics.flush_batches`; answers how many events went.

    A batch is taken off the queue before it is sent: a process dying mid-send loses that batch rather than
    sending it twice. A vendor that cannot take it now gets it back at the head of the queue for the next flush.
    """
    sink = services.analytics
    if not sink.configured:
        return 0
    settings = services.settings.analytics
    redis, key = services.redis, queue_key(services)
    sent = 0
    for _ in range(settings.flush_batches):
        async with redis.pipeline(transaction=True) as pipe:
            pipe.lrange(key, 0, settings.posthog.max_batch_size - 1)
            pipe.ltrim(key, settings.posthog.max_batch_size, -1)
            raw, _ = await pipe.execute()
        if not raw:
            break
        events = await _consenting(services, _parsed(raw))
        if not events:
            continue
        try:
            await sink.capture_batch(events)
        except VendorUnavailable as error:
            await redis.lpush(key, *reversed(raw))
            log.warning("analytics vendor unavailable; batch kept for the next flush", error=str(error))
            break
        except (VendorRejected, ProviderMisconfigured) as error:
            log.error("analytics batch refused and dropped", events=len(events), error=str(error), reason=error.reason)
            continue
        sent += len(events)
    return sent


def _parsed(raw: list[bytes]) -> list[AnalyticsEvent]:
    events = []
    for item in raw:
        try:
            events.append(AnalyticsEvent.model_validate_json(item))
        except ValidationError:
            log.warning("unreadable analytics event dropped")
    return events


async def _consenting(services: Services, events: list[AnalyticsEvent]) -> list[AnalyticsEvent]:
    # Checked when sending, so an event queued just before its user opted out is not sent either.
    opted_out = await AnalyticsOptOut.excluded_among(
        sorted({event.distinct_id for event in events}), default=services.settings.privacy.analytics_default_on
    )
    return [event for event in events if event.distinct_id not in opted_out]


@every("* * * * * */10")
async def flush_analytics(ctx: dict[str, Any]) -> int:
    return await flush_events(ctx["services"])
