"""Seasons, weekends and long-stay discounts quote exactly, the hold freezes the same price, and broken stay rules are
refused by name."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from tests.properties.builders import PROBLEM, published_listing, signed_in


def monday_after(days: int) -> date:
    start = datetime.now(UTC).date() + timedelta(days=days)
    return start + timedelta(days=-start.weekday() % 7)


def quote_path(listing: dict[str, Any], check_in: date, nights: int, guests: int = 2) -> str:
    check_out = check_in + timedelta(days=nights)
    return f"/v1/properties/{listing['id']}/quote?check_in={check_in}&check_out={check_out}&guests={guests}"


async def test_a_stay_across_a_season_boundary_with_weekends_and_a_weekly_discount_quotes_exactly(
    client: TestClient,
) -> None:
    _, agent = await signed_in(client, "agent")
    check_in = monday_after(14)
    high = {"name": "High", "start": str(check_in + timedelta(days=7)), "end": str(check_in + timedelta(days=40)),
            "nightly_price_minor": 20_000, "weekend_price_minor": 26_000}  # fmt: skip
    rules = {
        "weekend_price_minor": 15_000,
        "weekly_discount_percent": 10,
        "monthly_discount_percent": 20,
        "seasons": [high],
    }
    listing = await published_listing(
        client, agent, nightly_price_minor=10_000, cleaning_fee_minor=5_000, stay_rules=rules
    )
    _, guest = await signed_in(client)

    response = await client.get(quote_path(listing, check_in, 12), headers=guest)

    assert response.status == 200, await response.text()
    price = (await response.json())["price"]
    rates = [(night["price_minor"], night["rate"]) for night in price["night_prices"]]
    # Monday to Sunday at the listing's rates (Friday and Saturday at its weekend rate), then Monday to Friday in
    # the high season, whose Friday takes the season's weekend rate.
    assert rates == [
        (10_000, "standard"), (10_000, "standard"), (10_000, "standard"), (10_000, "standard"),
        (15_000, "weekend"), (15_000, "weekend"), (10_000, "standard"),
        (20_000, "season"), (20_000, "season"), (20_000, "season"), (20_000, "season"), (26_000, "season_weekend"),
    ]  # fmt: skip
    assert {key: price[key] for key in price if key != "night_prices"} == {
        "nights": 12,
        "nightly_price_minor": 10_000,
        "nights_total_minor": 186_000,
        "discount": "weekly",
        "discount_percent": 10,
        "discount_minor": 18_600,
        "cleaning_fee_minor": 5_000,
        "total_minor": 172_400,
        "currency": "KES",
        # 10% of 172 400 is 17 240: the commission comes out of the agent's earnings, not on top.
        "platform_fee_minor": 17_240,
        "host_earnings_minor": 155_160,
    }
    body = {
        "property_id": listing["id"],
        "check_in": str(check_in),
        "check_out": str(check_in + timedelta(days=12)),
        "guests": 2,
    }
    held = await client.post("/v1/bookings", json=body, headers=guest)
    assert held.status == 201, await held.text()
    assert (await held.json())["price"] == price

    month = await (await client.get(quote_path(listing, check_in, 28), headers=guest)).json()
    assert (month["price"]["discount"], month["price"]["discount_percent"]) == ("monthly", 20)


async def test_min_and_max_stay_check_in_days_and_notice_are_refused_by_rule(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    check_in = monday_after(21)
    peak = {"name": "Peak", "start": str(check_in + timedelta(days=7)), "end": str(check_in + timedelta(days=14)),
            "nightly_price_minor": 30_000, "min_nights": 5, "max_nights": 6}  # fmt: skip
    rules = {
        "min_nights": 2,
        "max_nights": 10,
        "check_in_days": ["mon", "fri"],
        "advance_notice_days": 3,
        "seasons": [peak],
    }
    listing = await published_listing(client, agent, stay_rules=rules)
    _, guest = await signed_in(client)

    async def refusal(path_or_body: str | dict[str, Any]) -> tuple[int, list[str], list[str]]:
        if isinstance(path_or_body, str):
            response = await client.get(path_or_body, headers=guest)
        else:
            response = await client.post("/v1/bookings", json=path_or_body, headers=guest)
        problem = await response.json(content_type=PROBLEM)
        return response.status, problem["rules"], [error["field"] for error in problem["errors"]]

    assert await refusal(quote_path(listing, check_in, 1)) == (422, ["min_nights"], ["query.check_out"])
    assert await refusal(quote_path(listing, check_in, 11)) == (422, ["max_nights"], ["query.check_out"])
    # Arriving in the peak season, its own limits hold: 4 nights are too few there, 7 too many.
    assert (await refusal(quote_path(listing, check_in + timedelta(days=7), 4)))[1] == ["min_nights"]
    assert (await refusal(quote_path(listing, check_in + timedelta(days=7), 7)))[1] == ["max_nights"]
    assert (await refusal(quote_path(listing, check_in + timedelta(days=1), 3)))[1] == ["check_in_day"]
    soon = datetime.now(UTC).date() + timedelta(days=1)
    assert "advance_notice" in (await refusal(quote_path(listing, soon, 3)))[1]
    too_short = {
        "property_id": listing["id"],
        "check_in": str(check_in),
        "check_out": str(check_in + timedelta(days=1)),
        "guests": 1,
    }
    assert await refusal(too_short) == (422, ["min_nights"], ["body.check_out"])
    assert (await client.get(quote_path(listing, check_in + timedelta(days=7), 5), headers=guest)).status == 200


async def test_rules_that_contradict_themselves_are_refused_when_the_listing_is_saved(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    day = monday_after(10)
    overlapping = [
        {"name": "A", "start": str(day), "end": str(day + timedelta(days=10)), "nightly_price_minor": 1_000},
        {
            "name": "B",
            "start": str(day + timedelta(days=9)),
            "end": str(day + timedelta(days=20)),
            "nightly_price_minor": 2_000,
        },
    ]
    for rules in ({"seasons": overlapping}, {"min_nights": 5, "max_nights": 3}, {"weekly_discount_percent": 95}):
        response = await client.patch(f"/v1/properties/{listing['id']}", json={"stay_rules": rules}, headers=agent)
        assert response.status == 422, rules
    saved = await client.patch(
        f"/v1/properties/{listing['id']}", json={"stay_rules": {"seasons": overlapping[:1]}}, headers=agent
    )
    assert (await saved.json())["stay_rules"]["seasons"][0]["name"] == "A"
