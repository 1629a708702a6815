"""Search through the grid and the listings' claimed nights answers exactly what the straightforward evaluation
does ($geoNear over every listing, free dates as "not one of the claimed ids"), page after page, for random
listings, claims and searches."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import hypothesis
import orjson
import pytest
from aiohttp.test_utils import TestClient
from beanie import PydanticObjectId
from hypothesis import strategies as st

from documents.night_claim import NightClaim, stored_date
from documents.property import Address, GeoPoint, Property, PropertyStatus
from gateway.bookings.claims import block_nights, unblock_nights
from gateway.properties.search import SearchQuery, search_listings
from gateway.properties.search_cache import bump_search_version
from gateway.services import Services
from gateway.state import SERVICES

# Places where the grid has edges to get wrong: a city, the antimeridian, near a pole.
CENTRES = [(36.8219, -1.2921), (179.99, 10.0), (-179.995, -20.0), (20.0, 89.95)]
AMENITIES = ["wifi", "pool", "parking"]
TODAY = datetime.now(UTC).date()

def listings_around(offset: st.SearchStrategy[float]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({
        "east": offset,
        "north": offset,
        "price": st.sampled_from([100_000, 200_000, 350_000]),
        "bedrooms": st.integers(0, 3),
        "guests": st.integers(1, 6),
        "amenities": st.lists(st.sampled_from(AMENITIES), unique=True),
        "published": st.sampled_from([True, True, True, False]),
        "minutes_old": st.integers(0, 5),
        "blocked": st.none() | st.tuples(st.integers(0, 6), st.integers(1, 4)),
        "unblocked": st.none() | st.tuples(st.integers(0, 6), st.integers(1, 4)),
    })  # fmt: skip


# Derandomized, and without the explain phase: its tracing would hold the event loop the gateway runs on.
EXAMPLES = hypothesis.settings(
    max_examples=30, deadline=None, database=None, derandomize=True,
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink],
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture, hypothesis.HealthCheck.too_slow],
)  # fmt: skip
# Offsets on a lattice, so that several listings share a spot and distances tie.
NEAR_OFFSETS = st.integers(-40, 40).map(lambda steps: steps * 0.0006)
FAR_OFFSETS = st.integers(-30, 30).map(lambda steps: steps * 0.01)

search_strategy = st.fixed_dictionaries(
    {
        "radius_m": st.sampled_from([300, 1_000, 2_500, 6_000, 40_000]),
        "limit": st.integers(1, 6),
        "sort": st.sampled_from([None, "distance", "price", "-price", "newest"]),
        "near": st.sampled_from([True, True, True, False]),
    },
    optional={
        "stay": st.tuples(st.integers(0, 8), st.integers(1, 4)),
        # 200,000 is a listing's price: a listing priced at the bound is found.
        "max_price_minor": st.sampled_from([150_000, 200_000, 250_000]),
        "min_bedrooms": st.integers(1, 3),
        "guests": st.integers(2, 5),
        "amenities": st.lists(st.sampled_from(AMENITIES), min_size=1, max_size=2, unique=True),
    },
)


async def _seed(services: Services, centre: tuple[float, float], listings: list[dict[str, Any]]) -> None:
    await Property.get_pymongo_collection().delete_many({})
    await NightClaim.get_pymongo_collection().delete_many({})
    now = datetime.now(UTC).replace(microsecond=0)
    documents = [
        Property(
            id=PydanticObjectId(), agent_id="agent", title=f"listing {index}", description_html="<p>x</p>", type="house",
            bedrooms=spec["bedrooms"], bathrooms=1, max_guests=spec["guests"], amenities=sorted(spec["amenities"]),
            nightly_price_minor=spec["price"], cleaning_fee_minor=50_000, currency="KES",
            location=GeoPoint(coordinates=(_wrap(centre[0] + spec["east"]), min(90.0, centre[1] + spec["north"]))),
            address=Address(county="Nairobi", town="Nairobi"),
            status=PropertyStatus.PUBLISHED if spec["published"] else PropertyStatus.DRAFT,
            created_at=now - timedelta(minutes=spec["minutes_old"]),
        )
        for index, spec in enumerate(listings)
    ]  # fmt: skip
    if documents:
        await Property.insert_many(documents)
    for document, spec in zip(documents, listings, strict=True):
        assert document.id is not None  # given above: insert_many does not set it
        if spec["blocked"]:
            start = TODAY + timedelta(days=spec["blocked"][0])
            await block_nights(services, document.id, start, start + timedelta(days=spec["blocked"][1]))
        if spec["unblocked"]:
            start = TODAY + timedelta(days=spec["unblocked"][0])
            await unblock_nights(services, document.id, start, start + timedelta(days=spec["unblocked"][1]))
    await bump_search_version(services)


def _wrap(longitude: float) -> float:
    return longitude - 360 if longitude > 180 else longitude + 360 if longitude < -180 else longitude


def _query(centre: tuple[float, float], search: dict[str, Any], cursor: str | None = None) -> SearchQuery:
    fields = {key: value for key, value in search.items() if key not in ("stay", "near")}
    if search["near"]:
        fields |= {"near_lng": centre[0], "near_lat": centre[1]}
    else:
        fields.pop("radius_m")
        if fields["sort"] == "distance":
            fields["sort"] = None
    if "stay" in search:
        check_in = TODAY + timedelta(days=search["stay"][0])
        fields |= {"check_in": check_in, "check_out": check_in + timedelta(days=search["stay"][1])}
    return SearchQuery.model_validate({**fields, "cursor": cursor})


async def _every_page(services: Services, query: SearchQuery) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = orjson.loads((await search_listings(services, query))[0])
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        query = query.model_copy(update={"cursor": page["next_cursor"]})


async def _straightforward(query: SearchQuery) -> list[dict[str, Any]]:
    """Every answer at once, the way the search ran before the grid: $geoNear, then a sort, ids as strings."""
    bounds = {"max_price_minor": ("nightly_price_minor", "$lte"), "min_bedrooms": ("bedrooms", "$gte"), "guests": ("max_guests", "$gte")}
    filters: dict[str, Any] = {"status": "published"}
    filters |= {field: {op: getattr(query, name)} for name, (field, op) in bounds.items() if getattr(query, name) is not None}
    filters |= {"amenities": {"$all": query.amenities}} if query.amenities else {}
    if query.check_in and query.check_out:
        nights = {"night": {"$gte": stored_date(query.check_in), "$lt": stored_date(query.check_out)}}
        filters["_id"] = {"$nin": await NightClaim.get_pymongo_collection().distinct("property_id", nights)}
    sort = query.effective_sort
    field, direction = {"distance": ("distance_m", 1), "price": ("nightly_price_minor", 1),
                        "-price": ("nightly_price_minor", -1), "newest": ("created_at", -1)}[sort]  # fmt: skip
    if query.near_lng is not None:
        point = {"type": "Point", "coordinates": [query.near_lng, query.near_lat]}
        near = {"near": point, "distanceField": "distance_m", "key": "location", "spherical": True, "maxDistance": query.radius_m, "query": filters}
        pipeline: list[dict[str, Any]] = [{"$geoNear": near}]
    else:
        pipeline = [{"$match": filters}]
    pipeline.append({"$sort": {field: direction, "_id": direction}})
    rows = await (await Property.get_pymongo_collection().aggregate(pipeline)).to_list()
    return [{"id": str(row["_id"]), "distance_m": row.get("distance_m"), "stay_total_minor": _stay_total(query, row)} for row in rows]


def _stay_total(query: SearchQuery, row: dict[str, Any]) -> int | None:
    if not (query.check_in and query.check_out):
        return None
    return (query.check_out - query.check_in).days * row["nightly_price_minor"] + row["cleaning_fee_minor"]


async def _claimed_nights_mirror_the_claims() -> None:
    claims: dict[PydanticObjectId, set[date]] = {}
    async for claim in NightClaim.get_pymongo_collection().find({}):
        claims.setdefault(claim["property_id"], set()).add(claim["night"].date())
    async for listing in Property.get_pymongo_collection().find({}, {"claimed_nights": 1}):
        assert {night.date() for night in listing["claimed_nights"]} == claims.get(listing["_id"], set())


@pytest.mark.timeout(600)
@EXAMPLES
@hypothesis.given(
    centre=st.sampled_from(CENTRES),
    listings=st.lists(listings_around(NEAR_OFFSETS | FAR_OFFSETS), max_size=40),
    searches=st.lists(search_strategy, min_size=1, max_size=3),
)
async def test_grid_search_answers_what_geo_near_answers(
    client: TestClient, centre: tuple[float, float], listings: list[dict[str, Any]], searches: list[dict[str, Any]]
) -> None:
    services = client.app[SERVICES]
    await _seed(services, centre, listings)
    await _claimed_nights_mirror_the_claims()
    for search in searches:
        query = _query(centre, search)
        paged = await _every_page(services, query)
        expected = await _straightforward(query)
        answered = [{key: item[key] for key in ("id", "distance_m", "stay_total_minor")} for item in paged]
        assert answered == expected, f"{search} at {centre}"


@pytest.mark.timeout(600)
@EXAMPLES
@hypothesis.given(
    listings=st.lists(listings_around(st.integers(-25, 25).map(lambda steps: steps * 0.0005)), min_size=10, max_size=60),
    limit=st.integers(1, 8),
    stay=st.none() | st.tuples(st.integers(0, 8), st.integers(1, 4)),
)
async def test_nearest_pages_in_a_crowded_place(
    client: TestClient, listings: list[dict[str, Any]], limit: int, stay: tuple[int, int] | None
) -> None:
    """Many listings within a few hundred meters: the nearest pages come from the smallest circles."""
    services = client.app[SERVICES]
    centre = CENTRES[0]
    await _seed(services, centre, listings)
    search = {"radius_m": 20_000, "limit": limit, "sort": "distance", "near": True} | ({"stay": stay} if stay else {})
    query = _query(centre, search)
    answered = [{key: item[key] for key in ("id", "distance_m", "stay_total_minor")} for item in await _every_page(services, query)]
    assert answered == await _straightforward(query)
