"""The stateful model of the marketplace, a bounded number of runs: every invariant holds after every step."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.model.harness import Marketplace, open_marketplace
from tests.model.machine import MarketplaceModel

RUNS = 6
STEPS_PER_RUN = 25


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
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    # The model is synchronous and calls back into this loop, where the harness lives: it runs in a thread.
    await asyncio.to_thread(run_state_machine_as_test, MarketplaceModel, settings=limits)
