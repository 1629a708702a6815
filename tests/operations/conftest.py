"""Fixtures shared by the operations tests."""

import asyncio
import io
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import structlog

from gateway.logs import configure_logging
from gateway.settings import LoggingSettings, Settings
from tests.conftest import REPO


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Configure JSON logging into a buffer, then put the previous configuration back."""
    root = logging.getLogger()
    saved_handlers, saved_level, saved_config = root.handlers[:], root.level, structlog.get_config()
    configure_logging(LoggingSettings(level="INFO", format="json"))
    buffer = io.StringIO()
    root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
    yield buffer
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    structlog.configure(**saved_config)


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture
def lango(settings: Settings, mongodb_url: str, redis_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Runs `lango ARGS…` in a process of its own, on the test's database, Redis namespace and a file store of its
    own."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LANGO_")}
    env.update(
        MONGODB_URL=mongodb_url,
        REDIS_URL=redis_url,
        LANGO_ENVIRONMENT="test",
        LANGO_MONGODB__DATABASE=settings.mongodb.database,
        LANGO_REDIS__NAMESPACE=settings.redis.namespace,
        LANGO_AUTH__BCRYPT_COST="4",
        LANGO_STORAGE__PROVIDER="local",
        LANGO_STORAGE__LOCAL__ROOT=str(tmp_path / "files"),
    )

    async def run(*arguments: str, stdin: str = "") -> Ran:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway.cli", *arguments,
            cwd=REPO, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 60)
        return Ran(process.returncode or 0, out.decode(), err.decode())

    return run
