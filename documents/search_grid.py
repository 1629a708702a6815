"""The grid a listing is indexed under for "near" searches: one latitude/longitude cell per level, each level's
cells four times smaller than the last, so a search covers its circle with a few dozen cells of the right size.

Each level is a field of its own holding one number (`search_cells.l5`), not one array of every level: a database
that re-checks `$in` in Python (SecantusDB) then compares each candidate once per cell asked for, not once per
cell per level."""

import math
from collections.abc import Iterator

EARTH_RADIUS_M = 6_378_100  # the radius MongoDB's spherical queries use
# Cell sides in degrees, coarsest first: 2° (about 220 km) down to 1/512° (about 220 m).
LEVEL_SIDES_DEG = (2.0, 0.5, 0.125, 0.03125, 0.0078125, 0.001953125)
MAX_CELLS_PER_AXIS = 8
# Covering margins: a cell is never left out because of float rounding at a boundary.
_MARGIN_DEG = 1e-9
_MARGIN_FRACTION = 1e-9


def level_key(level: int) -> str:
    """The key of a level's cell in a listing's `search_cells`."""
    return f"l{level}"


def _cell(column: int, row: int) -> int:
    return (row << 20) | column


def _columns(side: float) -> int:
    return round(360 / side)


def _rows(side: float) -> int:
    return round(180 / side)


def _column(longitude: float, side: float) -> int:
    return math.floor((longitude + 180) / side) % _columns(side)


def _row(latitude: float, side: float) -> int:
    return min(math.floor((latitude + 90) / side), _rows(side) - 1)


def cells_of(longitude: float, latitude: float) -> dict[str, int]:
    """The cells holding a point, one per level: what a listing stores and is indexed by."""
    return {level_key(level): _cell(_column(longitude, side), _row(latitude, side)) for level, side in enumerate(LEVEL_SIDES_DEG)}


def distance_m(lng_a: float, lat_a: float, lng_b: float, lat_b: float) -> float:
    """Great-circle distance on MongoDB's sphere (haversine), in meters."""
    phi_a, phi_b = math.radians(lat_a), math.radians(lat_b)
    half_chord = math.sin((phi_b - phi_a) / 2) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(math.radians(lng_b - lng_a) / 2) ** 2
    return 2 * math.asin(math.sqrt(min(max(half_chord, 0.0), 1.0))) * EARTH_RADIUS_M


class Covering:
    """The cells of one level (`level`) that together hold every point within `radius_m` of a centre (and more)."""

    def __init__(self, longitude: float, latitude: float, radius_m: float) -> None:
        self.longitude, self.latitude = longitude, latitude
        angle = radius_m * (1 + _MARGIN_FRACTION) / EARTH_RADIUS_M
        reach_deg = math.degrees(angle) + _MARGIN_DEG
        self.south, self.north = max(latitude - reach_deg, -90.0), min(latitude + reach_deg, 90.0)
        # A circle that reaches a pole, or is wider than its parallel, spans every longitude.
        spans_all = self.north >= 90 or self.south <= -90 or math.sin(angle) >= math.cos(math.radians(latitude))
        self.lng_reach = 180.0 if spans_all else math.degrees(math.asin(math.sin(angle) / math.cos(math.radians(latitude)))) + _MARGIN_DEG
        self.level = self._finest_level()

    def _axis_counts(self, side: float) -> tuple[int, int]:
        columns = _columns(side) if self.lng_reach >= 180 else min(_columns(side), math.floor(2 * self.lng_reach / side) + 2)
        rows = _row(self.north, side) - _row(self.south, side) + 1
        return columns, rows

    def _finest_level(self) -> int:
        for level in range(len(LEVEL_SIDES_DEG) - 1, 0, -1):
            if max(self._axis_counts(LEVEL_SIDES_DEG[level])) <= MAX_CELLS_PER_AXIS:
                return level
        return 0

    def _column_span(self, side: float) -> tuple[int, int] | None:
        """The first column (unwrapped: it may pass the antimeridian) and how many; None for every column."""
        if self.lng_reach >= 180:
            return None
        first = math.floor((self.longitude - self.lng_reach + 180) / side)
        count = math.floor((self.longitude + self.lng_reach + 180) / side) - first + 1
        return None if count >= _columns(side) else (first, count)

    def cells(self) -> Iterator[tuple[int, float]]:
        """Each cell of the covering, with the farthest any point in it can be from the centre."""
        side = LEVEL_SIDES_DEG[self.level]
        span = self._column_span(side)
        columns = range(_columns(side)) if span is None else range(span[0], span[0] + span[1])
        for row in range(_row(self.south, side), _row(self.north, side) + 1):
            for column in columns:
                column %= _columns(side)
                yield _cell(column, row), self._farthest_m(side, column, row)

    def inner_radius_m(self) -> float:
        """How far from the centre the covering's cells hold every point: at least the radius asked for, often more."""
        side = LEVEL_SIDES_DEG[self.level]
        bounds = [math.inf]
        south_edge, north_edge = _row(self.south, side) * side - 90, (_row(self.north, side) + 1) * side - 90
        # The nearest point of a parallel lies along the meridian; of a meridian's great circle, across it.
        if south_edge > -90:
            bounds.append(math.radians(self.latitude - south_edge))
        if north_edge < 90:
            bounds.append(math.radians(north_edge - self.latitude))
        span = self._column_span(side)
        if span is not None:
            west_edge, east_edge = span[0] * side - 180, (span[0] + span[1]) * side - 180
            for apart in (self.longitude - west_edge, east_edge - self.longitude):
                across = math.sin(math.radians(min(apart, 90.0))) * math.cos(math.radians(self.latitude))
                bounds.append(math.asin(min(1.0, across)) if apart < 90 else 0.0)
        return max(0.0, min(bounds) * EARTH_RADIUS_M / (1 + _MARGIN_FRACTION) - 1e-6)

    def _farthest_m(self, side: float, column: int, row: int) -> float:
        # Over a latitude/longitude rectangle the distance from a point peaks at a corner.
        west, south = column * side - 180, row * side - 90
        corners = ((west, south), (west + side, south), (west, min(south + side, 90.0)), (west + side, min(south + side, 90.0)))
        return max(distance_m(self.longitude, self.latitude, lng, lat) for lng, lat in corners)
