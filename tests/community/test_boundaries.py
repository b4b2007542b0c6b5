"""Areas have shapes: a boundary is checked before it is stored, and points find their grid
by it (the nearest centre only for grids without one)."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from community.area_index import area_shapes
from community.boundaries import boundary_geojson, read_geojson, set_area_boundary
from community.geo import from_wgs84
from community.grids import derive_grid, lies_in, locate
from community.models import Area
from tests.shapes import draw_world, rect, square

pytestmark = pytest.mark.django_db


def codes(exc: ValidationError) -> set[str]:
    return {e.code for errors in exc.error_dict.values() for e in errors}


def refused(area, geo_json, **kwargs) -> tuple[set[str], str]:
    with pytest.raises(ValidationError) as caught:
        set_area_boundary(area, geo_json, **kwargs)
    return codes(caught.value), " ".join(caught.value.messages)


# --- the 70 m pin -------------------------------------------------------------------------------
def test_a_pin_in_grid_one_belongs_to_grid_one_though_grid_two_has_the_nearer_centre(world):
    """The report: a pin 70 m from a grid-1 resident landed in grid 2 (nearest centre)."""
    set_area_boundary(world.grid_a1, rect(30.269, 120.149, 30.273, 120.157))  # a wide strip
    set_area_boundary(world.grid_a2, rect(30.273, 120.149, 30.277, 120.157))  # the strip above
    home, pin = (30.2725, 120.1548), (30.2725, 120.1555)  # 70 m apart, both in the lower strip
    assert derive_grid(*home) == world.grid_a1
    assert derive_grid(*pin) == world.grid_a1
    assert locate(*pin) == (world.grid_a1, True)


def test_before_boundaries_the_same_pin_went_to_the_nearest_centre(world):
    assert derive_grid(30.2725, 120.1555) == world.grid_a2  # the behaviour the boundaries fix
    assert locate(30.2725, 120.1555) == (world.grid_a2, False)


def test_grids_without_a_boundary_still_fall_back_to_their_centre(world):
    set_area_boundary(world.grid_a1, square(30.271, 120.151))
    assert derive_grid(30.2952, 120.1748) == world.grid_b2  # no boundary there: nearest centre
    assert derive_grid(30.271, 120.151) == world.grid_a1
    # A grid with a boundary claims nothing outside it, however near its centre.
    assert derive_grid(30.2735, 120.1515) != world.grid_a1


def test_outside_every_boundary_and_far_from_every_centre_is_no_grid(world):
    draw_world(world)
    assert derive_grid(30.28, 120.20) is None


def test_the_search_can_stay_inside_one_subtree(world):
    draw_world(world)
    assert derive_grid(30.291, 120.171, within=world.com_a) is None
    assert derive_grid(30.291, 120.171, within=world.com_b) == world.grid_b1


# --- what a boundary must be ---------------------------------------------------------------------
def test_a_boundary_is_stored_as_a_wgs84_multipolygon(world):
    set_area_boundary(world.grid_a1, square(30.271, 120.151))
    stored = Area.objects.get(pk=world.grid_a1.pk)
    assert stored.boundary["type"] == "MultiPolygon" and stored.boundary_updated_at is not None
    assert stored.boundary["coordinates"][0][0][0] == [120.149, 30.269]


def test_a_self_intersecting_boundary_is_refused_with_the_reason(world):
    bowtie = {"type": "Polygon", "coordinates": [[[120.149, 30.269], [120.153, 30.273], [120.153, 30.269],
                                                  [120.149, 30.273], [120.149, 30.269]]]}
    found, message = refused(world.grid_a1, bowtie)
    assert found == {"invalid_boundary"} and "Self-intersection" in message
    assert Area.objects.get(pk=world.grid_a1.pk).boundary is None


@pytest.mark.parametrize("geo_json", [
    {"type": "Point", "coordinates": [120.15, 30.27]},
    {"type": "Polygon", "coordinates": [[[120.149, 30.269], [120.153, 30.269], [120.149, 30.269]]]},  # 3 points
    {"type": "Polygon", "coordinates": [[[120.149, 30.269], [120.153, 30.269], [120.153, 30.273], [120.149, 30.273]]]},
    {"type": "Polygon", "coordinates": [[[120.149, 30.269], ["x", 30.269], [120.153, 30.273], [120.149, 30.269]]]},
    {"type": "Polygon", "coordinates": [[[120.149, 30.269], [float("nan"), 30.2], [120.153, 30.273], [120.149, 30.269]]]},
    {"type": "Polygon", "coordinates": [[[120.1, 30.2], [120.1, 30.2], [120.1, 30.2], [120.1, 30.2]]]},  # no area
    {"type": "MultiPolygon", "coordinates": []},
    "not json",
    [1, 2, 3],
], ids=["point", "three-points", "not-closed", "text", "nan", "degenerate", "empty", "not-json", "list"])
def test_malformed_boundaries_are_refused_as_invalid(world, geo_json):
    assert refused(world.grid_a1, geo_json)[0] == {"invalid_boundary"}


def test_a_boundary_outside_china_is_refused(world):
    found, message = refused(world.grid_a1, square(51.5, -0.12))  # London
    assert found == {"invalid_boundary"} and "China" in message


def test_latitude_and_longitude_swapped_are_refused(world):
    assert refused(world.grid_a1, square(120.151, 30.271))[0] == {"invalid_boundary"}


def test_too_many_points_are_refused(world, settings):
    settings.AREA_BOUNDARY_MAX_VERTICES = 4
    found, message = refused(world.grid_a1, square(30.271, 120.151, 0.001))  # five points
    assert found == {"invalid_boundary"} and "At most 4 points" in message


def test_a_grid_must_lie_inside_its_community(world):
    set_area_boundary(world.com_a, rect(30.269, 120.149, 30.277, 120.157))
    found, message = refused(world.grid_a1, rect(30.268, 120.149, 30.273, 120.153))  # 110 m south of it
    assert found == {"boundary_outside_parent"} and "甲社区" in message


def test_a_few_metres_past_the_parent_are_drawing_noise(world):
    set_area_boundary(world.com_a, rect(30.269, 120.149, 30.277, 120.157))
    set_area_boundary(world.grid_a1, rect(30.26898, 120.149, 30.273, 120.153))  # 2 m past the edge


def test_a_community_must_hold_its_grids(world):
    set_area_boundary(world.grid_a2, square(30.275, 120.155))
    found, message = refused(world.com_a, square(30.271, 120.151))
    assert found == {"boundary_excludes_child"} and "甲二网格" in message


def test_overlapping_grids_are_refused_naming_the_other_grid(world):
    set_area_boundary(world.grid_a1, square(30.271, 120.151))
    found, message = refused(world.grid_a2, rect(30.272, 120.150, 30.277, 120.157))
    assert found == {"boundary_overlap"} and "甲一网格" in message and "t-d-a-1-1" in message


def test_grids_of_different_communities_may_not_overlap_either(world):
    set_area_boundary(world.grid_a1, square(30.271, 120.151))
    assert refused(world.grid_b1, square(30.272, 120.152))[0] == {"boundary_overlap"}


def test_shared_edges_and_slivers_under_the_tolerance_are_not_overlaps(world):
    set_area_boundary(world.grid_a1, rect(30.269, 120.149, 30.273, 120.153))
    set_area_boundary(world.grid_a2, rect(30.273, 120.149, 30.277, 120.153))  # shares the edge
    set_area_boundary(world.grid_b1, rect(30.26902, 120.15298, 30.273, 120.157))  # 2 m into 甲一


def test_gcj02_input_is_converted_to_wgs84(world):
    south, west = from_wgs84(30.269, 120.149, "GCJ02")
    north, east = from_wgs84(30.273, 120.153, "GCJ02")
    set_area_boundary(world.grid_a1, rect(south, west, north, east), datum="GCJ02")
    ring = Area.objects.get(pk=world.grid_a1.pk).boundary["coordinates"][0][0]
    assert ring[0] == pytest.approx([120.149, 30.269], abs=1e-6)
    gcj = boundary_geojson(Area.objects.get(pk=world.grid_a1.pk), "GCJ02")
    corners = {(round(x, 5), round(y, 5)) for x, y in gcj["coordinates"][0][0]}
    assert corners == {(round(x, 5), round(y, 5)) for x, y in rect(south, west, north, east)["coordinates"][0]}


def test_a_feature_or_its_json_text_is_accepted_and_null_removes_the_boundary(world):
    set_area_boundary(world.grid_a1, json.dumps({"type": "Feature", "properties": {}, "geometry": square(30.271, 120.151)}))
    assert derive_grid(30.2711, 120.1511) == world.grid_a1
    set_area_boundary(world.grid_a1, None)
    assert Area.objects.get(pk=world.grid_a1.pk).boundary is None
    assert locate(30.2711, 120.1511) == (world.grid_a1, False)  # the centre again


# --- shapes of areas above grids --------------------------------------------------------------------
def test_a_community_without_its_own_boundary_is_the_union_of_its_grids(world):
    draw_world(world, communities=False)
    union = boundary_geojson(Area.objects.get(pk=world.com_a.pk))
    assert union is not None and union["type"] == "MultiPolygon"
    assert lies_in(world.com_a, 30.2749, 120.1549) and not lies_in(world.com_a, 30.2749, 120.1501)


def test_a_community_with_a_grid_undrawn_has_no_shape(world):
    set_area_boundary(world.grid_a1, square(30.271, 120.151))
    assert boundary_geojson(Area.objects.get(pk=world.com_a.pk)) is None


def test_where_an_area_has_no_shape_a_place_lies_in_it_by_its_derived_grid(world):
    assert lies_in(world.grid_a1, 30.271, 120.151)
    assert not lies_in(world.grid_a1, 30.291, 120.171)  # 乙一's centre
    assert not lies_in(world.com_a, 30.40, 120.40)  # no grid within reach


# --- the index follows the table ----------------------------------------------------------------------
def test_the_index_is_rebuilt_when_a_boundary_changes(world):
    before = area_shapes()
    set_area_boundary(world.grid_a1, square(30.271, 120.151))
    after = area_shapes()
    assert after is not before and world.grid_a1.pk in after.areas
    assert area_shapes() is after  # nothing changed: the same snapshot


def test_a_change_written_by_another_process_is_seen(world):
    draw_world(world)
    assert derive_grid(30.271, 120.151) == world.grid_a1
    moved = {"type": "MultiPolygon", "coordinates": [[[[120.1, 30.2], [120.11, 30.2], [120.11, 30.21],
                                                       [120.1, 30.21], [120.1, 30.2]]]]}
    Area.objects.filter(pk=world.grid_a1.pk).update(boundary=moved, boundary_updated_at="2030-01-01T00:00:00Z")
    assert derive_grid(30.271, 120.151) is None  # the stamp changed: the old shape is gone


# --- import ------------------------------------------------------------------------------------------
def feature(code: str, geometry: dict) -> dict:
    return {"type": "Feature", "properties": {"code": code}, "geometry": geometry}


def write_collection(tmp_path, *features: dict) -> str:
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}), encoding="utf-8")
    return str(path)


def test_a_feature_collection_is_imported_by_area_code(world, tmp_path, capsys):
    path = write_collection(
        tmp_path,
        feature("t-d-a-1-1", square(30.271, 120.151)),  # a grid before its community: order does not matter
        feature("t-d-a-1", rect(30.269, 120.149, 30.277, 120.157)),
        feature("t-d-a-1-2", square(30.275, 120.155)),
    )
    call_command("import_boundaries", path)
    assert "3 boundaries" in capsys.readouterr().out
    assert derive_grid(30.2749, 120.1549) == world.grid_a2
    assert Area.objects.get(pk=world.com_a.pk).boundary is not None


def test_an_import_with_one_bad_feature_writes_nothing(world, tmp_path):
    path = write_collection(
        tmp_path,
        feature("t-d-a-1-1", square(30.271, 120.151)),
        feature("t-d-a-1-2", square(30.272, 120.152)),  # overlaps the first
        feature("nope", square(30.291, 120.171)),
    )
    with pytest.raises(CommandError) as caught:
        call_command("import_boundaries", path)
    assert "nope" in str(caught.value) and "t-d-a-1-2" in str(caught.value)
    assert not Area.objects.filter(boundary__isnull=False).exists()


def test_an_import_can_be_tried_without_writing(world, tmp_path, capsys):
    call_command("import_boundaries", write_collection(tmp_path, feature("t-d-a-1-1", square(30.271, 120.151))),
                 "--dry-run")
    assert "Dry run" in capsys.readouterr().out
    assert Area.objects.get(pk=world.grid_a1.pk).boundary is None


def test_an_import_in_gcj02_is_converted(world, tmp_path):
    south, west = from_wgs84(30.269, 120.149, "GCJ02")
    north, east = from_wgs84(30.273, 120.153, "GCJ02")
    call_command("import_boundaries", write_collection(tmp_path, feature("t-d-a-1-1", rect(south, west, north, east))),
                 "--datum", "GCJ02")
    assert Area.objects.get(pk=world.grid_a1.pk).boundary["coordinates"][0][0][0] == pytest.approx([120.149, 30.269], abs=1e-6)


# --- properties: points near the edges ---------------------------------------------------------------
from hypothesis import HealthCheck, given  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EDGE = 30.273  # 甲一 (south of it) and 甲二 (north of it) share this latitude, between lng 120.149 and 120.157
near_edge = st.tuples(st.floats(EDGE - 0.0002, EDGE + 0.0002), st.floats(120.1485, 120.1575))


@pytest.fixture
def strips(world):
    set_area_boundary(world.grid_a1, rect(30.269, 120.149, EDGE, 120.157))
    set_area_boundary(world.grid_a2, rect(EDGE, 120.149, 30.277, 120.157))
    return world


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(point=near_edge)
def test_a_point_near_a_shared_edge_belongs_to_the_grid_that_holds_it(strips, point):
    lat, lng = point
    found = area_shapes().grid_at(lat, lng)
    inside_lng = 120.149 <= lng <= 120.157
    if not inside_lng:
        assert found is None
    elif lat < EDGE:
        assert found is not None and found.pk == strips.grid_a1.pk
    elif lat > EDGE:
        assert found is not None and found.pk == strips.grid_a2.pk
    else:  # on the edge itself: one of the two, always the same one
        assert found is not None and found.pk == strips.grid_a1.pk
    assert area_shapes().grids_at([lat], [lng]) == [found.pk if found else None]


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(point=near_edge)
def test_a_task_place_near_the_edge_lies_in_a_grid_exactly_when_within_the_tolerance(strips, point):
    lat, lng = point
    metres_past = max(0.0, (lat - EDGE) * 110_574)  # how far north of 甲一 the point is
    if 120.14901 <= lng <= 120.15699 and metres_past < 4.9:
        assert lies_in(strips.grid_a1, lat, lng)
    if metres_past > 5.1:
        assert not lies_in(strips.grid_a1, lat, lng)


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lat=st.floats(30.0, 31.0), lng=st.floats(120.0, 121.0), datum=st.sampled_from(["GCJ02", "BD09"]))
def test_a_boundary_given_in_a_chinese_datum_comes_back_in_it(world, lat, lng, datum):
    corners = [(lat, lng), (lat, lng + 0.002), (lat + 0.002, lng + 0.002), (lat + 0.002, lng), (lat, lng)]
    ring = [[x, y] for y, x in (from_wgs84(a, b, datum) for a, b in corners)]
    geometry = read_geojson({"type": "Polygon", "coordinates": [ring]}, datum)
    back = [(y, x) for x, y in geometry.geoms[0].exterior.coords]
    for got, wanted in zip(back, corners, strict=True):
        assert got == pytest.approx(wanted, abs=2e-6)  # BD-09's inverse is good to ~0.2 m


# --- the admin shows it, read-only ---------------------------------------------------------------------
def test_the_admin_shows_a_boundary_without_letting_it_be_edited(world, admin_client):
    set_area_boundary(world.grid_a1, square(30.271, 120.151))
    page = admin_client.get(f"/admin/community/area/{world.grid_a1.pk}/change/").content.decode()
    assert "1 polygon(s), 5 points" in page and "MultiPolygon" in page
    assert 'name="boundary"' not in page  # shown, never a form field
