"""Real gateway processes sharing one Redis and one database, socket clients that record what they receive."""

import asyncio
import contextlib
import json
import os
import secrets
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import socketio
from redis.asyncio import Redis
from saq import Queue

from gateway.crypto.signing_keys import new_signing_key, parse_key_ring
from gateway.jobs import create_queue
from gateway.messaging import MessageBus
from gateway.realtime.push import install_push_fallback
from gateway.redis_client import create_redis
from gateway.security.tokens import TokenService
from gateway.settings import Settings
from tests.conftest import REPO, TEST_DATABASE, free_port, make_settings

LANGO = REPO / ".venv" / "bin" / "lango"
START_TIMEOUT_S = 40.0
# Short enough that outages and dead nodes show within a test's time.
FAST_REALTIME = {
    "node_heartbeat_s": 0.5,
    "node_ttl_s": 2.0,
    "selftest_interval_s": 0.2,
    "selftest_max_silence_s": 1.0,
    "resubscribe_backoff_max_s": 0.5,
    "push_debounce_s": 1.0,
    "gc_freeze": False,
}


async def eventually(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Re-check `condition` (sync or async) until it answers truthy; fail after `timeout` naming `what`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        outcome = condition()
        if asyncio.iscoroutine(outcome):
            outcome = await outcome
        if outcome:
            return outcome
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


@dataclass
class GatewayNode:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def readiness(self) -> int:
        async with aiohttp.ClientSession() as http, http.get(f"{self.url}/readyz") as answer:
            return answer.status

    async def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                await asyncio.to_thread(self.process.wait, 15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)


@dataclass
class Cluster:
    """Nodes started for one test, all on the same namespace, database, signing keys and sealing secrets."""

    settings: Settings
    redis_url: str
    mongodb_url: str
    tmp_path: Path
    # Settings of the test's own, given to every node after the ones above.
    extra_env: dict[str, str] = field(default_factory=dict)
    nodes: list[GatewayNode] = field(default_factory=list)
    # Shared by every node, as a deployment's are: what one node seals, the others open.
    shared_secrets: dict[str, str] = field(default_factory=lambda: {
        name: secrets.token_urlsafe(32) for name in (
            "LANGO_STORAGE__LOCAL__SIGNING_SECRET", "LANGO_TICKETS__KEY_ENCRYPTION_KEY", "LANGO_AUTH__TOTP_ENCRYPTION_KEY")
    })  # fmt: skip

    def env(self, port: int) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("LANGO_")}
        env.update(
            MONGODB_URL=self.mongodb_url,
            REDIS_URL=self.redis_url,
            # Production skips the start-up migration: the session fixture migrated this database once already.
            LANGO_ENVIRONMENT="production",
            LANGO_SANDBOX="false",
            LANGO_MONGODB__DATABASE=TEST_DATABASE,
            LANGO_REDIS__NAMESPACE=self.settings.redis.namespace,
            LANGO_AUTH__SIGNING_KEYS=self.settings.auth.signing_keys.get_secret_value(),  # type: ignore[union-attr]
            LANGO_SERVER__PORT=str(port),
            LANGO_SERVER__PUBLIC_URL=f"http://127.0.0.1:{port}",
            LANGO_JOBS__IN_PROCESS="true",
            LANGO_LOGGING__LEVEL="WARNING",
            LANGO_LOGGING__FORMAT="console",
            # Accounts the tests store are hashed at the lowest cost; a higher one here would rehash them at sign-in.
            LANGO_AUTH__BCRYPT_COST="4",
        )
        env.update({f"LANGO_REALTIME__{key.upper()}": str(value).lower() if isinstance(value, bool) else str(value)
                    for key, value in FAST_REALTIME.items()})  # fmt: skip
        env.update(self.shared_secrets)
        env.update(self.extra_env)
        return env

    async def start_node(self, port: int | None = None) -> GatewayNode:
        port = port or free_port()
        log_path = self.tmp_path / f"node-{port}.log"
        with log_path.open("wb") as log_file:
            # Forking this large test process can hold the loop for a while: it happens in a thread.
            process = await asyncio.to_thread(
                subprocess.Popen, [str(LANGO), "serve"], cwd=REPO, env=self.env(port), stdout=log_file,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        node = GatewayNode(process, port, log_path)
        self.nodes.append(node)
        await self.wait_ready(node)
        return node

    async def wait_ready(self, node: GatewayNode) -> None:
        async def ready() -> bool:
            if node.process.poll() is not None:
                raise AssertionError(f"node exited: {node.log_path.read_text()[-3000:]}")
            try:
                return await node.readiness() == 200
            except aiohttp.ClientError:
                return False

        await eventually(ready, START_TIMEOUT_S, f"node on port {node.port} to be ready")


@pytest.fixture
def signing_keys() -> str:
    return json.dumps({"keys": [new_signing_key()]})


@pytest.fixture
def cluster_settings(mongodb_url: str, redis_url: str, signing_keys: str) -> Settings:
    return make_settings(
        mongodb_url,
        redis_url,
        auth={"signing_keys": signing_keys},
        realtime=FAST_REALTIME,
        redis={"namespace": f"rt-{uuid.uuid4().hex[:10]}"},
    )


@pytest.fixture
async def cluster(cluster_settings: Settings, mongodb_url: str, redis_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    running = Cluster(cluster_settings, redis_url, mongodb_url, tmp_path)
    yield running
    await asyncio.gather(*(node.stop() for node in running.nodes))


@pytest.fixture
def tokens(signing_keys: str) -> TokenService:
    return TokenService(
        parse_key_ring(signing_keys), issuer="lango", access_ttl=timedelta(minutes=15), challenge_ttl=timedelta(minutes=5)
    )


def issue(tokens: TokenService, user_id: str, roles: tuple[str, ...] = ("guest",)) -> str:
    return tokens.issue_access(user_id, roles, session_id=uuid.uuid4().hex)


@dataclass
class Bus:
    """The message bus as a worker process holds it: Redis and the job queue, no sockets."""

    bus: MessageBus
    redis: Redis
    queue: Queue


async def open_bus(settings: Settings) -> Bus:
    """On the Redis the settings name: one server, or a cluster with the job queue on a Redis of its own."""
    redis = create_redis(settings.redis)
    queue = create_queue(settings)
    await queue.connect()
    bus = MessageBus(redis, settings)
    install_push_fallback(bus, queue, settings.realtime.push_debounce_s)
    return Bus(bus, redis, queue)


async def close_bus(opened: Bus) -> None:
    await opened.bus.close()
    await opened.queue.disconnect()
    await opened.redis.aclose()


@pytest.fixture
async def bus(cluster_settings: Settings) -> AsyncIterator[MessageBus]:
    opened = await open_bus(cluster_settings)
    yield opened.bus
    await close_bus(opened)


class RecordingClient:
    """A Socket.IO client that keeps every event it receives, in order, and can wait for a condition on them."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self.connect_errors: list[Any] = []
        self.disconnects = 0
        self._changed = asyncio.Condition()
        self.sio.on("*", self._record)
        self.sio.on("connect_error", self._refused)
        self.sio.on("disconnect", self._disconnected)

    async def _record(self, event: str, data: Any = None) -> None:
        async with self._changed:
            self.events.append((event, data))
            self._changed.notify_all()

    async def _refused(self, data: Any) -> None:
        async with self._changed:
            self.connect_errors.append(data)
            self._changed.notify_all()

    async def _disconnected(self, reason: Any = None) -> None:
        async with self._changed:
            self.disconnects += 1
            self._changed.notify_all()

    async def connect(self, node: GatewayNode, auth: dict[str, Any]) -> None:
        await self.sio.connect(node.url, auth=auth, transports=["websocket"], wait_timeout=10)

    async def wait_for(self, predicate: Callable[["RecordingClient"], bool], timeout: float = 10.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self)), timeout)

    def of_type(self, event_type: str) -> list[Any]:
        return [data for event, data in self.events if event == event_type]

    def envelopes(self) -> list[dict[str, Any]]:
        return [data for event, data in self.events if isinstance(data, dict) and "id" in data and "type" in data]

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


@pytest.fixture
async def clients() -> AsyncIterator[Callable[[], RecordingClient]]:
    opened: list[RecordingClient] = []

    def open_client() -> RecordingClient:
        client = RecordingClient()
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        await client.close()


class SilencingProxy:
    """A TCP relay to Redis; `silence()` stops every relay open now, as a lost peer would, and leaves it open."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._open: list[asyncio.Event] = []
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def silence(self) -> None:
        for flowing in self._open:
            flowing.clear()
        self._open = []

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._upstream)
        self._writers += [writer, upstream_writer]
        flowing = asyncio.Event()
        flowing.set()
        self._open.append(flowing)
        await asyncio.gather(self._pipe(reader, upstream_writer, flowing), self._pipe(upstream_reader, writer, flowing))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, flowing: asyncio.Event) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                if flowing.is_set():
                    writer.write(data)

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[tuple[SilencingProxy, str]]:
    parts = urlsplit(redis_url)
    relay = SilencingProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    port = await relay.start()
    yield relay, parts._replace(netloc=f"127.0.0.1:{port}").geturl()
    await relay.close()
