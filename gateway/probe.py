"""The periodic dependency probe: times every readiness check and reads the job backlog into the metrics."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from redis.exceptions import RedisError
from saq import Queue

from gateway.database import ping_mongodb
from gateway.jobs import queue_depth
from gateway.logs import get_logger
from gateway.metrics import DEPENDENCY_LATENCY, DEPENDENCY_UP, JOB_QUEUE_DEPTH
from gateway.services import Services

log = get_logger("lango.probe")
# A named dependency's check: it raises when the dependency cannot serve.
ReadinessCheck = Callable[[], Awaitable[None]]
CHECK_TIMEOUT_S = 5.0


async def probe_once(checks: Mapping[str, ReadinessCheck], queue: Queue) -> None:
    """Run each readiness check once, recording whether it passed and how long it took; then the queue depth."""
    await asyncio.gather(*(_timed_check(name, check) for name, check in dict(checks).items()))
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


def service_checks(services: Services) -> dict[str, ReadinessCheck]:
    """MongoDB and Redis answer, and a node holding sockets still hears from Redis."""

    async def mongodb_answers() -> None:
        await ping_mongodb(services.mongo)

    async def redis_answers() -> None:
        await services.redis.ping()

    checks: dict[str, ReadinessCheck] = {"mongodb": mongodb_answers, "redis": redis_answers}
    if services.hub is not None:
        checks["realtime"] = services.hub.ready
    return checks


@contextlib.asynccontextmanager
async def dependency_probe(checks: Mapping[str, ReadinessCheck], queue: Queue, interval_s: float) -> AsyncIterator[None]:
    """Probe every `interval_s` while the context lasts."""

    async def probe_forever() -> None:
        while True:
            await probe_once(checks, queue)
            # Python 3.11's wait_for swallows a cancellation that lands as its awaitable completes: a stop asked
            # during the checks would otherwise go unheard, and the shutdown wait for this task forever.
            if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                raise asyncio.CancelledError
            await asyncio.sleep(interval_s)

    task = asyncio.create_task(probe_forever(), name="dependency-probe")
    try:
        yield
    finally:
        task.cancel()
        # The task's own cancellation is its answer; one aimed at this waiter still reaches it.
        await asyncio.gather(task, return_exceptions=True)
