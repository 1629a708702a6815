"""`lango ledger reconcile DAY`: reconciles the day now with the vendors the command's own settings reach, prints each
report's counts and exits 1 on a mismatch."""

import asyncio
import sys

from aiohttp.test_utils import TestClient

from documents.reconciliation import ReconciliationReport
from gateway.vendors.payments import SandboxVendors
from tests.conftest import REPO, TEST_DATABASE
from tests.gateway.test_cli import _clean_env
from tests.payments.conftest import held_booking
from tests.payments.test_cards_and_refunds import paid_by_card
from tests.reconciliation.days import today


async def lango_ledger_reconcile(mongodb_url: str, redis_url: str, *arguments: str) -> tuple[int, str, str]:
    env = _clean_env(MONGODB_URL=mongodb_url, REDIS_URL=redis_url, LANGO_MONGODB__DATABASE=TEST_DATABASE)
    command = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "ledger", "reconcile", *arguments, env=env, cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(command.communicate(), timeout=90)
    return command.returncode or 0, out.decode(), err.decode()


async def test_the_command_reports_a_day_and_fails_on_a_mismatch(
    client: TestClient, sandbox: SandboxVendors, mongodb_url: str, redis_url: str
) -> None:
    # The command's process runs a card sandbox of its own, which never saw the card payment this gateway took.
    await paid_by_card(client, sandbox, await held_booking(client))

    status, out, _ = await lango_ledger_reconcile(mongodb_url, redis_url, today(), "--provider", "stripe")

    assert status == 1
    assert out.strip().splitlines()[-1] == (f"stripe {today()}: complete; matched 0, missing at vendor 1, missing in ledger 0, "
                                            "amount differs 0, not checked 0, pending 0")  # fmt: skip
    report = await ReconciliationReport.find_one({"day": today(), "provider": "stripe"})
    assert report is not None and report.runs == 1

    clean_day = "2026-01-05"
    status, out, _ = await lango_ledger_reconcile(mongodb_url, redis_url, clean_day, "--provider", "paypal")
    assert (status, out.strip().splitlines()[-1]) == (0, f"paypal {clean_day}: complete; matched 0, missing at vendor 0, "
                                                         "missing in ledger 0, amount differs 0, not checked 0, pending 0")  # fmt: skip
    status, _, err = await lango_ledger_reconcile(mongodb_url, redis_url, clean_day, "--provider", "visa")
    assert (status, err.strip()) == (1, "lango ledger reconcile: no payment vendor named visa is configured")
    status, _, err = await lango_ledger_reconcile(mongodb_url, redis_url, "yesterday")
    assert status == 2 and "not a day like 2026-12-02: yesterday" in err
