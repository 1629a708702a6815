"""GET /metrics: the exposition format, HTTP latency by route template, sockets, events and pushes counted as they
happen, the probe, access control."""

import asyncio
import contextlib
import re
from typing import Any

import pytest
import socketio
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from pymongo import AsyncMongoClient

from gateway.app import create_app
from gateway.messaging import PushNotice, user_room
from gateway.probe import dependency_probe, probe_once
from gateway.realtime.push import send_pending_push
from gateway.settings import Settings
from gateway.state import READINESS_CHECKS, SERVICES
from tests.conftest import TEST_DATABASE
from tests.factories import access_token_for, create_user
from tests.realtime.conftest import eventually

TOKEN = "scrape-me-please-0123456789"


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _with_metrics(settings: Settings, **metrics: object) -> Settings:
    return settings.model_copy(update={"metrics": settings.metrics.model_copy(update=metrics)})


async def test_latency_is_recorded_by_route_template_and_status_class(client: TestClient) -> None:
    before = _samples(await (await client.get("/metrics")).text())
    key = (
        "lango_http_request_duration_seconds_count",
        frozenset({("method", "GET"), ("route", "/healthz"), ("status_class", "2xx")}),
    )
    for _ in range(3):
        assert (await client.get("/healthz")).status == 200
    await client.get("/no/such/route/507f1f77bcf86cd799439011")
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    text = await response.text()
    after = _samples(text)
    assert after[key] - before.get(key, 0) == 3
    unmatched = ("lango_http_request_duration_seconds_count", frozenset({("method", "GET"), ("route", "unmatched"), ("status_class", "4xx")}))
    assert after[unmatched] >= 1
    assert "507f1f77bcf86cd799439011" not in text
    assert ("lango_http_requests_in_flight", frozenset()) in after


async def test_every_declared_metric_is_exposed(client: TestClient) -> None:
    text = await (await client.get("/metrics")).text()
    names = {family.name for family in text_string_to_metric_families(text)}
    for declared in (
        "lango_sockets_connected", "lango_events_published", "lango_events_delivered", "lango_events_recovered",
        "lango_pushes_sent", "lango_payments", "lango_job_queue_depth", "lango_jobs_processed",
        "lango_dependency_up", "lango_dependency_latency_seconds",
    ):
        assert declared in names


async def test_the_probe_times_mongodb_and_redis_and_reads_the_backlog(client: TestClient) -> None:
    await probe_once(client.app[READINESS_CHECKS], client.app[SERVICES].queue)
    samples = _samples(await (await client.get("/metrics")).text())
    for dependency in ("mongodb", "redis"):
        assert samples[("lango_dependency_up", frozenset({("dependency", dependency)}))] == 1
        assert samples[("lango_dependency_latency_seconds_count", frozenset({("dependency", dependency)}))] >= 1
    assert any(name == "lango_job_queue_depth" for name, _ in samples)


async def test_a_failing_dependency_is_reported_down(client: TestClient) -> None:
    async def deaf() -> None:
        raise ConnectionError("pub/sub silent")

    client.app[READINESS_CHECKS]["realtime"] = deaf
    await probe_once(client.app[READINESS_CHECKS], client.app[SERVICES].queue)
    samples = _samples(await (await client.get("/metrics")).text())
    assert samples[("lango_dependency_up", frozenset({("dependency", "realtime")}))] == 0


class SlowBacklog:
    """A job queue whose backlog is read when the test says."""

    name = "slow"

    def __init__(self) -> None:
        self.reading = asyncio.Event()
        self.depth: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def count(self, kind: str) -> int:
        self.reading.set()
        return await self.depth


async def test_a_stop_that_lands_as_the_probe_reads_the_backlog_still_stops_it() -> None:
    backlog: Any = SlowBacklog()

    async def probe_then_stop() -> None:
        async with dependency_probe({}, backlog, interval_s=60):
            await backlog.reading.wait()
            # The read completes in the same turn of the loop as the stop: Python 3.11's wait_for then returns its
            # result instead of the cancellation.
            backlog.depth.set_result(0)

    stopping = asyncio.create_task(probe_then_stop())
    stopped, _ = await asyncio.wait({stopping}, timeout=5)
    stopping.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await stopping
    assert stopped, "the probe kept running after its stop"


