"""Listings near a point, read through the search grid: cells around the point are fetched in widening circles
from an ordinary index and the exact distance is taken here, so the nearest page costs a few hundred documents
at most on any engine instead of a geo evaluation of everything within the radius."""

import math
from collections.abc import Callable
from typing import Any

from bson import ObjectId

from documents.property import Property
from documents.search_grid import Covering, distance_m, level_key

FIRST_CIRCLE_M = 300.0
# How much wider the next circle may be than the last: enough to reach the page in a few steps, not so much
# that one step fetches far more than the page needs.
MIN_GROWTH, MAX_GROWTH = 1.5, 4.0
_SAFETY = 1 + 1e-9  # a cell is skipped only when it lies wholly inside, beyond float rounding


Row = dict[str, Any]
Accept = Callable[[Row], bool]


async def rows_near(
    longitude: float,
    latitude: float,
    radius_m: float,
    filters: dict[str, Any],
    projection: dict[str, int],
    *,
    wanted: int | None,
    after_distance_m: float = 0.0,
    accept: Accept = lambda row: True,
) -> list[Row]:
    """Every matching listing within `radius_m` of the point with `distance_m` set, in no particular order.

    With `wanted`, stops early: then the answer holds at least the `wanted` nearest rows beyond
    `after_distance_m` that `accept` takes (or all there are), and every row nearer than the farthest of those.
    """
    found: dict[ObjectId, Row] = {}
    fetched: set[tuple[int, int]] = set()  # (level, cell) already read
    covered_m = after_distance_m  # every listing nearer than this is already in `found`, or never wanted
    reach_m = min(radius_m, after_distance_m + FIRST_CIRCLE_M) if wanted is not None else radius_m
    while True:
        covering = Covering(longitude, latitude, reach_m)
        # Nearest cells first: SecantusDB tests `$in` value by value, and the nearest cells hold most candidates.
        cells = [
            cell
            for cell, farthest_m in sorted(covering.cells(), key=lambda cell_and_reach: cell_and_reach[1])
            if farthest_m * _SAFETY >= covered_m and (covering.level, cell) not in fetched
        ]
        fetched.update((covering.level, cell) for cell in cells)
        if cells:
            query = _cells_query(level_key(covering.level), cells, filters)
            for row in await Property.get_pymongo_collection().find(query, projection).to_list():
                if row["_id"] in found:
                    continue
                distance = distance_m(longitude, latitude, *row["location"]["coordinates"])
                if distance <= radius_m:
                    row["distance_m"] = distance
                    found[row["_id"]] = row
        covered_m = max(reach_m, covering.inner_radius_m())
        if covered_m >= radius_m:
            return list(found.values())
        confirmed = sum(1 for row in found.values() if row["distance_m"] <= covered_m and accept(row))
        if wanted is not None and confirmed >= wanted:
            return list(found.values())
        growth = math.sqrt(wanted / confirmed) * 1.1 if wanted and confirmed else MAX_GROWTH
        span_m = (covered_m - after_distance_m) * min(MAX_GROWTH, max(MIN_GROWTH, growth))
        reach_m = min(radius_m, after_distance_m + span_m)


def _cells_query(level: str, cells: list[int], filters: dict[str, Any]) -> dict[str, Any]:
    """The filters and the cells, in the order SecantusDB wants them (MongoDB plans from its indexes whatever the
    order): it fetches through the first clause that leads an index and tests the clauses in turn. The status
    leads several indexes, so it comes after the cells; the cheap unindexed filters come first, so most
    candidates fail before their cells are compared with every cell asked for."""
    rest = dict(filters)
    status = rest.pop("status", None)
    return {**rest, f"search_cells.{level}": {"$in": cells}, **({"status": status} if status is not None else {})}
