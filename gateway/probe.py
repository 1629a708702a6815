"""The periodic dependency probe: times every readiness check and reads the job backlog into the metrics."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from aiohttp import web
from redis.exceptions import RedisError

from gateway.jobs import queue_depth
from gateway.logs import get_logger
from gateway.metrics import DEPENDENCY_LATENCY, DEPENDENCY_UP, JOB_QUEUE_DEPTH
from gateway.state import JOB_QUEUE, READINESS_CHECKS, SETTINGS, ReadinessCheck

log = get_logger("lango.probe")
CHECK_TIMEOUT_S = 5.0


async def probe_once(app: web.Application) -> None:
    """Run each readiness check once, recording whether it passed and how long it took; then the queue depth."""
    checks = dict(app[READINESS_CHECKS])
    await asyncio.gather(*(_timed_check(name, check) for name, check in checks.items()))
    queue = app[JOB_QUEUE]
    try:
        JOB_QUEUE_DEPTH.labels(queue.name).set(await asyncio.wait_for(queue_depth(queue), CHECK_TIMEOUT_S))
    except (RedisError, OSError, TimeoutError) as error:
        log.warning("job queue depth unreadable", error=str(error))


async def _timed_check(name: str, check: ReadinessCheck) -> None:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
    except Exception as error:  # a probe reports every failure as "down", whatever its kind
        DEPENDENCY_UP.labels(name).set(0)
        log.warning("dependency check failed", dependency=name, error=type(error).__name__)
        return
    DEPENDENCY_LATENCY.labels(name).observe(time.perf_counter() - started)
    DEPENDENCY_UP.labels(name).set(1)


async def dependency_probe(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context: probe every `metrics.probe_interval_s` while the application runs."""
    interval = app[SETTINGS].metrics.probe_interval_s

    async def probe_forever() -> None:
        while True:
            await probe_once(app)
            await asyncio.sleep(interval)

    task = asyncio.create_task(probe_forever(), name="dependency-probe")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