async def test_a_cancellation_of_whoever_stops_the_probe_still_reaches_it() -> None:
    checking, letting_go, released = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def lingering() -> None:
        """A check that takes its time to let go once cancelled."""
        checking.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            letting_go.set()
            await released.wait()
            raise

    async def stop_probe() -> None:
        async with dependency_probe({"lingering": lingering}, SlowBacklog(), interval_s=60):  # type: ignore[arg-type]
            await checking.wait()

    stopping = asyncio.create_task(stop_probe())
    await letting_go.wait()  # the probe was told to stop, and its caller waits for it
    stopping.cancel()
    released.set()
    with pytest.raises(asyncio.CancelledError):
        await stopping


async def test_metrics_are_not_an_openapi_operation(client: TestClient) -> None:
    document = await (await client.get("/openapi.json")).json()
    assert "/metrics" not in document["paths"]


@pytest.fixture
def guarded_app(settings: Settings) -> web.Application:
    return create_app(_with_metrics(settings, token=SecretStr(TOKEN)))


@pytest.fixture
def unmetered_app(settings: Settings) -> web.Application:
    return create_app(_with_metrics(settings, enabled=False))


async def test_a_token_guards_metrics_when_set(aiohttp_client, guarded_app: web.Application) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(guarded_app)
    refused = await client.get("/metrics")
    assert refused.status == 401
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    allowed = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert allowed.status == 200
    assert re.search(r"^lango_http_request_duration_seconds_bucket", await allowed.text(), re.M)


async def test_metrics_can_be_switched_off(aiohttp_client, unmetered_app: web.Application) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(unmetered_app)
    assert (await client.get("/metrics")).status == 404



async def _scrape(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return _samples(await (await client.get("/metrics")).text())


def _grew(before: dict[Any, float], after: dict[Any, float], name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0) - before.get(key, 0)


async def test_sockets_events_and_replays_are_counted_as_they_happen(client: TestClient) -> None:
    services = client.app[SERVICES]
    user = await create_user(client.app)
    room, token = user_room(str(user.id)), access_token_for(client.app, user)
    before = await _scrape(client)

    phone = await _phone(client, {"token": token})
    connected = await _scrape(client)
    published = await services.bus.publish(room, "booking.updated", {"status": "confirmed"})
    await eventually(lambda: phone.received, 10, "the event on the socket")
    delivered = await _scrape(client)
    await phone.sio.disconnect()
    await eventually(lambda: _connected_sockets(client, before), 10, "the socket let go")
    # Back with the id before the event: it is replayed.
    again = await _phone(client, {"token": token, "last_event_id": published.event_id - 1})
    replayed = await _scrape(client)
    await again.sio.disconnect()

    assert _grew(before, connected, "lango_sockets_connected") == 1
    assert _grew(before, delivered, "lango_events_published_total", type="booking.updated") == 1
    assert _grew(before, delivered, "lango_events_delivered_total", channel="socket") == 1
    assert again.received == [published.event_id]
    assert _grew(delivered, replayed, "lango_events_recovered_total") == 1
    assert _grew(delivered, replayed, "lango_events_delivered_total", channel="socket") == 1


async def test_pushes_are_counted_by_outcome(client: TestClient, mongo: AsyncMongoClient) -> None:
    services = client.app[SERVICES]
    await mongo[TEST_DATABASE]["devices"].insert_one({"user_id": "offline-olive", "token": "olive-phone", "platform": "android"})
    before = await _scrape(client)

    for user_id in ("offline-olive", "deviceless-dan"):
        await services.bus.publish(user_room(user_id), "payment.updated", {"status": "pending"}, collapse_key="payment:p1",
                                   push=PushNotice(title="Payment", body="Your payment was updated"))  # fmt: skip
        await send_pending_push({"services": services}, user_id=user_id, collapse_key="payment:p1")
    after = await _scrape(client)

    assert _grew(before, after, "lango_pushes_sent_total", outcome="sent") == 1
    assert _grew(before, after, "lango_pushes_sent_total", outcome="no_device") == 1
    assert _grew(before, after, "lango_events_delivered_total", channel="push") == 1


class _Phone:
    """A Socket.IO client admitted by the gateway, with the ids of the booking events it received."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: list[int] = []
        self.recovered = asyncio.Event()
        self.sio.on("booking.updated", lambda envelope: self.received.append(envelope["id"]))
        self.sio.on("session.recovery", lambda _: self.recovered.set())


async def _phone(client: TestClient, auth: dict[str, Any]) -> _Phone:
    phone = _Phone()
    await phone.sio.connect(str(client.make_url("/")), auth=auth, transports=["websocket"], wait_timeout=10)
    await asyncio.wait_for(phone.recovered.wait(), 10)
    return phone


async def _connected_sockets(client: TestClient, before: dict[Any, float]) -> bool:
    return _grew(before, await _scrape(client), "lango_sockets_connected") == 0
