"""Coordinates: datum conversion against known pairs, and radius search against brute force."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from community.geo import H3_RESOLUTION, distance_m, nearest, to_wgs84, within
from community.models import Resident

# Published pairs (WGS-84 -> BD-09 from Baidu's coordinate-conversion API example; WGS-84 ->
# GCJ-02 from the reference implementation's README), as (lat, lng).
BAIDU_EXAMPLE_WGS84 = (29.575429778924, 114.21892734521)
BAIDU_EXAMPLE_BD09 = (29.57908089974, 114.23074871003)
README_WGS84 = (39.915, 116.404)
README_GCJ02 = (39.91640428150164, 116.41024449916938)


def test_bd09_from_baidus_own_example_converts_to_within_a_metre_of_wgs84():
    assert distance_m(to_wgs84(*BAIDU_EXAMPLE_BD09, "BD09"), BAIDU_EXAMPLE_WGS84) < 1.0


def test_gcj02_converts_back_to_wgs84_within_a_metre():
    assert distance_m(to_wgs84(*README_GCJ02, "GCJ02"), README_WGS84) < 1.0


def test_datum_offset_in_china_is_hundreds_of_metres_so_conversion_matters():
    assert distance_m(README_GCJ02, README_WGS84) > 300


def test_wgs84_input_is_unchanged_and_outside_china_gcj02_is_identity():
    assert to_wgs84(30.0, 120.0, "WGS84") == (30.0, 120.0)
    assert to_wgs84(48.85, 2.35, "GCJ02") == (48.85, 2.35)


@pytest.mark.parametrize("lat,lng", [(91, 120), (30, 181), ("north", 120), (float("nan"), 120), (None, 1)])
def test_bad_coordinates_are_rejected_with_a_typed_error(lat, lng):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        to_wgs84(lat, lng)
    assert exc.value.error_dict["location"][0].code == "invalid_location"


def test_h3_resolution_is_neighbourhood_scale():
    assert H3_RESOLUTION == 8


def _brute_force(rows, lat, lng, radius):
    found = [(r, distance_m((lat, lng), (r.lat, r.lng))) for r in rows]
    return sorted([(r.pk, round(d, 6)) for r, d in found if d <= radius], key=lambda p: (p[1], p[0]))


@pytest.fixture
def scattered(world, make_resident):
    rng = random.Random(7)
    rows = []
    for i in range(300):
        lat = 30.27 + rng.uniform(-0.05, 0.05)
        lng = 120.15 + rng.uniform(-0.05, 0.05)
        rows.append(make_resident(world.grid_a1, f"居民{i}", at=(lat, lng)))
    return rows


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lat=st.floats(30.22, 30.32),
    lng=st.floats(120.10, 120.20),
    radius=st.floats(50, 6000),
)
def test_radius_query_equals_brute_force_on_random_data(scattered, lat, lng, radius):
    indexed = [(r.pk, round(d, 6)) for r, d in nearest(Resident.objects.all(), lat, lng, radius)]
    assert sorted(indexed, key=lambda p: (p[1], p[0])) == _brute_force(scattered, lat, lng, radius)


@pytest.mark.django_db
def test_nearest_limit_returns_the_closest_first(scattered):
    lat, lng = 30.27, 120.15
    top = nearest(Resident.objects.all(), lat, lng, 3000, limit=20)
    assert [r.pk for r, _ in top] == [pk for pk, _ in _brute_force(scattered, lat, lng, 3000)[:20]]
    assert [d for _, d in top] == sorted(d for _, d in top)


def test_within_skips_rows_without_location():
    class Row:
        lat = lng = None

    assert within([Row()], 30, 120, 1000) == []
