"""Connections to MongoDB that the server dropped: never handed to a request, and a 503 to retry when it is gone."""

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from documents.property import Property
from gateway.embedded import ChildServer, wait_until_answers
from gateway.migrate import migrate
from tests.conftest import free_port, make_settings
from tests.gateway_apps import gateway_app
from tests.properties.builders import listing_body, signed_in

PROBLEM = "application/problem+json"
# SecantusDB drops a connection idle for 300 s; its CLI does not set that, the server class does.
SERVER_IDLE_S = 2.0
CLIENT_IDLE_MS = 1000
_SHORT_IDLE_SECANTUSDB = (
    "import sys; from secantus.server import SecantusDBServer; "
    "server = SecantusDBServer(host='127.0.0.1', port=int(sys.argv[1]), storage_path=sys.argv[2], "
    "enable_test_commands=False, client_idle_timeout_s=float(sys.argv[3])); server.start(); server.wait()"
)
WRITES = 40


@pytest.fixture
async def short_idle_database(tmp_path: Path, redis_url: str) -> AsyncIterator[ChildServer]:
    """A SecantusDB of this test's own that drops connections idle for SERVER_IDLE_S, with its indexes."""
    port, storage = free_port(), tmp_path / "db"
    storage.mkdir()
    process = subprocess.Popen([sys.executable, "-c", _SHORT_IDLE_SECANTUSDB, str(port), str(storage), str(SERVER_IDLE_S)])
    # Heartbeats more often than the server's idle limit, so the driver's monitor keeps its own connection.
    url = f"mongodb://127.0.0.1:{port}/?directConnection=true&retryWrites=false&heartbeatFrequencyMS=500"
    server = ChildServer("SecantusDB", process, url, storage, tmp_path / "secantusdb.log")
    try:
        await asyncio.to_thread(wait_until_answers, server, 30)
        await migrate(make_settings(url, redis_url))
        yield server
    finally:
        await asyncio.to_thread(server.stop)


@pytest.fixture
def app(short_idle_database: ChildServer, redis_url: str) -> web.Application:
    mongodb = {"max_idle_time_ms": CLIENT_IDLE_MS, "server_selection_timeout_ms": 500}
    return gateway_app(short_idle_database.url, redis_url, mongodb=mongodb)


async def _create_listings(client: TestClient, agent: dict[str, str], numbers: range) -> list[int]:
    answers = await asyncio.gather(
        *(client.post("/v1/properties", json=listing_body(title=f"Flat number {n}"), headers=agent) for n in numbers)
    )
    return [answer.status for answer in answers]


async def test_parallel_writes_after_the_server_dropped_idle_connections_all_succeed_once(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    # Enough at once that the pool opens many connections, each left idle afterwards.
    assert await _create_listings(client, agent, range(WRITES)) == [201] * WRITES

    # Idling past the server's limit is the scenario itself: there is no event to wait for instead.
    await asyncio.sleep(SERVER_IDLE_S + 1)
    after_idle = await _create_listings(client, agent, range(WRITES, 2 * WRITES))

    assert after_idle == [201] * WRITES
    titles = [listing.title for listing in await Property.find_all().to_list()]
    assert sorted(titles) == sorted(f"Flat number {n}" for n in range(2 * WRITES))


async def test_a_request_while_the_database_is_unreachable_is_a_503_to_retry(
    client: TestClient, short_idle_database: ChildServer
) -> None:
    _, agent = await signed_in(client, "agent")
    await asyncio.to_thread(short_idle_database.stop)

    answer = await client.post("/v1/properties", json=listing_body(), headers=agent)

    assert answer.status == 503
    assert (await answer.json(content_type=PROBLEM))["type"] == "urn:lango:problem:service-unavailable"
    assert answer.headers["Retry-After"] == "1"
