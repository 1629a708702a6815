"""The job queue runs real jobs through Redis: immediately, delayed, retried, periodically, and cancelled."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from saq import Status

from gateway.app import create_app
from gateway.composition import JOBS
from gateway.jobs import EmbeddedWorker, JobCatalogue, JobPolicy, abort_job, create_worker, enqueue, every, job
from gateway.redis_client import redis_key
from gateway.services import Services
from gateway.settings import Settings
from gateway.state import SERVICES

WAIT_S = 15


@job(JobPolicy(retries=1))
async def record_greeting(ctx: dict[str, Any], name: str) -> str:
    services = ctx["services"]
    await services.redis.rpush(redis_key(services.settings.redis, "greetings"), name)
    return f"hello {name}"


@job(JobPolicy(retries=3, retry_delay_s=0.05, max_retry_delay_s=0.2))
async def flaky_delivery(ctx: dict[str, Any], failures: int) -> int:
    services = ctx["services"]
    attempt = await services.redis.incr(redis_key(services.settings.redis, "flaky-attempts"))
    if attempt <= failures:
        raise ConnectionError(f"vendor down on attempt {attempt}")
    return attempt


@every("* * * * * *")
async def tick(ctx: dict[str, Any]) -> None:
    TICKS.put_nowait(time.time())


TICKS: asyncio.Queue[float] = asyncio.Queue()


@contextlib.asynccontextmanager
async def _worker(services: Services, catalogue: JobCatalogue) -> AsyncIterator[None]:
    worker = create_worker(services, catalogue, worker_class=EmbeddedWorker)
    running = asyncio.create_task(worker.start())
    try:
        yield
    finally:
        await worker.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await running


@pytest.fixture
async def app(aiohttp_client, settings: Settings) -> AsyncIterator[web.Application]:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(create_app(settings, run_worker=False))
    async with _worker(client.app[SERVICES], JobCatalogue(jobs=(record_greeting, flaky_delivery), periodic=())):
        yield client.app


async def test_a_queued_job_runs_on_the_worker(app: web.Application, settings: Settings) -> None:
    job = await enqueue(app[SERVICES].queue, record_greeting, name="amani")
    assert job is not None
    await job.refresh(until_complete=WAIT_S)
    assert job.status == Status.COMPLETE
    assert job.result == "hello amani"
    assert await app[SERVICES].redis.lrange(redis_key(settings.redis, "greetings"), 0, -1) == [b"amani"]


async def test_a_failing_job_is_retried_until_it_succeeds(app: web.Application, settings: Settings) -> None:
    job = await enqueue(app[SERVICES].queue, flaky_delivery, failures=2)
    assert job is not None
    await job.refresh(until_complete=WAIT_S)
    assert job.status == Status.COMPLETE
    assert job.result == 3


async def test_a_job_that_keeps_failing_ends_failed_with_its_reason(app: web.Application, settings: Settings) -> None:
    job = await enqueue(app[SERVICES].queue, flaky_delivery, failures=10)
    assert job is not None
    await job.refresh(until_complete=WAIT_S)
    assert job.status == Status.FAILED
    assert "vendor down on attempt 3" in (job.error or "")


async def test_a_delayed_job_waits_for_its_time(app: web.Application) -> None:
    due = time.time() + 2
    job = await enqueue(app[SERVICES].queue, record_greeting, at=due, name="later")
    assert job is not None
    await job.refresh(until_complete=WAIT_S)
    assert job.status == Status.COMPLETE
    assert job.started / 1000 >= int(due)


async def test_a_cancelled_job_never_runs(app: web.Application, settings: Settings) -> None:
    job = await enqueue(app[SERVICES].queue, record_greeting, key="reminder-42", at=time.time() + 60, name="never")
    assert job is not None
    await abort_job(app[SERVICES].queue, job.key)
    await job.refresh()
    assert job.status in (Status.ABORTING, Status.ABORTED)
    assert await app[SERVICES].redis.llen(redis_key(settings.redis, "greetings")) == 0


async def test_a_periodic_job_runs_on_its_schedule(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(create_app(settings, run_worker=False))
    async with _worker(client.app[SERVICES], JobCatalogue(jobs=(), periodic=(tick,))):
        first = await asyncio.wait_for(TICKS.get(), WAIT_S)
        second = await asyncio.wait_for(TICKS.get(), WAIT_S)
    assert second > first


def test_every_job_the_worker_runs_is_marked_and_none_is_listed_twice() -> None:
    names = [function.__name__ for function in (*JOBS.jobs, *JOBS.periodic)]
    assert len(names) == len(set(names))
    with pytest.raises(ValueError, match="record_greeting"):
        JobCatalogue(jobs=(), periodic=(record_greeting,))
