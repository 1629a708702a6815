"""Guest search: filters, radius and map bounds, free dates, sorted and paged by an opaque keyset cursor."""

import base64
import binascii
import heapq
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from bson import ObjectId
from pydantic import Field, model_validator

from documents.night_claim import stored_date
from documents.property import Property, PropertyStatus, PropertyType
from gateway.input_types import ApiDate
from gateway.pricing.stays import TERMS_FIELDS, ListingTerms, stay_rule_breaks, stay_total_minor, today_utc
from gateway.problems import MalformedRequest
from gateway.properties.listings import MAX_PRICE_MINOR, Amenity
from gateway.properties.nearby import rows_near
from gateway.properties.search_cache import cached_page, store_page
from gateway.properties.views import ListingSummary, SearchPage
from gateway.request_models import RequestModel
from gateway.services import Services
from gateway.settings import BookingSettings

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Sort = Literal["distance", "price", "-price", "total", "-total", "newest", "rating"]
# A stay's total: a year of nights at the highest nightly price, with room for fees.
MAX_TOTAL_MINOR = 10**14
# Candidates read per round trip when every listing free on the dates is priced.
_PRICING_BATCH = 500
Longitude = Annotated[float, Field(ge=-180, le=180)]
Latitude = Annotated[float, Field(ge=-90, le=90)]

# Each sort orders by one field and then by _id, so every position in the order is unique.
_SORT_FIELDS: dict[str, tuple[str, int]] = {
    "distance": ("distance_m", 1),
    "price": ("nightly_price_minor", 1),
    "-price": ("nightly_price_minor", -1),
    # What the stay costs in all (seasons, weekends, discounts, cleaning), priced here: only with dates.
    "total": ("stay_total_minor", 1),
    "-total": ("stay_total_minor", -1),
    "newest": ("created_at", -1),
    # Best rated first; listings without reviews (average 0) last.
    "rating": ("rating_average", -1),
}
_SUMMARY_FIELDS = [
    "title", "type", "bedrooms", "bathrooms", "max_guests", "amenities", "nightly_price_minor",
    "cleaning_fee_minor", "currency", "location", "address", "cover_photo_id", "created_at",
    "rating_average", "rating_count",
]  # fmt: skip
_PROJECTION = {name: 1 for name in _SUMMARY_FIELDS}
_PRICED_PROJECTION = _PROJECTION | {name: 1 for name in TERMS_FIELDS}


class InvalidCursor(MalformedRequest):
    slug, title = "invalid-cursor", "The cursor is not one this search gave out"


def _in_order(low: int | None, high: int | None) -> bool:
    return low is None or high is None or low <= high


