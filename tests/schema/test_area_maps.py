"""Areas for maps (issue 17.9): an area's centre and boundary in WGS-84 or, on request, in
GCJ-02/BD-09 for Chinese map SDKs; which grid a pin lies in; drawing a boundary."""

from __future__ import annotations

import pytest
from graphql_relay import to_global_id

from community.geo import from_wgs84
from community.models import Area, Resident
from tests.operations import operation
from tests.shapes import draw_world, rect, square

pytestmark = pytest.mark.django_db

AREA_MAP = operation("community/AreaMap")
AREA_AT = operation("community/AreaAt")
SET_BOUNDARY = operation("community/SetAreaBoundary")


def gid(area) -> str:
    return to_global_id("Area", area.pk)


def corners(geo_json) -> set[tuple[float, float]]:
    return {(round(x, 6), round(y, 6)) for polygon in geo_json["coordinates"] for ring in polygon for x, y in ring}


def test_an_area_shows_its_centre_and_boundary_in_wgs84(world, gql):
    draw_world(world)
    area = gql.data(AREA_MAP, {"id": gid(world.grid_a1)}, user=world.worker_a1)["area"]
    assert area["center"] == {"latitude": 30.271, "longitude": 120.151, "datum": "WGS84"}
    assert area["boundary"]["type"] == "MultiPolygon" and area["hasOwnBoundary"] and area["boundaryUpdatedAt"]
    assert corners(area["boundary"]) == {(120.149, 30.269), (120.153, 30.269), (120.153, 30.273), (120.149, 30.273)}


def test_with_datum_gcj02_both_come_ready_for_amap(world, gql):
    draw_world(world)
    area = gql.data(AREA_MAP, {"id": gid(world.grid_a1), "datum": "GCJ02"}, user=world.worker_a1)["area"]
    lat, lng = from_wgs84(30.271, 120.151, "GCJ02")
    assert area["center"] == {"latitude": pytest.approx(lat), "longitude": pytest.approx(lng), "datum": "GCJ02"}
    wanted = {(round(x, 6), round(y, 6)) for y, x in (from_wgs84(a, b, "GCJ02") for a, b in
                                                     ((30.269, 120.149), (30.269, 120.153), (30.273, 120.153), (30.273, 120.149)))}
    assert corners(area["boundary"]) == wanted


def test_a_community_without_its_own_boundary_shows_its_grids_union(world, gql):
    draw_world(world, communities=False)
    area = gql.data(AREA_MAP, {"id": gid(world.com_a)}, user=world.admin_a)["area"]
    assert area["boundary"]["type"] == "MultiPolygon" and not area["hasOwnBoundary"]


def test_an_area_without_a_shape_has_a_null_boundary(world, gql):
    area = gql.data(AREA_MAP, {"id": gid(world.grid_a1)}, user=world.worker_a1)["area"]
    assert area["boundary"] is None and area["center"]["latitude"] == 30.271


# --- which grid a pin lies in ------------------------------------------------------------------
def test_area_at_names_the_grid_a_pin_lies_in_and_its_ancestors(world, gql):
    draw_world(world)
    at = gql.data(AREA_AT, {"location": {"latitude": 30.2749, "longitude": 120.1549}}, user=world.admin_a)["areaAt"]
    assert at["byBoundary"] is True and at["grid"]["name"] == "甲二网格" and at["area"]["name"] == "甲二网格"
    assert [a["name"] for a in at["area"]["ancestors"]] == ["测试市", "东区", "甲街道", "甲社区"]


def test_area_at_takes_the_pin_in_the_datum_of_the_map(world, gql):
    draw_world(world)
    lat, lng = from_wgs84(30.2749, 120.1549, "GCJ02")
    at = gql.data(AREA_AT, {"location": {"latitude": lat, "longitude": lng, "datum": "GCJ02"}}, user=world.admin_a)["areaAt"]
    assert at["grid"]["name"] == "甲二网格"


