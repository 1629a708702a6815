"""Notification tests: the gateway wired to real vendor emulators, and helpers to run delivery jobs."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from saq import Job

from documents.notification import Channel, Notification
from gateway.app import create_app
from gateway.notifications.delivery import deliver_notification
from gateway.state import SERVICES
from providers.emulators import serve_emulator
from providers.emulators.africastalking import AfricasTalkingEmulator
from tests.conftest import make_settings

Start = Callable[..., Awaitable[TestClient]]
JOB_WAIT_S = 20
AT_USERNAME, AT_KEY = "sandbox", "at-test-key"


@pytest.fixture
def start(aiohttp_client, mongodb_url: str, redis_url: str) -> Start:  # type: ignore[no-untyped-def]
    """Start the gateway with settings overrides; `run_worker=True` runs the job worker inside it."""

    def build(run_worker: bool, overrides: dict[str, Any]) -> web.Application:
        return create_app(make_settings(mongodb_url, redis_url, **overrides), run_worker=run_worker)

    async def started(*, run_worker: bool = False, **overrides: Any) -> TestClient:
        # Building the app compiles the OpenAPI document and, the first time, imports every handler: not on the loop.
        return await aiohttp_client(await asyncio.to_thread(build, run_worker, overrides))

    return started


@pytest.fixture
async def africastalking() -> AsyncIterator[tuple[AfricasTalkingEmulator, dict[str, Any]]]:
    """The Africa's Talking emulator and the `sms` settings that point the gateway at it."""
    emulator = AfricasTalkingEmulator(username=AT_USERNAME, api_key=AT_KEY)
    async with serve_emulator(emulator.app) as base_url:
        settings = {"provider": "africastalking", "africastalking": {"username": AT_USERNAME, "api_key": AT_KEY, "base_url": base_url}}
        yield emulator, settings


async def deliver(app: web.Application, notification: Notification, channel: Channel) -> str | None:
    """Run the delivery job in the test itself, as the worker would."""
    return await deliver_notification({"services": app[SERVICES]}, notification_id=str(notification.id), channel=channel.value)


async def queued_job(app: web.Application, key: str) -> Job:
    job = await app[SERVICES].queue.job(key)
    assert job is not None, f"no job {key}"
    return job


async def finished_delivery(app: web.Application, notification: Notification, channel: Channel) -> Notification:
    """Wait for the worker to finish the delivery job, then read the notification back."""
    job = await queued_job(app, f"notification:{notification.id}:{channel}")
    await job.refresh(until_complete=JOB_WAIT_S)
    stored = await Notification.get(notification.id)
    assert stored is not None
    return stored