class SearchQuery(RequestModel):
    type: list[PropertyType] | None = None
    min_price_minor: Annotated[int, Field(ge=0, le=MAX_PRICE_MINOR)] | None = None
    max_price_minor: Annotated[int, Field(ge=0, le=MAX_PRICE_MINOR)] | None = None
    # The whole stay's price (check_in and check_out required), as a quote of it would answer.
    min_total_minor: Annotated[int, Field(ge=0, le=MAX_TOTAL_MINOR)] | None = None
    max_total_minor: Annotated[int, Field(ge=0, le=MAX_TOTAL_MINOR)] | None = None
    min_bedrooms: Annotated[int, Field(ge=0, le=100)] | None = None
    guests: Annotated[int, Field(ge=1, le=1_000)] | None = None
    amenities: list[Amenity] | None = Field(None, max_length=20)
    min_rating: Annotated[float, Field(ge=1, le=5, description="listings whose guests rated them this well on average")] | None = None
    county: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    town: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    near_lng: Longitude | None = None
    near_lat: Latitude | None = None
    # At most the ceiling of [bookings] search_max_radius_m; the setting's own value is checked in the search.
    radius_m: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    # Map bounds as south-west and north-east corners.
    sw_lng: Longitude | None = None
    sw_lat: Latitude | None = None
    ne_lng: Longitude | None = None
    ne_lat: Latitude | None = None
    check_in: ApiDate | None = None
    check_out: ApiDate | None = None
    sort: Sort | None = None
    limit: Annotated[int, Field(ge=1, le=100)] | None = None
    cursor: Annotated[str, Field(max_length=200)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "SearchQuery":
        if (self.near_lng is None) != (self.near_lat is None):
            raise ValueError("near_lng and near_lat go together")
        if self.radius_m is not None and self.near_lng is None:
            raise ValueError("radius_m needs near_lng and near_lat")
        if self.sort == "distance" and self.near_lng is None:
            raise ValueError("sort=distance needs near_lng and near_lat")
        corners = (self.sw_lng, self.sw_lat, self.ne_lng, self.ne_lat)
        if any(value is not None for value in corners) and None in corners:
            raise ValueError("map bounds need sw_lng, sw_lat, ne_lng and ne_lat")
        if self.sw_lat is not None and self.ne_lat is not None and self.sw_lat >= self.ne_lat:
            raise ValueError("sw_lat must be south of ne_lat")
        if (self.check_in is None) != (self.check_out is None):
            raise ValueError("check_in and check_out go together")
        if self.check_in and self.check_out and self.check_out <= self.check_in:
            raise ValueError("check_out must be after check_in")
        if not _in_order(self.min_price_minor, self.max_price_minor):
            raise ValueError("min_price_minor must not exceed max_price_minor")
        wants_total = (
            self.min_total_minor is not None or self.max_total_minor is not None or self.sort in ("total", "-total")
        )
        if wants_total and self.check_in is None:
            raise ValueError("min_total_minor, max_total_minor and sort=total need check_in and check_out")
        if not _in_order(self.min_total_minor, self.max_total_minor):
            raise ValueError("min_total_minor must not exceed max_total_minor")
        return self

    @property
    def effective_sort(self) -> Sort:
        return self.sort or ("distance" if self.near_lng is not None else "newest")


async def search_listings(services: Services, query: SearchQuery) -> tuple[bytes, bool]:
    """The page as JSON, and whether it came from the cache."""
    settings = services.settings.bookings
    if query.radius_m is not None and query.radius_m > settings.search_max_radius_m:
        raise MalformedRequest(f"radius_m may be at most {settings.search_max_radius_m}")
    limit = query.limit or settings.search_page_size
    key, cached = await cached_page(services, query.model_dump_json() + f"|{limit}")
    if cached is not None:
        return cached, True
    page = (await _run_search(services, query, limit)).model_dump_json().encode()
    await store_page(services, key, page)
    return page, False


async def _run_search(services: Services, query: SearchQuery, limit: int) -> SearchPage:
    sort = query.effective_sort
    field, direction = _SORT_FIELDS[sort]
    after = _decode_cursor(query.cursor, sort) if query.cursor else None
    filters = _filters(query)
    stay = _StayPricing(query, services.settings.bookings) if query.check_in and query.check_out else None
    if query.near_lng is not None and query.near_lat is not None:
        found = await _near_rows(
            query, filters, sort, after, limit + 1, services.settings.bookings.search_max_radius_m, stay
        )
    elif stay is not None:
        found = await _priced_rows(filters, stay, sort, after, limit + 1)
    else:
        pipeline: list[dict[str, Any]] = [{"$match": filters}]
        if after is not None:
            pipeline.append({"$match": _after(field, direction, after)})
        pipeline += [{"$sort": {field: direction, "_id": direction}}, {"$limit": limit + 1}, {"$project": _PROJECTION}]
        found = await (await Property.get_pymongo_collection().aggregate(pipeline)).to_list()
    items = [_summary(row) for row in found[:limit]]
    next_cursor = _encode_cursor(sort, found[limit - 1], field) if len(found) > limit else None
    return SearchPage(items=items, next_cursor=next_cursor)


class _StayPricing:
    """The asked stay priced at each candidate by the quote's own calculation; a listing whose stay rules refuse the
    dates, or whose total is outside the asked bounds, is left out."""

    def __init__(self, query: SearchQuery, settings: BookingSettings) -> None:
        assert query.check_in is not None and query.check_out is not None
        self.check_in, self.check_out = query.check_in, query.check_out
        self.guests = query.guests or 1
        self.low, self.high = query.min_total_minor, query.max_total_minor
        self.settings = settings
        self.today = today_utc()

    def admits(self, row: dict[str, Any]) -> bool:
        """Prices the row once (its `stay_total_minor`, None when its rules refuse the stay) and says if it is wanted."""
        if "stay_total_minor" not in row:
            terms = ListingTerms.of_row(row)
            refused = stay_rule_breaks(terms, self.check_in, self.check_out, self.guests, self.today, self.settings)
            row["stay_total_minor"] = None if refused else stay_total_minor(terms, self.check_in, self.check_out)
        total = row["stay_total_minor"]
        return (
            total is not None and (self.low is None or total >= self.low) and (self.high is None or total <= self.high)
        )


async def _priced_rows(
    filters: dict[str, Any], stay: _StayPricing, sort: Sort, after: tuple[Any, ObjectId] | None, wanted: int
) -> list[dict[str, Any]]:
    """The first `wanted` rows after the cursor in the sort's order, among listings free on the dates whose rules take
    the stay. A stored order (newest, price) is read through its index and stops at a full page; an order by total
    prices every candidate, streamed, keeping only the best `wanted`, so memory stays one page whatever the count (and
    the page is cached like any other, search_cache_ttl_s)."""
    field, direction = _SORT_FIELDS[sort]
    collection = Property.get_pymongo_collection()
    if field != "stay_total_minor":
        query = {"$and": [filters, _after(field, direction, after)]} if after is not None else filters
        ordered = collection.find(query, _PRICED_PROJECTION, batch_size=_PRICING_BATCH).sort(
            [(field, direction), ("_id", direction)]
        )
        page: list[dict[str, Any]] = []
        async for row in ordered:
            if stay.admits(row):
                page.append(row)
                if len(page) == wanted:
                    break
        await ordered.close()
        return page
    descending = direction == -1

    def key(row: dict[str, Any]) -> tuple[Any, ObjectId]:
        return row[field], row["_id"]

    best: list[dict[str, Any]] = []
    async for row in collection.find(filters, _PRICED_PROJECTION, batch_size=_PRICING_BATCH):
        if stay.admits(row) and (after is None or (key(row) < after if descending else key(row) > after)):
            best.append(row)
            if len(best) >= 2 * wanted:
                best = _first(best, key, descending, wanted)
    return _first(best, key, descending, wanted)


def _first(rows: list[dict[str, Any]], key: Any, descending: bool, wanted: int) -> list[dict[str, Any]]:
    return (heapq.nlargest if descending else heapq.nsmallest)(wanted, rows, key=key)


async def _near_rows(
    query: SearchQuery,
    filters: dict[str, Any],
    sort: Sort,
    after: tuple[Any, ObjectId] | None,
    wanted: int,
    max_radius_m: int,
    stay: _StayPricing | None,
) -> list[dict[str, Any]]:
    """The first `wanted` rows after the cursor, in the sort's order, among listings within the radius."""
    assert query.near_lng is not None and query.near_lat is not None
    field, direction = _SORT_FIELDS[sort]
    descending = direction == -1

    def key(row: dict[str, Any]) -> tuple[Any, ObjectId]:
        return row[field], row["_id"]

    def beyond_cursor(row: dict[str, Any]) -> bool:
        return (stay is None or stay.admits(row)) and (
            after is None or (key(row) < after if descending else key(row) > after)
        )

    by_distance = sort == "distance"
    rows = await rows_near(
        query.near_lng, query.near_lat, query.radius_m or max_radius_m, filters, _PRICED_PROJECTION if stay else _PROJECTION,
        wanted=wanted if by_distance else None,
        after_distance_m=after[0] if by_distance and after is not None else 0.0,
        accept=beyond_cursor,
    )  # fmt: skip
    return sorted(filter(beyond_cursor, rows), key=key, reverse=descending)[:wanted]


def _filters(query: SearchQuery) -> dict[str, Any]:
    filters: dict[str, Any] = {"status": PropertyStatus.PUBLISHED.value}
    if query.type:
        filters["type"] = {"$in": [kind.value for kind in query.type]}
    # The upper bound as "below the next minor unit": the same for integer prices, and the embedded engine
    # (SecantusDB 0.7) drops documents equal to an inclusive upper bound when it scans a compound index.
    below = None if query.max_price_minor is None else query.max_price_minor + 1
    price = {op: value for op, value in (("$gte", query.min_price_minor), ("$lt", below)) if value is not None}
    if price:
        filters["nightly_price_minor"] = price
    if query.min_bedrooms is not None:
        filters["bedrooms"] = {"$gte": query.min_bedrooms}
    if query.guests is not None:
        filters["max_guests"] = {"$gte": query.guests}
    if query.amenities:
        filters["amenities"] = {"$all": query.amenities}
    if query.min_rating is not None:
        filters["rating_average"] = {"$gte": query.min_rating}
    if query.county:
        filters["address.county"] = query.county
    if query.town:
        filters["address.town"] = query.town
    if query.sw_lng is not None:
        filters["location"] = {"$geoWithin": {"$geometry": _bounds_polygon(query)}}
    if query.check_in and query.check_out:
        # Free means no claimed night in [check_in, check_out): the check-out day itself may be taken.
        nights = {"$gte": stored_date(query.check_in), "$lte": stored_date(query.check_out - timedelta(days=1))}
        filters["claimed_nights"] = {"$not": {"$elemMatch": nights}}
    return filters


def _bounds_polygon(query: SearchQuery) -> dict[str, Any]:
    west, south, east, north = query.sw_lng, query.sw_lat, query.ne_lng, query.ne_lat
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _after(field: str, direction: int, after: tuple[Any, ObjectId]) -> dict[str, Any]:
    value, last_id = after
    beyond = "$gt" if direction == 1 else "$lt"
    return {"$or": [{field: {beyond: value}}, {field: value, "_id": {beyond: last_id}}]}


def _summary(row: dict[str, Any]) -> ListingSummary:
    fields = {name: row[name] for name in _SUMMARY_FIELDS}
    return ListingSummary(
        id=str(row["_id"]), distance_m=row.get("distance_m"), stay_total_minor=row.get("stay_total_minor"), **fields
    )


def _encode_cursor(sort: Sort, row: dict[str, Any], field: str) -> str:
    value = row[field]
    if isinstance(value, datetime):
        value = (value - _EPOCH) // timedelta(milliseconds=1)
    raw = orjson.dumps([sort, value, str(row["_id"])])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: Sort) -> tuple[Any, ObjectId]:
    try:
        given_sort, value, last_id = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, orjson.JSONDecodeError, ValueError, TypeError):
        raise InvalidCursor() from None
    if given_sort != sort or not ObjectId.is_valid(last_id) or not isinstance(value, int | float):
        raise InvalidCursor("the cursor belongs to another sort order")
    if sort == "newest":
        value = _EPOCH + timedelta(milliseconds=value)
    return value, ObjectId(last_id)
