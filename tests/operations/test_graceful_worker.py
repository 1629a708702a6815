"""Stopping the worker lets a running job finish within the grace period, and still stops an idle one."""

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web
from saq import Status

from gateway.app import create_app
from gateway.jobs import JobCatalogue, JobPolicy, create_worker, enqueue, job
from gateway.metrics import JOBS_PROCESSED
from gateway.settings import Settings
from gateway.state import SERVICES

WAIT_S = 15
_started = asyncio.Event()
_release = asyncio.Event()


@job(JobPolicy(retries=1, timeout_s=30))
async def send_receipt_slowly(ctx: dict[str, Any]) -> str:
    _started.set()
    await _release.wait()
    return "sent"


SLOW_JOBS = JobCatalogue(jobs=(send_receipt_slowly,), periodic=())


@pytest.fixture
def app(settings: Settings) -> web.Application:
    return create_app(settings, run_worker=False)


async def test_a_running_job_finishes_before_the_worker_stops(aiohttp_client, app: web.Application, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _started.clear()
    _release.clear()
    await aiohttp_client(app)
    # A starting worker sweeps the queue, and SAQ's sweep aborts a job caught between its dequeue and its marking as
    # active; sweeping first holds the queue's sweep lock (60 s) through this test.
    await app[SERVICES].queue.sweep()
    worker = create_worker(app[SERVICES], SLOW_JOBS)
    running = asyncio.create_task(worker.start())
    completed_before = JOBS_PROCESSED.labels("send_receipt_slowly", "complete")._value.get()
    job = await enqueue(app[SERVICES].queue, send_receipt_slowly)
    assert job is not None
    await asyncio.wait_for(_started.wait(), WAIT_S)

    stopping = asyncio.create_task(worker.stop())
    done, _ = await asyncio.wait({stopping}, timeout=0.3)
    assert not done, "stop returned while a job was still running"
    _release.set()
    await asyncio.wait_for(stopping, WAIT_S)
    await asyncio.wait_for(running, WAIT_S)

    await job.refresh()
    assert job.status == Status.COMPLETE
    assert job.result == "sent"
    assert JOBS_PROCESSED.labels("send_receipt_slowly", "complete")._value.get() == completed_before + 1


async def test_an_idle_worker_stops_without_waiting_out_the_grace_period(aiohttp_client, app: web.Application, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    await aiohttp_client(app)
    patient = settings.model_copy(update={"server": settings.server.model_copy(update={"shutdown_timeout_s": 50.0})})
    worker = create_worker(replace(app[SERVICES], settings=patient), SLOW_JOBS)
    running = asyncio.create_task(worker.start())
    await asyncio.wait_for(worker.stop(), WAIT_S)
    await asyncio.wait_for(running, WAIT_S)
