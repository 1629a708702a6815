"""Push fallback: an offline user's burst of events under one collapse key becomes one push with the latest."""

import time
from typing import Any

import orjson
from saq import Queue

from documents.device import Device
from gateway.jobs import JobPolicy, enqueue, job
from gateway.logs import get_logger
from gateway.messaging.bus import MessageBus, Published
from gateway.metrics import EVENTS_DELIVERED, PUSHES_SENT, count_push
from gateway.services import Services
from providers.push.base import PushMessage

log = get_logger("lango.realtime.push")


def install_push_fallback(bus: MessageBus, queue: Queue, debounce_s: float) -> None:
    """Subscribe the fallback: the first offline event of a burst schedules the push for the end of the window."""

    async def schedule_push(published: Published) -> None:
        if not published.push_burst_started or published.collapse_key is None:
            return
        user_id = published.target.removeprefix("user:")
        await enqueue(
            queue,
            send_pending_push,
            key=f"push:{published.target}:{published.collapse_key}:{published.event_id}",
            at=time.time() + debounce_s,
            user_id=user_id,
            collapse_key=published.collapse_key,
        )

    bus.subscribe(schedule_push)


@job(JobPolicy(retries=3, retry_delay_s=5.0, timeout_s=30))
async def send_pending_push(ctx: dict[str, Any], *, user_id: str, collapse_key: str) -> None:
    """Take the burst's latest event (later events start a new burst) and push it to the user's devices."""
    services: Services = ctx["services"]
    pending = await services.redis.getdel(services.bus.keys.pending_push(user_id, collapse_key))
    if pending is None:
        return
    held = orjson.loads(pending)
    event, notice = held["event"], held["notice"]
    tokens = await Device.tokens_of(user_id)
    if not tokens:
        PUSHES_SENT.labels("no_device").inc()
        log.info("offline user has no device for push", user_id=user_id, event_type=event["type"])
        return
    message = PushMessage(
        tokens=tuple(tokens),
        title=notice["title"],
        body=notice["body"],
        data={"event_id": str(event["id"]), "type": event["type"], "room": event["room"]},
        collapse_key=collapse_key,
        priority="high",
        kind=event["type"].replace(".", "_"),
    )
    result = await services.push.send(message)
    await Device.forget(result.tokens_to_remove)
    count_push(len(result.delivered_tokens))
    if result.delivered_tokens:
        EVENTS_DELIVERED.labels("push").inc()
    log.info("push sent", user_id=user_id, event_id=event["id"], devices=len(result.delivered_tokens))
