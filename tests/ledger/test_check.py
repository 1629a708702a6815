"""`lango ledger check`: clean after real flows; an unbalanced entry, a balance that is not its lines' sum, or a payout
paid beyond what was set aside is named, by the command too, which then exits non-zero."""

import asyncio
import sys

import pytest
from aiohttp.test_utils import TestClient

from documents.ledger_balance import LedgerBalance
from documents.ledger_entry import LedgerEntry
from gateway.ledger.accounts import PLATFORM_REVENUE, cash, payouts_in_flight
from gateway.vendors.payments import SandboxVendors
from tests.conftest import REPO, TEST_DATABASE
from tests.gateway.test_cli import _clean_env
from tests.ledger.books import ledger_problems
from tests.payments.conftest import held_booking
from tests.payments.test_cards_and_refunds import paid_by_card


async def lango_ledger_check(mongodb_url: str, redis_url: str) -> tuple[int, str]:
    env = _clean_env(MONGODB_URL=mongodb_url, REDIS_URL=redis_url, LANGO_MONGODB__DATABASE=TEST_DATABASE)
    command = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "ledger", "check", env=env, cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(command.communicate(), timeout=60)
    return command.returncode or 0, out.decode() + err.decode()


@pytest.mark.tampers_with_ledger
async def test_the_check_is_clean_after_the_flows_and_names_what_was_tampered_with(
    client: TestClient, sandbox: SandboxVendors, mongodb_url: str, redis_url: str
) -> None:
    booking = await held_booking(client)
    await paid_by_card(client, sandbox, booking)
    await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=booking["guest"])
    assert await ledger_problems() == []
    assert await lango_ledger_check(mongodb_url, redis_url) == (0, "ledger: every entry balances and every balance matches its lines\n")

    # Written past the model, as a bug or a hand in the database would: 10 KES debited from nowhere.
    await LedgerEntry.get_pymongo_collection().insert_one({
        "key": "injected", "kind": "adjustment", "memo": "", "lines": [
            {"account": cash("stripe"), "currency": "KES", "amount_minor": 1000},
            {"account": PLATFORM_REVENUE, "currency": "KES", "amount_minor": -990},
        ],
    })  # fmt: skip
    await LedgerBalance.get_pymongo_collection().update_one({"account": cash("stripe")}, {"$inc": {"balance_minor": 1000}})

    problems = await ledger_problems()
    assert "entry injected does not balance in KES: its lines net to 10" in problems
    assert any(problem.startswith(f"balance of {PLATFORM_REVENUE} in KES is") for problem in problems)
    assert any(problem.startswith(f"balance of {cash('stripe')} in KES splits by kind") for problem in problems)
    code, output = await lango_ledger_check(mongodb_url, redis_url)
    assert code == 1
    assert "lango ledger check: entry injected does not balance in KES: its lines net to 10" in output


@pytest.mark.tampers_with_ledger
async def test_a_payout_paid_beyond_what_was_set_aside_is_named(client: TestClient) -> None:
    # (`client` opens the database.) A balanced entry, with balances to match: only what it does to the host's payouts in flight is wrong.
    host = payouts_in_flight("0" * 24)
    await LedgerEntry.get_pymongo_collection().insert_one({
        "key": "paid-twice", "kind": "payout", "memo": "", "lines": [
            {"account": host, "currency": "KES", "amount_minor": 5000},
            {"account": cash("mpesa"), "currency": "KES", "amount_minor": -5000},
        ],
    })  # fmt: skip
    for account, amount in ((host, 5000), (cash("mpesa"), -5000)):
        await LedgerBalance.get_pymongo_collection().update_one(
            {"account": account, "currency": "KES"},
            {"$inc": {"balance_minor": amount, "by_kind.payout": amount}},
            upsert=True,
        )

    assert await ledger_problems() == [f"{host} in KES is 5000: paid out more than was set aside"]
