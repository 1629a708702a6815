"""Test harness: a real SecantusDB and a real Redis per session, a clean database for every test."""

import asyncio
import gc
import os
import random
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from gateway.app import create_app
from gateway.embedded import ChildServer, start_redis, start_secantusdb, wait_until_answers
from gateway.ledger.check import check_ledger
from gateway.migrate import migrate
from gateway.serving import GatewayRunner
from gateway.settings import EmbeddedSettings, Settings, load_settings
from tests.loop_watchdog import LoopWatchdog
from tests.redis_cluster import CLUSTER_BUS_OFFSET, PRIMARIES, LocalRedisCluster, cluster_capable_redis_server

# In-process apps log through structlog's defaults, whose console renderer draws an exception with rich (installed
# for the dev tools) and its locals: over half a second on the event loop. Plain tracebacks, as `lango serve` logs.
structlog.configure(
    processors=[
        *structlog.get_config()["processors"][:-1],
        structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback),
    ]
)

REPO = Path(__file__).resolve().parent.parent
TEST_DATABASE = "lango_test"
TEST_REDIS_DB = 9
# A callback that holds the event loop this long is a blocking call; the test that caused it fails.
BLOCKING_THRESHOLD_S = 0.5


_LOWEST_TEST_PORT = 10_000
_PORTS_HANDED_OUT: set[int] = set()


def _ephemeral_ports_start() -> int:
    """The first port the kernel gives outgoing connections as their source port (0 where it does not say)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


# A port from the ephemeral range, found free for a server that binds it later, could meanwhile become the source
# port of one of the test's own connections.
_EPHEMERAL_PORTS_START = _ephemeral_ports_start()


def free_port() -> int:
    """A port free now, for a server that binds it later: below the ephemeral range where the kernel says which it is,
    and never the same twice in a session."""
    for _ in range(1000):
        if _EPHEMERAL_PORTS_START > _LOWEST_TEST_PORT:
            port = random.randrange(_LOWEST_TEST_PORT, _EPHEMERAL_PORTS_START)
        else:
            port = 0
        if port in _PORTS_HANDED_OUT:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            port = int(probe.getsockname()[1])
        _PORTS_HANDED_OUT.add(port)
        return port
    raise RuntimeError("no free port found for a test server")


def _redis_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def mongodb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """LANGO_TEST_MONGODB_URL (a real mongod) when set, else a SecantusDB child process on a temp dir."""
    if os.environ.get("LANGO_TEST_MONGODB_URL"):
        yield os.environ["LANGO_TEST_MONGODB_URL"]
        return
    server = start_secantusdb(EmbeddedSettings(), port=free_port(), data_dir=tmp_path_factory.mktemp("secantus"))
    yield from _running(server)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Redis at REDIS_URL / 127.0.0.1:6379 when it answers, else a redis-server started here."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    if _redis_answers("127.0.0.1", 6379):
        yield f"redis://127.0.0.1:6379/{TEST_REDIS_DB}"
        return
    server = start_redis(EmbeddedSettings(), port=free_port(), data_dir=tmp_path_factory.mktemp("redis"))
    yield from _running(server)


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedisCluster]:
    """A Redis Cluster of three primaries with a replica each, started once per session (tests/redis_cluster.py)."""
    executable = cluster_capable_redis_server()
    if executable is None:
        pytest.skip("no redis-server 7 or later (sharded pub/sub) on this machine")
    servers = LocalRedisCluster(executable, tmp_path_factory.mktemp("redis-cluster"))
    try:
        servers.start([_free_port_with_bus() for _ in range(2 * PRIMARIES)])
        yield servers
    finally:
        servers.stop()


def _free_port_with_bus() -> int:
    """A free port whose cluster bus port (the port + 10000) is free too, and below the ephemeral ports when it can."""
    while True:
        port = free_port()
        if port + CLUSTER_BUS_OFFSET >= _EPHEMERAL_PORTS_START > _LOWEST_TEST_PORT + CLUSTER_BUS_OFFSET:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + CLUSTER_BUS_OFFSET))
            except OSError:
                continue
        return port


def _running(server: ChildServer) -> Iterator[str]:
    try:
        wait_until_answers(server, timeout_s=60)
        yield server.url
    finally:
        server.stop()


def make_settings(mongodb_url: str, redis_url: str, **overrides: object) -> Settings:
    base: dict[str, object] = {
        "environment": "test",
        "mongodb": {"url": mongodb_url, "database": TEST_DATABASE},
        "redis": {"url": redis_url, "namespace": f"lango-test-{uuid.uuid4().hex[:8]}"},
        "jobs": {"in_process": False},
        "logging": {"level": "WARNING", "format": "console"},
        # The lowest bcrypt cost: hashing speed is not what these tests are about.
        "auth": {"bcrypt_cost": 4},
        # Freezing the start-up heap runs a full collection on the loop and pins every earlier test's garbage:
        # it matters for long-lived nodes, not for the hundreds of short-lived apps of one test process.
        "realtime": {"gc_freeze": False},
    }
    for section, values in overrides.items():
        if isinstance(values, dict) and isinstance(base.get(section), dict):
            base[section] = {**base[section], **values}  # type: ignore[dict-item]
        else:
            base[section] = values
    return load_settings(REPO / "config.toml", **base)


@pytest.fixture(scope="session")
def _indexes(mongodb_url: str, redis_url: str) -> None:
    asyncio.run(migrate(make_settings(mongodb_url, redis_url)))


@pytest.fixture(scope="session")
async def mongo(mongodb_url: str, _indexes: None) -> AsyncIterator[AsyncMongoClient]:
    client: AsyncMongoClient = AsyncMongoClient(mongodb_url, tz_aware=True)
    yield client
    await client.close()


@pytest.fixture(scope="session")
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture(autouse=True)
async def clean_state(mongo: AsyncMongoClient) -> None:
    """Every test starts from empty collections (indexes kept); its Redis keys live under its own namespace."""
    database = mongo[TEST_DATABASE]
    for name in await database.list_collection_names():
        await database[name].delete_many({})


@pytest.fixture(autouse=True)
async def books_balance_after_each_test(request: pytest.FixtureRequest, mongo: AsyncMongoClient) -> AsyncIterator[None]:
    """Whatever money a test's flows moved, the ledger it leaves passes `lango ledger check`: every entry balances per
    currency and every stored balance equals the sum of its lines. Checked once the test's servers have stopped."""
    yield
    if request.node.get_closest_marker("tampers_with_ledger") is None:
        problems = await check_ledger(mongo[TEST_DATABASE])
        assert not problems, "the ledger this test left does not pass `lango ledger check`:\n" + "\n".join(problems)


