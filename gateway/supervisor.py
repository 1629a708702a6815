"""`lango serve --workers N`: N gateway processes sharing one port, each its own realtime node, under a small
supervisor that starts another when one dies and hands SIGTERM (or Ctrl-C) on to all of them for a graceful drain.

The kernel spreads new connections over the processes (SO_REUSEPORT); the supervisor itself serves nothing.
Their metrics are summed through prometheus_client's multiprocess mode: every process writes its samples to
files in PROMETHEUS_MULTIPROC_DIR, and whichever process answers /metrics reads them all."""

import contextlib
import multiprocessing
import os
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType

from prometheus_client import multiprocess
from pydantic import SecretStr

from gateway.crypto.signing_keys import ephemeral_signing_keys
from gateway.logs import get_logger
from gateway.metrics import MULTIPROCESS_ENV
from gateway.settings import Settings

log = get_logger("lango.supervisor")
# A process that dies this soon after it started is started again only after a pause: a crash at start-up (a bad
# setting, a dependency down) would otherwise spin.
QUICK_EXIT_S = 2.0
RESTART_PAUSE_S = 1.0
# After the drain's own timeout, how long a process has left before it is killed.
KILL_GRACE_S = 5.0


@dataclass
class _Slot:
    process: BaseProcess | None = None
    started_at: float = 0.0
    restart_at: float | None = None


def supervise(settings: Settings, serve_one: Callable[[Settings], object]) -> int:
    """Run `serve_one(settings)` in `server.workers` processes until SIGTERM or SIGINT; answers the exit code."""
    settings = with_shared_secrets(settings)
    metrics_dir, own_dir = _metrics_dir()
    context = multiprocessing.get_context("spawn")  # a fresh interpreter each: no event loop or thread carried over
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    stop_signals: list[int] = []

    def on_signal(signum: int, _: FrameType | None) -> None:
        stop_signals.append(signum)
        with contextlib.suppress(BlockingIOError):
            os.write(wake_write, b"\0")

    previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
    slots = [_Slot() for _ in range(settings.server.workers)]

    def start(slot: _Slot) -> None:
        slot.process = context.Process(target=serve_one, args=(settings,), name="lango-gateway")
        slot.process.start()
        slot.started_at, slot.restart_at = time.monotonic(), None
        log.info("gateway process started", pid=slot.process.pid)

    try:
        for slot in slots:
            start(slot)
        while not stop_signals:
            _wait_for_change(slots, wake_read)
            for slot in slots:
                if slot.process is not None and slot.process.exitcode is not None and not stop_signals:
                    _bury(slot.process)
                    log.warning("gateway process exited; starting another", pid=slot.process.pid, exitcode=slot.process.exitcode)
                    quick = time.monotonic() - slot.started_at < QUICK_EXIT_S
                    slot.process, slot.restart_at = None, time.monotonic() + (RESTART_PAUSE_S if quick else 0.0)
                if slot.process is None and slot.restart_at is not None and slot.restart_at <= time.monotonic() and not stop_signals:
                    start(slot)
        log.info("stopping the gateway processes", signal=signal.Signals(stop_signals[0]).name)
        _drain([slot.process for slot in slots if slot.process is not None], settings.server.shutdown_timeout_s)
        return 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        os.close(wake_read)
        os.close(wake_write)
        if own_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def with_shared_secrets(settings: Settings) -> Settings:
    """`settings` with the secrets a process makes for itself when none is configured (outside production: the
    token signing key, the local store's link secret) made once here, so that what one process signs, the others
    accept: a phone's requests land on any of them."""
    auth, local = settings.auth, settings.storage.local
    if auth.signing_keys is None:
        log.warning("NO SIGNING KEYS CONFIGURED: one ephemeral key for every process; tokens die with them. "
                    "Set LANGO_AUTH__SIGNING_KEYS (see `lango keys new`).")  # fmt: skip
        auth = auth.model_copy(update={"signing_keys": SecretStr(ephemeral_signing_keys())})
    if settings.storage.provider == "local" and local.signing_secret is None:
        log.warning("storage.local.signing_secret is not set: one random secret for every process, until they stop")
        local = local.model_copy(update={"signing_secret": SecretStr(secrets.token_urlsafe(48))})
    storage = settings.storage.model_copy(update={"local": local})
    return settings.model_copy(update={"auth": auth, "storage": storage})


def _metrics_dir() -> tuple[str, bool]:
    """PROMETHEUS_MULTIPROC_DIR as given (emptied of an earlier run's files), else a temporary one made here."""
    given = os.environ.get(MULTIPROCESS_ENV)
    if given:
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        return given, False
    made = tempfile.mkdtemp(prefix="lango-metrics-")
    os.environ[MULTIPROCESS_ENV] = made  # inherited by every process started after this
    return made, True


def _wait_for_change(slots: list[_Slot], wake_read: int) -> None:
    """Until a process exits, a signal arrives, or a paused restart is due."""
    due = [slot.restart_at for slot in slots if slot.process is None and slot.restart_at is not None]
    timeout = max(0.0, min(due) - time.monotonic()) if due else None
    ready = wait([slot.process.sentinel for slot in slots if slot.process is not None] + [wake_read], timeout)
    if wake_read in ready:
        os.read(wake_read, 64)


def _drain(processes: list[BaseProcess], shutdown_timeout_s: float) -> None:
    """SIGTERM to each process (aiohttp stops accepting, finishes what is in flight), then wait; kill what lingers."""
    for process in processes:
        if process.exitcode is None:
            process.terminate()
    deadline = time.monotonic() + shutdown_timeout_s + KILL_GRACE_S
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.exitcode is None:
            log.warning("gateway process did not stop in time; killing it", pid=process.pid)
            process.kill()
            process.join()
        _bury(process)


def _bury(process: BaseProcess) -> None:
    """Forget a dead process's live gauges (requests in flight, sockets); its counters keep counting in the sums."""
    if process.pid is not None:
        multiprocess.mark_process_dead(process.pid)
