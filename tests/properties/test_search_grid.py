"""The search grid's coverings hold every point within their radius, and bound how far each cell reaches."""

import math

import hypothesis
from hypothesis import strategies as st

from documents.search_grid import LEVEL_SIDES_DEG, MAX_CELLS_PER_AXIS, Covering, cells_of, distance_m, level_key

longitudes = st.floats(-180, 180, allow_nan=False)
latitudes = st.floats(-90, 90, allow_nan=False)


@st.composite
def point_within(draw: st.DrawFn, longitude: float, latitude: float, radius_m: float) -> tuple[float, float]:
    """A point at most `radius_m` from the centre, often right at the edge."""
    bearing = draw(st.floats(0, 2 * math.pi))
    fraction = draw(st.sampled_from([1.0, 0.999999]) | st.floats(0, 1))
    angle = radius_m * fraction / 6_378_100
    lat1, lng1 = math.radians(latitude), math.radians(longitude)
    lat2 = math.asin(math.sin(lat1) * math.cos(angle) + math.cos(lat1) * math.sin(angle) * math.cos(bearing))
    lng2 = lng1 + math.atan2(math.sin(bearing) * math.sin(angle) * math.cos(lat1), math.cos(angle) - math.sin(lat1) * math.sin(lat2))
    lng2 = (math.degrees(lng2) + 540) % 360 - 180
    return lng2, max(-90.0, min(90.0, math.degrees(lat2)))


@hypothesis.settings(max_examples=500, deadline=None)
@hypothesis.given(data=st.data(), longitude=longitudes, latitude=latitudes, radius_m=st.floats(1, 1_000_000))
def test_a_covering_holds_every_point_within_its_radius(data: st.DataObject, longitude: float, latitude: float, radius_m: float) -> None:
    covering = Covering(longitude, latitude, radius_m)
    farthest = dict(covering.cells())
    lng, lat = data.draw(point_within(longitude, latitude, radius_m))
    distance = distance_m(longitude, latitude, lng, lat)
    hypothesis.assume(distance <= radius_m)
    cell = cells_of(lng, lat)[level_key(covering.level)]
    assert cell in farthest, f"({lng}, {lat}) at {distance} m is outside the covering"
    assert distance <= farthest[cell] * (1 + 1e-9)


@hypothesis.settings(max_examples=500, deadline=None)
@hypothesis.given(data=st.data(), longitude=longitudes, latitude=latitudes, radius_m=st.floats(1, 1_000_000))
def test_every_point_within_the_inner_radius_is_in_the_covering(
    data: st.DataObject, longitude: float, latitude: float, radius_m: float
) -> None:
    covering = Covering(longitude, latitude, radius_m)
    inner_m = covering.inner_radius_m()
    assert inner_m >= radius_m or inner_m == 0.0 or math.isclose(inner_m, radius_m, rel_tol=1e-6)
    lng, lat = data.draw(point_within(longitude, latitude, min(inner_m, 20_000_000)))
    hypothesis.assume(distance_m(longitude, latitude, lng, lat) <= inner_m)
    assert cells_of(lng, lat)[level_key(covering.level)] in dict(covering.cells())


@hypothesis.given(longitude=longitudes, latitude=st.floats(-80, 80), radius_m=st.floats(100, 100_000))
def test_a_covering_is_a_few_dozen_cells(longitude: float, latitude: float, radius_m: float) -> None:
    covering = Covering(longitude, latitude, radius_m)
    assert len(dict(covering.cells())) <= (MAX_CELLS_PER_AXIS + 1) ** 2 or covering.level == 0


def test_a_point_has_one_cell_per_level_and_the_edges_wrap() -> None:
    assert len(cells_of(36.82, -1.29)) == len(LEVEL_SIDES_DEG)
    assert cells_of(180.0, 0.0) == cells_of(-180.0, 0.0)
    finest = level_key(len(LEVEL_SIDES_DEG) - 1)
    assert cells_of(0.0, 90.0)[finest] != cells_of(0.0, -90.0)[finest]
