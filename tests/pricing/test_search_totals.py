"""Search with dates prices each stay as a quote would: it filters and sorts on that total, pages through it, and
leaves out listings whose stay rules refuse the dates."""

from datetime import timedelta

from aiohttp.test_utils import TestClient

from tests.pricing.test_quotes import monday_after, quote_path
from tests.properties.builders import published_listing, signed_in


async def test_search_sorts_and_filters_on_the_quoted_total(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    check_in = monday_after(14)
    # Cheapest per night but dearest in all once its weekend rate counts; a weekly discount makes the dear one cheap.
    weekendy = await published_listing(client, agent, title="Weekend rates", nightly_price_minor=9_000,
                                       cleaning_fee_minor=0, stay_rules={"weekend_price_minor": 40_000})  # fmt: skip
    discounted = await published_listing(client, agent, title="Weekly discount", nightly_price_minor=12_000,
                                         cleaning_fee_minor=0, stay_rules={"weekly_discount_percent": 50})  # fmt: skip
    plain = await published_listing(client, agent, title="Plain", nightly_price_minor=11_000, cleaning_fee_minor=0)
    await published_listing(
        client, agent, title="Long stays only", nightly_price_minor=1_000, stay_rules={"min_nights": 14}
    )
    _, guest = await signed_in(client)
    dates = f"check_in={check_in}&check_out={check_in + timedelta(days=7)}"

    found = await (await client.get(f"/v1/properties?{dates}&sort=total", headers=guest)).json()

    ids = [item["id"] for item in found["items"]]
    assert ids == [discounted["id"], plain["id"], weekendy["id"]]
    for item, listing in zip(found["items"], (discounted, plain, weekendy), strict=True):
        quote = await (await client.get(quote_path(listing, check_in, 7), headers=guest)).json()
        assert item["stay_total_minor"] == quote["price"]["total_minor"]
    assert [item["stay_total_minor"] for item in found["items"]] == [42_000, 77_000, 125_000]

    descending = await (await client.get(f"/v1/properties?{dates}&sort=-total", headers=guest)).json()
    assert [item["id"] for item in descending["items"]] == ids[::-1]
    paged, cursor = [], None
    while True:
        page = await (await client.get(f"/v1/properties?{dates}&sort=total&limit=1" + (f"&cursor={cursor}" if cursor else ""),
                                       headers=guest)).json()  # fmt: skip
        paged += [item["id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert paged == ids
    bounded = await (
        await client.get(f"/v1/properties?{dates}&min_total_minor=50000&max_total_minor=100000", headers=guest)
    ).json()
    assert [item["id"] for item in bounded["items"]] == [plain["id"]]
    newest = await (await client.get(f"/v1/properties?{dates}", headers=guest)).json()
    assert {item["id"] for item in newest["items"]} == set(ids)
    undated = await client.get("/v1/properties?sort=total", headers=guest)
    assert undated.status == 422
