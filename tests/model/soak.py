"""The model's long soak: `python -m tests.model.soak --steps 10000` runs the marketplace model until that many
steps have run, and prints the steps run and every violation found (it exits 1 when there was any).

It starts what the test session starts (SecantusDB on a temporary directory, the Redis at 127.0.0.1:6379 or one of
its own), then runs fresh random runs of the model, each up to --run-steps steps, one after another.
"""

import argparse
import asyncio
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from gateway.embedded import start_redis, start_secantusdb, wait_until_answers
from gateway.logs import configure_logging
from gateway.migrate import migrate
from gateway.settings import EmbeddedSettings
from tests.conftest import TEST_REDIS_DB, _redis_answers, free_port, make_settings
from tests.model.harness import Marketplace, open_marketplace
from tests.model.machine import MarketplaceModel


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.model.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000, help="steps to run in all (default 10,000)")
    parser.add_argument("--run-steps", type=int, default=50, help="steps of one run before a fresh cast (default 50)")
    arguments = parser.parse_args()
    # Stopped with SIGTERM, the soak unwinds as on Ctrl-C: its gateways, database and Redis are stopped too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="lango-soak-") as workdir:
        mongodb = start_secantusdb(EmbeddedSettings(), port=free_port(), data_dir=Path(workdir) / "db")
        redis = None if _redis_answers("127.0.0.1", 6379) else start_redis(EmbeddedSettings(), port=free_port(), data_dir=Path(workdir) / "redis")
        try:
            wait_until_answers(mongodb, timeout_s=60)
            redis_url = f"redis://127.0.0.1:6379/{TEST_REDIS_DB}" if redis is None else redis.url
            if redis is not None:
                wait_until_answers(redis, timeout_s=60)
            return soak(mongodb.url, redis_url, Path(workdir), arguments.steps, arguments.run_steps)
        finally:
            mongodb.stop()
            if redis is not None:
                redis.stop()


def soak(mongodb_url: str, redis_url: str, workdir: Path, steps: int, run_steps: int) -> int:
    configured = make_settings(mongodb_url, redis_url)
    configure_logging(configured.logging)
    asyncio.run(migrate(configured))
    market, stop = _serve_in_background(mongodb_url, redis_url, workdir)
    MarketplaceModel.market = market
    runs = settings(
        stateful_step_count=run_steps,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    violations: list[str] = []
    started = time.monotonic()
    finished = threading.Event()
    threading.Thread(target=_report_progress, args=(started, finished), daemon=True).start()
    try:
        while MarketplaceModel.steps_run < steps:
            before = MarketplaceModel.steps_run
            # Hypothesis's first run of a call is its simplest one: each call asks for the runs the soak still needs.
            still = max(1, (steps - MarketplaceModel.steps_run) // run_steps)
            try:
                run_state_machine_as_test(MarketplaceModel, settings=settings(runs, max_examples=still))
            except Exception as error:  # noqa: BLE001 - every failure of a run is a violation to report
                violations.append("".join(traceback.format_exception_only(error)).strip())
                violations[-1] += market.logged_about(violations[-1])
                print(f"VIOLATION after {MarketplaceModel.steps_run} steps:\n{violations[-1]}\n", flush=True)
                if MarketplaceModel.steps_run == before:
                    print("soak: a run failed before its first step; stopping", flush=True)
                    break
        for collection, states in market.call(market.summary).items():
            print(f"  {collection}: " + ", ".join(f"{state} {count}" for state, count in sorted(states.items())))
    finally:
        finished.set()
        stop()
    minutes = (time.monotonic() - started) / 60
    print(f"soak: {MarketplaceModel.steps_run} steps in {MarketplaceModel.runs} runs, {minutes:.1f} min, "
          f"{len(violations)} violations")
    return 1 if violations else 0


def _report_progress(started: float, finished: threading.Event) -> None:
    """A line a minute: a soak stopped early still says how far it got (violations print as they are found)."""
    while not finished.wait(60):
        minutes = (time.monotonic() - started) / 60
        print(f"soak: {MarketplaceModel.steps_run} steps in {MarketplaceModel.runs} runs, {minutes:.0f} min", flush=True)


def _serve_in_background(mongodb_url: str, redis_url: str, workdir: Path) -> tuple[Marketplace, Callable[[], None]]:
    """The harness on a loop of its own thread, as the model calls into it from this one."""
    loop = asyncio.new_event_loop()
    opened: "asyncio.Future[Marketplace]" = loop.create_future()
    closing = asyncio.Event()

    async def hold_open() -> None:
        try:
            async with open_marketplace(mongodb_url, redis_url, workdir) as market:
                opened.set_result(market)
                await closing.wait()
        except Exception as error:
            if not opened.done():
                opened.set_exception(error)
            raise

    thread = threading.Thread(target=loop.run_until_complete, args=(hold_open(),), daemon=True)
    thread.start()
    market = asyncio.run_coroutine_threadsafe(asyncio.wait_for(asyncio.shield(opened), 120), loop).result()

    def stop() -> None:
        loop.call_soon_threadsafe(closing.set)
        thread.join(60)

    return market, stop


if __name__ == "__main__":
    sys.exit(main())
