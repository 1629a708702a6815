"""`lango ledger check`: every entry balances, every stored balance equals the sum of its account's lines, and no
payout paid out more than was set aside for it."""

from collections import defaultdict
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from documents.ledger_balance import LedgerBalance
from documents.ledger_entry import LedgerEntry
from gateway.ledger.accounts import payouts_in_flight

Totals = dict[tuple[str, str], dict[str, int]]
_IN_FLIGHT = payouts_in_flight("")


def _entry_problems(raw: dict[str, Any], totals: Totals) -> list[str]:
    """What is wrong with one stored entry, read as stored (an entry the model would refuse must still be named)."""
    name = f"entry {raw.get('key') or raw['_id']}"
    lines = raw.get("lines")
    if not isinstance(lines, list) or len(lines) < 2:
        return [f"{name} has fewer than two lines"]
    nets: dict[str, int] = defaultdict(int)
    problems: list[str] = []
    for line in lines:
        account, currency, amount = line.get("account"), line.get("currency"), line.get("amount_minor")
        if not isinstance(account, str) or not isinstance(currency, str) or type(amount) is not int:
            problems.append(f"{name} has a malformed line {line!r}")
            continue
        nets[currency] += amount
        by_kind = totals[(account, currency)]
        by_kind[str(raw.get("kind"))] += amount
    problems += [f"{name} does not balance in {currency}: its lines net to {net}" for currency, net in sorted(nets.items()) if net]
    return problems


async def check_ledger(database: AsyncDatabase) -> list[str]:
    """Every problem found, as sentences naming the entry or account; an empty list when the ledger is sound."""
    totals: Totals = defaultdict(lambda: defaultdict(int))
    problems: list[str] = []
    async for raw in database[LedgerEntry.Settings.name].find({}, sort=[("_id", 1)]):
        problems += _entry_problems(raw, totals)
    stored: set[tuple[str, str]] = set()
    async for balance in database[LedgerBalance.Settings.name].find({}):
        where = (balance["account"], balance["currency"])
        stored.add(where)
        by_kind = totals.get(where, {})
        if balance.get("balance_minor", 0) != sum(by_kind.values()):
            problems.append(f"balance of {where[0]} in {where[1]} is {balance.get('balance_minor')}, its lines sum to {sum(by_kind.values())}")
        kept = {kind: amount for kind, amount in (balance.get("by_kind") or {}).items() if amount}
        summed = {kind: amount for kind, amount in by_kind.items() if amount}
        if kept != summed:
            problems.append(f"balance of {where[0]} in {where[1]} splits by kind as {kept}, its lines as {summed}")
        # Set aside as a liability (below zero) when a payout starts; above zero, more left than was set aside.
        if where[0].startswith(_IN_FLIGHT) and balance.get("balance_minor", 0) > 0:
            problems.append(f"{where[0]} in {where[1]} is {balance['balance_minor']}: paid out more than was set aside")
    for account, currency in sorted(set(totals) - stored):
        if any(totals[(account, currency)].values()):
            problems.append(f"{account} in {currency} has lines but no stored balance")
    return problems
