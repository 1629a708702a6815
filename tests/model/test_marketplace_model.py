"""The stateful model of the marketplace, a bounded number of runs: every invariant holds after every step.

`python -m tests.model.soak --steps 10000` runs the same model for as long as asked (docs/model.md)."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.model.harness import Marketplace, open_marketplace
from tests.model.machine import MarketplaceModel

RUNS = 12
STEPS_PER_RUN = 40


@pytest.fixture
async def market(mongodb_url: str, redis_url: str, tmp_path: Path) -> AsyncIterator[Marketplace]:
    async with open_marketplace(mongodb_url, redis_url, tmp_path) as opened:
        yield opened


@pytest.mark.timeout(600)
async def test_every_invariant_holds_after_every_step(market: Marketplace) -> None:
    MarketplaceModel.market = market
    limits = settings(
        max_examples=RUNS,
        stateful_step_count=STEPS_PER_RUN,
        # The same runs every time; no shrinking, which would replay steps against a marketplace that moved on.
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    steps_before = MarketplaceModel.steps_run
    # The model is synchronous and calls back into this loop, where the harness lives: it runs in a thread.
    await asyncio.to_thread(run_state_machine_as_test, MarketplaceModel, settings=limits)
    assert MarketplaceModel.steps_run - steps_before >= RUNS * 5, "the model hardly ran"
