"""The job queue runs real jobs through Redis: immediately, delayed, retried, periodically, and cancelled."""

import asyncio
import contextlib
import time
from typing import Any

from aiohttp import web
from redis.asyncio import Redis
from saq import Status

from gateway.app import create_app
from gateway.jobs import JOBS, EmbeddedWorker, JobCatalogue, JobPolicy, abort_job, create_queue, create_worker, enqueue
from gateway.settings import Settings
from gateway.redis_client import redis_key
from gateway.state import JOB_QUEUE, REDIS, SETTINGS

WAIT_S = 15


@JOBS.job(JobPolicy(retries=1))
async def record_greeting(ctx: dict[str, Any], name: str) -> str:
    app = ctx["app"]
    await app[REDIS].rpush(redis_key(app[SETTINGS].redis, "greetings"), name)
    return f"hello {name}"


@JOBS.job(JobPolicy(retries=3, retry_delay_s=0.05, max_retry_delay_s=0.2))
async def flaky_delivery(ctx: dict[str, Any], failures: int) -> int:
    app = ctx["app"]
    attempt = await app[REDIS].incr(redis_key(app[SETTINGS].redis, "flaky-attempts"))
    if attempt <= failures:
        raise ConnectionError(f"vendor down on attempt {attempt}")
    return attempt


async def _started(aiohttp_client, settings: Settings) -> web.Application:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(create_app(settings, run_worker=True))
    return client.app


async def test_a_queued_job_runs_on_the_worker(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    app = await _started(aiohttp_client, settings)
    job = await enqueue(app[JOB_QUEUE], record_greeting, name="amani")
    assert job is not None
    await job.refresh(until_complete=WAIT_S)
    assert job.status == Status.COMPLETE
    assert job.result == "hello amani"
    assert await app[REDIS].lrange(redis_key(settings.redis, "greetings"), 0, -1) == [b"amani"]


async def test_a_failing_job_is_retried_until_it_succeeds(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    app = await _started(aiohttp_client, settings)
    job = await enqueue(app[JOB_QUEUE], flaky_delivery, failures=2)
    assert job is not None
    await job.refresh(until_complete=WAIT_S)
    assert job.status == Status.COMPLETE
    assert job.result == 3


async def test_a_job_that_keeps_failing_ends_failed_with_its_reason(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    app = await _started(aiohttp_client, settings)
    job = await enqueue(app[JOB_QUEUE], flaky_delivery, failures=10)
    assert job is not None
    await job.refresh(until_complete=WAIT_S)
    assert job.status == Status.FAILED
    assert "vendor down on attempt 3" in (job.error or "")


async def test_a_delayed_job_waits_for_its_time(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    app = await _started(aiohttp_client, settings)
    due = time.time() + 2
    job = await enqueue(app[JOB_QUEUE], record_greeting, at=due, name="later")
    assert job is not None
    await job.refresh(until_complete=WAIT_S)
    assert job.status == Status.COMPLETE
    assert job.started / 1000 >= int(due)


async def test_a_cancelled_job_never_runs(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    app = await _started(aiohttp_client, settings)
    job = await enqueue(app[JOB_QUEUE], record_greeting, key="reminder-42", at=time.time() + 60, name="never")
    assert job is not None
    await abort_job(app[JOB_QUEUE], job.key)
    await job.refresh()
    assert job.status in (Status.ABORTING, Status.ABORTED)
    assert await app[REDIS].llen(redis_key(settings.redis, "greetings")) == 0


async def test_a_periodic_job_runs_on_its_schedule(settings: Settings, redis: Redis) -> None:
    ticks: asyncio.Queue[float] = asyncio.Queue()
    catalogue = JobCatalogue()

    @catalogue.every("* * * * * *")
    async def tick(ctx: dict[str, Any]) -> None:
        ticks.put_nowait(time.time())

    queue = create_queue(settings)
    await queue.connect()
    worker = create_worker(web.Application(), queue, settings, worker_class=EmbeddedWorker, catalogue=catalogue)
    running = asyncio.create_task(worker.start())
    try:
        first = await asyncio.wait_for(ticks.get(), WAIT_S)
        second = await asyncio.wait_for(ticks.get(), WAIT_S)
        assert second > first
    finally:
        await worker.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await queue.disconnect()
