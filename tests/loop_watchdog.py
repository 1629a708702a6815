"""A watchdog thread that notices when something holds the event loop, and records where."""

import asyncio
import gc
import io
import sys
import threading
import time
import traceback
from types import FrameType

BEAT_S = 0.05


def _idle_in_selector(frame: FrameType) -> bool:
    return frame.f_code.co_name in {"select", "poll"} and "selectors" in frame.f_code.co_filename


class LoopWatchdog:
    """The loop stamps a heartbeat every BEAT_S; a thread reports any gap longer than `threshold_s`, not counting
    time the cyclic collector spent on the test process's own heap."""

    def __init__(self, threshold_s: float) -> None:
        self.threshold_s = threshold_s
        self.recording = False
        self.blocked: list[str] = []
        self._last_beat = time.monotonic()
        self._collecting_since: float | None = None
        self._collected_s = 0.0
        self._collected_s_at_beat = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread_id = 0
        self._stopped = threading.Event()

    def watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start watching `loop` (once; later calls for the same loop do nothing)."""
        if self._loop is loop:
            return
        self._loop = loop
        self._loop_thread_id = threading.get_ident()
        self._last_beat = time.monotonic()
        loop.call_soon(self._beat)
        if self._on_collection not in gc.callbacks:
            gc.callbacks.append(self._on_collection)
        threading.Thread(target=self._watch, name="loop-watchdog", daemon=True).start()

    def stop(self) -> None:
        """End the watching thread and stop timing the collector."""
        self._stopped.set()
        if self._on_collection in gc.callbacks:
            gc.callbacks.remove(self._on_collection)

    def _on_collection(self, phase: str, _: dict[str, int]) -> None:
        if phase == "start":
            self._collecting_since = time.monotonic()
        elif self._collecting_since is not None:
            self._collected_s += time.monotonic() - self._collecting_since
            self._collecting_since = None

    def pending_tasks(self) -> str:
        """Every task of the watched loop not yet done, with where each waits: what a hung test was waiting for."""
        if self._loop is None:
            return "no loop watched"
        written = io.StringIO()
        for task in asyncio.all_tasks(self._loop):
            task.print_stack(limit=8, file=written)
        return written.getvalue() or "no task pending"

    def _collector_s(self) -> float:
        since = self._collecting_since
        return self._collected_s + (time.monotonic() - since if since is not None else 0.0)

    def _beat(self) -> None:
        self._last_beat = time.monotonic()
        self._collected_s_at_beat = self._collector_s()
        assert self._loop is not None
        self._loop.call_later(BEAT_S, self._beat)

    def _watch(self) -> None:
        reported_beat = 0.0
        while not self._stopped.wait(BEAT_S):
            beat = self._last_beat
            # A full collection over the suite's large heap takes a few hundred ms wherever it happens to trigger.
            lag = time.monotonic() - beat - (self._collector_s() - self._collected_s_at_beat)
            if not (self.recording and lag > self.threshold_s and beat != reported_beat):
                continue
            frame = sys._current_frames().get(self._loop_thread_id)
            # A loop that is not running (a plain test) or is idle in its selector is not being held:
            # the gap then comes from the machine not scheduling the process.
            if frame is None or not self._loop.is_running() or _idle_in_selector(frame):
                continue
            reported_beat = beat
            where = "".join(line for line in traceback.format_stack(frame) if "<frozen " not in line)
            self.blocked.append(f"event loop held for over {self.threshold_s}s at:\n{where}")