@pytest.fixture(scope="module", autouse=True)
def collect_leaks_per_module() -> Iterator[None]:
    """An unclosed socket or file caught in a reference cycle warns only when the collector frees it: collecting
    after each module blames the module that leaked it, not whichever test happens to run at the next full pass."""
    yield
    gc.collect()


LOOP_WATCHDOG = LoopWatchdog(BLOCKING_THRESHOLD_S)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    # Only the test body counts: fixture set-up imports modules and starts servers, which may block.
    LOOP_WATCHDOG.recording = item.get_closest_marker("allows_blocking") is None
    try:
        return (yield)
    finally:
        LOOP_WATCHDOG.recording = False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    # pytest-timeout shows the threads' stacks; a hung test's cause is usually a task of the loop, so list them too.
    report = yield
    if call.excinfo is not None and "pytest-timeout" in str(call.excinfo.value):
        report.sections.append(("asyncio tasks at the timeout", LOOP_WATCHDOG.pending_tasks()))
    return report


@pytest.fixture(autouse=True)
async def no_blocking_calls() -> AsyncIterator[None]:
    """Fail a test whose body held the event loop longer than BLOCKING_THRESHOLD_S at a stretch."""
    LOOP_WATCHDOG.watch(asyncio.get_running_loop())
    LOOP_WATCHDOG.blocked.clear()
    yield
    assert not LOOP_WATCHDOG.blocked, "\n".join(LOOP_WATCHDOG.blocked)


@pytest.fixture
async def settings(mongodb_url: str, redis_url: str, redis: Redis) -> AsyncIterator[Settings]:
    """Settings with a Redis namespace of the test's own, deleted afterwards: test runs never see each other."""
    settings = make_settings(mongodb_url, redis_url)
    yield settings
    namespace = settings.redis.namespace
    for pattern in (f"{namespace}:*", f"saq:{namespace}:*"):
        async for key in redis.scan_iter(match=pattern, count=500):
            await redis.delete(key)


@pytest.fixture
def app(settings: Settings) -> web.Application:
    return create_app(settings)


class GatewayTestServer(TestServer):
    """aiohttp's test server with the gateway's runner, so sockets come in through the front door as in production."""

    async def _make_runner(self, **kwargs: Any) -> web.BaseRunner:
        return GatewayRunner(self.app, **kwargs)


@pytest.fixture
def aiohttp_client(aiohttp_client):  # type: ignore[no-untyped-def]
    """pytest-aiohttp's client, serving an application as `lango serve` does."""

    async def serve(served: Any, *, server_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> TestClient:
        if isinstance(served, web.Application):
            served = GatewayTestServer(served, **(server_kwargs or {}))
        return await aiohttp_client(served, **kwargs)  # type: ignore[no-any-return]

    return serve


@pytest.fixture
async def client(aiohttp_client, app: web.Application) -> TestClient:  # type: ignore[no-untyped-def]
    return await aiohttp_client(app)
