"""Waiting for a `lango serve` child process to answer ready, for tests and benches that start one."""

import asyncio
import subprocess
import time
from pathlib import Path

import aiohttp


async def wait_until_ready(
    url: str, timeout_s: float, process: subprocess.Popen[bytes] | None = None, log_path: Path | None = None
) -> None:
    """Poll `url`/readyz until it answers 200; fail at once, with the log's tail, if `process` exits first."""
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"lango serve exited:\n{_tail(log_path)}")
            try:
                async with http.get(f"{url}/readyz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout_s} s:\n{_tail(log_path)}")


def _tail(log_path: Path | None) -> str:
    return log_path.read_text()[-3000:] if log_path is not None and log_path.exists() else ""
