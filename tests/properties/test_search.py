"""Guest search over real data: radius, bounds, free dates and filters, in the asked order, page after page."""

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from tests.properties.builders import NAIROBI, problem_type, published_listing, signed_in

LNG, LAT = NAIROBI


def east_of_nairobi(degrees: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [LNG + degrees, LAT]}


async def search(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/properties", params={key: str(value) for key, value in params.items()}, headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def every_page(client: TestClient, headers: dict[str, str], **params: Any) -> list[str]:
    titles: list[str] = []
    cursor = None
    while True:
        page = await search(client, headers, **params, **({"cursor": cursor} if cursor else {}))
        titles += [item["title"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return titles


async def test_near_a_point_within_a_radius_nearest_first(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    for title, degrees in (("far", 0.18), ("near", 0.009), ("middle", 0.027), ("edge", 0.072)):
        await published_listing(client, agent, title=title, location=east_of_nairobi(degrees))
    _, guest = await signed_in(client)
    page = await search(client, guest, near_lng=LNG, near_lat=LAT, radius_m=10_000)
    assert [item["title"] for item in page["items"]] == ["near", "middle", "edge"]
    distances = [item["distance_m"] for item in page["items"]]
    assert 900 < distances[0] < 1_100 and 2_900 < distances[1] < 3_100 and 7_900 < distances[2] < 8_100
    assert await every_page(client, guest, near_lng=LNG, near_lat=LAT, radius_m=50_000, limit=1) == [
        "near", "middle", "edge", "far"
    ]  # fmt: skip
    by_price = await search(client, guest, near_lng=LNG, near_lat=LAT, radius_m=10_000, sort="price")
    assert len(by_price["items"]) == 3


async def test_within_map_bounds(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    await published_listing(client, agent, title="inside", location={"type": "Point", "coordinates": [36.80, -1.28]})
    await published_listing(client, agent, title="east", location={"type": "Point", "coordinates": [36.95, -1.28]})
    await published_listing(client, agent, title="south", location={"type": "Point", "coordinates": [36.80, -1.40]})
    _, guest = await signed_in(client)
    page = await search(client, guest, sw_lng=36.75, sw_lat=-1.32, ne_lng=36.85, ne_lat=-1.25)
    assert [item["title"] for item in page["items"]] == ["inside"]


async def test_only_listings_free_for_the_dates(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    free = await published_listing(client, agent, title="free")
    booked = await published_listing(client, agent, title="booked")
    blocked = await published_listing(client, agent, title="blocked")
    leaving = await published_listing(client, agent, title="guest leaves on check-in day")
    _, guest = await signed_in(client)
    check_in = datetime.now(UTC).date() + timedelta(days=30)

    async def hold(listing: dict[str, Any], start_offset: int, nights: int) -> None:
        start = check_in + timedelta(days=start_offset)
        body = {"property_id": listing["id"], "check_in": str(start), "check_out": str(start + timedelta(days=nights)), "guests": 1}
        assert (await client.post("/v1/bookings", json=body, headers=guest)).status == 201

    await hold(booked, 2, 1)
    await hold(leaving, -3, 3)
    window = {"start": str(check_in + timedelta(days=3)), "end": str(check_in + timedelta(days=10))}
    assert (await client.post(f"/v1/properties/{blocked['id']}/blocks", json=window, headers=agent)).status == 201

    page = await search(client, guest, check_in=check_in, check_out=check_in + timedelta(days=4), sort="price")
    assert sorted(item["title"] for item in page["items"]) == ["free", "guest leaves on check-in day"]
    assert page["items"][0]["stay_total_minor"] == 4 * 500_000 + 100_000
    later = await search(client, guest, check_in=check_in + timedelta(days=10), check_out=check_in + timedelta(days=12))
    assert len(later["items"]) == 4
    assert free["id"] in {item["id"] for item in later["items"]}


async def test_filters_combine(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    await published_listing(client, agent, title="match", type="house", bedrooms=3, max_guests=6,
                            nightly_price_minor=800_000, amenities=["wifi", "pool"],
                            address={"county": "Mombasa", "town": "Nyali"})  # fmt: skip
    await published_listing(client, agent, title="wrong type", type="room", bedrooms=3, max_guests=6,
                            nightly_price_minor=800_000, amenities=["wifi", "pool"],
                            address={"county": "Mombasa", "town": "Nyali"})  # fmt: skip
    await published_listing(client, agent, title="too dear", type="house", bedrooms=3, max_guests=6,
                            nightly_price_minor=2_000_000, amenities=["wifi", "pool"],
                            address={"county": "Mombasa", "town": "Nyali"})  # fmt: skip
    await published_listing(client, agent, title="no pool", type="house", bedrooms=3, max_guests=6,
                            nightly_price_minor=800_000, amenities=["wifi"],
                            address={"county": "Mombasa", "town": "Nyali"})  # fmt: skip
    await published_listing(client, agent, title="too small", type="house", bedrooms=1, max_guests=2,
                            nightly_price_minor=800_000, amenities=["wifi", "pool"],
                            address={"county": "Mombasa", "town": "Nyali"})  # fmt: skip
    await published_listing(client, agent, title="elsewhere", type="house", bedrooms=3, max_guests=6,
                            nightly_price_minor=800_000, amenities=["wifi", "pool"],
                            address={"county": "Kilifi", "town": "Malindi"})  # fmt: skip
    draft = await client.post("/v1/properties", json={"title": "draft"}, headers=agent)
    assert draft.status == 422
    _, guest = await signed_in(client)
    page = await search(client, guest, type="house", min_price_minor=500_000, max_price_minor=1_000_000,
                        min_bedrooms=2, guests=5, amenities="pool", county="Mombasa", town="Nyali")  # fmt: skip
    assert [item["title"] for item in page["items"]] == ["match"]


async def test_pages_have_no_duplicates_or_gaps_when_listings_are_added_between_them(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    prices = [300_000, 100_000, 500_000, 200_000, 200_000, 400_000, 600_000]
    originals = [
        (await published_listing(client, agent, title=f"original {index}", nightly_price_minor=price))["id"]
        for index, price in enumerate(prices)
    ]
    _, guest = await signed_in(client)
    for sort in ("price", "-price", "newest"):
        seen: list[dict[str, Any]] = []
        page = await search(client, guest, sort=sort, limit=2)
        seen += page["items"]
        added = 0
        while page["next_cursor"]:
            # Listings that sort before and after the cursor appear while the guest pages.
            for price in (50_000, 700_000):
                await published_listing(client, agent, title=f"added {sort} {added}", nightly_price_minor=price)
                added += 1
            page = await search(client, guest, sort=sort, limit=2, cursor=page["next_cursor"])
            seen += page["items"]
        ids = [item["id"] for item in seen]
        assert len(ids) == len(set(ids)), f"{sort}: a listing appeared twice"
        assert set(originals) <= set(ids), f"{sort}: a listing was skipped"
        keys = [_sort_key(item, sort) for item in seen]
        assert keys == sorted(keys), f"{sort}: out of order"


def _sort_key(item: dict[str, Any], sort: str) -> Any:
    if sort == "price":
        return (item["nightly_price_minor"], item["id"])
    if sort == "-price":
        return (-item["nightly_price_minor"], _descending(item["id"]))
    # As instants, not strings: a time on a whole second is written without a fraction and would sort apart.
    return (-datetime.fromisoformat(item["created_at"]).timestamp(), _descending(item["id"]))


def _descending(text: str) -> tuple[int, ...]:
    return tuple(-ord(character) for character in text)


async def test_distance_pages_survive_inserts(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    originals = [
        (await published_listing(client, agent, title=f"spot {index}", location=east_of_nairobi(0.01 * index)))["id"]
        for index in range(1, 6)
    ]
    # Two listings at exactly the same spot: the id breaks the tie across a page boundary.
    originals.append((await published_listing(client, agent, title="twin", location=east_of_nairobi(0.02)))["id"])
    _, guest = await signed_in(client)
    query = {"near_lng": LNG, "near_lat": LAT, "radius_m": 20_000, "limit": 2}
    page = await search(client, guest, **query)
    seen = list(page["items"])
    while page["next_cursor"]:
        await published_listing(client, agent, title="closer", location=east_of_nairobi(0.001))
        page = await search(client, guest, **query, cursor=page["next_cursor"])
        seen += page["items"]
    ids = [item["id"] for item in seen]
    assert len(ids) == len(set(ids)) and set(originals) <= set(ids)
    distances = [item["distance_m"] for item in seen]
    assert distances == sorted(distances)


async def test_results_are_cached_until_a_listing_or_its_availability_changes(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent, title="cached")
    _, guest = await signed_in(client)
    params = {"sort": "price"}
    first = await client.get("/v1/properties", params=params, headers=guest)
    second = await client.get("/v1/properties", params=params, headers=guest)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert await first.json() == await second.json()

    renamed = await client.patch(f"/v1/properties/{listing['id']}", json={"title": "renamed"}, headers=agent)
    assert renamed.status == 200
    after_change = await client.get("/v1/properties", params=params, headers=guest)
    assert after_change.headers["X-Cache"] == "miss"
    assert (await after_change.json())["items"][0]["title"] == "renamed"

    check_in = datetime.now(UTC).date() + timedelta(days=7)
    dates = {"check_in": str(check_in), "check_out": str(check_in + timedelta(days=2))}
    assert len((await search(client, guest, **dates))["items"]) == 1
    body = {"property_id": listing["id"], **dates, "guests": 1}
    assert (await client.post("/v1/bookings", json=body, headers=guest)).status == 201
    assert (await search(client, guest, **dates))["items"] == []


async def test_bad_cursors_and_inconsistent_queries_are_refused(client: TestClient) -> None:
    _, guest = await signed_in(client)
    tampered = await client.get("/v1/properties", params={"cursor": "not-a-cursor!"}, headers=guest)
    assert tampered.status == 400 and await problem_type(tampered) == "invalid-cursor"
    _, agent = await signed_in(client, "agent")
    for index in range(3):
        await published_listing(client, agent, title=f"listing {index}")
    cursor = (await search(client, guest, sort="price", limit=1))["next_cursor"]
    other_sort = await client.get("/v1/properties", params={"cursor": cursor, "sort": "newest"}, headers=guest)
    assert other_sort.status == 400
    half_bounds = await client.get("/v1/properties", params={"sw_lng": "36.7"}, headers=guest)
    assert half_bounds.status == 422
    distance_without_point = await client.get("/v1/properties", params={"sort": "distance"}, headers=guest)
    assert distance_without_point.status == 422
    assert (await client.get("/v1/properties")).status == 401


async def test_a_listing_priced_at_a_bound_of_the_price_filter_is_found(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    for price in (400_000, 500_000, 600_000, 700_000):
        await published_listing(client, agent, title=f"at {price}", nightly_price_minor=price)
    _, guest = await signed_in(client)
    for sort in ("price", "-price", "newest"):
        page = await search(client, guest, sort=sort, min_price_minor=500_000, max_price_minor=600_000)
        assert sorted(item["title"] for item in page["items"]) == ["at 500000", "at 600000"], sort