def test_area_at_shows_a_resident_only_the_areas_they_may_see(world, gql):
    draw_world(world)
    home = Resident(grid=world.grid_a1, display_name="王秀英", user=world.resident)
    home.set_location(30.271, 120.151)
    home.save()
    at = gql.data(AREA_AT, {"location": {"latitude": 30.2749, "longitude": 120.1549}}, user=world.resident)["areaAt"]
    assert at["grid"] is None and at["area"]["name"] == "甲社区"  # 甲二 is not theirs; its community is
    mine = gql.data(AREA_AT, {"location": {"latitude": 30.271, "longitude": 120.151}}, user=world.resident)["areaAt"]
    assert mine["grid"]["name"] == "甲一网格"


def test_area_at_says_when_only_a_centre_decided(world, gql):
    at = gql.data(AREA_AT, {"location": {"latitude": 30.2711, "longitude": 120.1511}}, user=world.worker_a1)["areaAt"]
    assert at["byBoundary"] is False and at["grid"]["name"] == "甲一网格"


def test_area_at_outside_every_grid_is_null(world, gql):
    draw_world(world)
    assert gql.data(AREA_AT, {"location": {"latitude": 31.5, "longitude": 121.5}}, user=world.worker_a1)["areaAt"] is None


def test_area_at_refuses_a_bad_location_as_input(world, gql):
    status, body = gql(AREA_AT, {"location": {"latitude": 95, "longitude": 120}}, user=world.worker_a1)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and body["data"]["areaAt"] is None


# --- drawing ----------------------------------------------------------------------------------
def test_a_community_admin_draws_a_grid_in_gcj02(world, gql):
    south, west = from_wgs84(30.269, 120.149, "GCJ02")
    north, east = from_wgs84(30.273, 120.153, "GCJ02")
    payload = gql.data(SET_BOUNDARY, {"areaId": gid(world.grid_a1), "geoJson": rect(south, west, north, east),
                                      "datum": "GCJ02", "key": "draw-1"}, user=world.admin_a)["setAreaBoundary"]
    assert payload["errors"] == [] and payload["area"]["hasOwnBoundary"]
    stored = Area.objects.get(pk=world.grid_a1.pk).boundary["coordinates"][0][0]
    assert stored[0] == pytest.approx([120.149, 30.269], abs=1e-6)


def test_a_boundary_may_come_as_json_text(world, gql):
    import json

    payload = gql.data(SET_BOUNDARY, {"areaId": gid(world.grid_a1), "geoJson": json.dumps(square(30.271, 120.151))},
                       user=world.admin_a)["setAreaBoundary"]
    assert payload["errors"] == []


def test_an_overlap_is_a_typed_error_naming_the_other_grid(world, gql):
    draw_world(world)
    payload = gql.data(SET_BOUNDARY, {"areaId": gid(world.grid_a2), "geoJson": square(30.272, 120.152)},
                       user=world.admin_a)["setAreaBoundary"]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("geoJson", "BOUNDARY_OVERLAP")]
    assert "甲一网格" in payload["errors"][0]["message"] and payload["area"] is None
    assert Area.objects.get(pk=world.grid_a2.pk).boundary["coordinates"][0][0][0] == [120.153, 30.273]


def test_a_grid_worker_may_not_redraw_their_own_grid(world, gql):
    status, body = gql(SET_BOUNDARY, {"areaId": gid(world.grid_a1), "geoJson": square(30.271, 120.151, 0.01)},
                       user=world.worker_a1)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert Area.objects.get(pk=world.grid_a1.pk).boundary is None


def test_null_removes_a_boundary(world, gql):
    draw_world(world, communities=False)
    payload = gql.data(SET_BOUNDARY, {"areaId": gid(world.grid_a1), "geoJson": None}, user=world.admin_a)["setAreaBoundary"]
    assert payload["errors"] == [] and payload["area"]["hasOwnBoundary"] is False
