"""Whatever a listing's prices and rules and whatever stay is asked, the quote and the hold agree: the same price to
the minor unit, or the same rules broken."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, event, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from tests.properties.builders import PROBLEM, published_listing, signed_in

PRICE = st.integers(min_value=1, max_value=5_000_000)
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@st.composite
def seasons(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Up to three seasons one after another (gaps allowed), near enough to today that stays cross them."""
    today = datetime.now(UTC).date()
    start = today + timedelta(days=draw(st.integers(min_value=-10, max_value=40)))
    found = []
    for n in range(draw(st.integers(min_value=0, max_value=3))):
        end = start + timedelta(days=draw(st.integers(min_value=1, max_value=20)))
        found.append({
            "name": f"season {n}", "start": str(start), "end": str(end), "nightly_price_minor": draw(PRICE),
            "weekend_price_minor": draw(st.none() | PRICE),
            "min_nights": draw(st.none() | st.integers(1, 5)), "max_nights": draw(st.none() | st.integers(5, 40)),
        })  # fmt: skip
        start = end + timedelta(days=draw(st.integers(min_value=0, max_value=5)))
    return found


RULES = st.fixed_dictionaries({
    "weekend_price_minor": st.none() | PRICE,
    "weekly_discount_percent": st.integers(0, 90),
    "monthly_discount_percent": st.integers(0, 90),
    "min_nights": st.integers(1, 3),
    "max_nights": st.none() | st.integers(3, 60),
    "check_in_days": st.lists(st.sampled_from(WEEKDAYS), unique=True, max_size=7),
    "advance_notice_days": st.integers(0, 4),
    "booking_window_days": st.none() | st.integers(10, 90),
    "seasons": seasons(),
})  # fmt: skip
STAY = st.tuples(st.integers(min_value=-2, max_value=80), st.integers(min_value=-1, max_value=40), st.integers(1, 6))


@pytest.mark.timeout(600)
@examples(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
@given(rules=RULES, base=PRICE, cleaning=st.integers(0, 500_000), stay=STAY)
async def test_quote_and_hold_always_agree(
    client: TestClient, rules: dict[str, Any], base: int, cleaning: int, stay: tuple[int, int, int]
) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(
        client, agent, nightly_price_minor=base, cleaning_fee_minor=cleaning, stay_rules=rules
    )
    _, guest = await signed_in(client)
    offset, nights, guests = stay
    check_in = datetime.now(UTC).date() + timedelta(days=offset)
    check_out = check_in + timedelta(days=nights)
    quoted = await client.get(
        f"/v1/properties/{listing['id']}/quote?check_in={check_in}&check_out={check_out}&guests={guests}", headers=guest
    )
    body = {"property_id": listing["id"], "check_in": str(check_in), "check_out": str(check_out), "guests": guests}
    held = await client.post("/v1/bookings", json=body, headers=guest)

    event(f"quote answered {quoted.status}")
    if quoted.status == 200:
        assert held.status == 201, await held.text()
        price = (await quoted.json())["price"]
        assert (await held.json())["price"] == price
        assert price["total_minor"] == price["nights_total_minor"] - price["discount_minor"] + cleaning
        assert price["nights_total_minor"] == sum(night["price_minor"] for night in price["night_prices"])
        assert price["platform_fee_minor"] + price["host_earnings_minor"] == price["total_minor"]
    else:
        assert (quoted.status, held.status) == (422, 422), await quoted.text()
        quote_problem, hold_problem = await quoted.json(content_type=PROBLEM), await held.json(content_type=PROBLEM)
        assert quote_problem["rules"] == hold_problem["rules"]
