"""Hazard points (风险点): mapped, inspected on a schedule, overdue ones listed for the grid worker."""

import datetime as dt

import pytest
from django.utils import timezone
from graphql_relay import to_global_id

from community.hazards import do_create_hazard_point, do_record_inspection
from community.models import HazardPoint, Inspection
from tests.operations import operation

pytestmark = pytest.mark.django_db


@pytest.fixture
def hazards(world):
    def make(grid, name, due_in_days, severity=2, kind="waterlogging", offset=0.0):
        point = do_create_hazard_point(
            by=world.admin_a, grid=grid, location=(grid.center_lat + offset, grid.center_lng),
            data={"name": name, "kind": kind, "severity": severity, "inspection_interval_days": 30},
        )
        HazardPoint.objects.filter(pk=point.pk).update(next_inspection_due=timezone.now() + dt.timedelta(days=due_in_days))
        point.refresh_from_db()
        return point

    return {
        "underpass": make(world.grid_a1, "地下通道积水点", -3, severity=3),
        "old_house": make(world.grid_a1, "老旧危房", -10, kind="old_building", offset=0.002),
        "slope": make(world.grid_a2, "边坡", 5, kind="slope"),
        "site_b": make(world.grid_b1, "乙工地", -1, kind="construction_site"),
    }


def gid(obj):
    return to_global_id("HazardPoint", obj.pk)


def test_overdue_query_lists_due_points_oldest_first(hazards):
    assert list(HazardPoint.objects.overdue()) == [hazards["old_house"], hazards["underpass"], hazards["site_b"]]
    later = timezone.now() + dt.timedelta(days=6)
    assert hazards["slope"] in HazardPoint.objects.overdue(later)


def test_grid_worker_sees_their_overdue_inspections_only(world, gql, hazards):
    data = gql.data(operation("community/OverdueInspections"), {}, user=world.worker_a1)
    assert [e["node"]["name"] for e in data["overdueInspections"]["edges"]] == ["老旧危房", "地下通道积水点"]


def test_grid_worker_maps_a_point_in_their_grid_and_a_retry_does_not_map_it_twice(world, gql):
    variables = {"input": {"name": "燃气调压站", "kind": "GAS_LINE", "severity": "HIGH", "inspectionIntervalDays": 7},
                 "location": {"latitude": world.grid_a1.center_lat, "longitude": world.grid_a1.center_lng}, "key": "h1"}
    first = gql.data(operation("community/CreateHazardPoint"), variables, user=world.worker_a1)["createHazardPoint"]
    assert first["errors"] == [] and first["hazardPoint"]["grid"]["name"] == "甲一网格"
    again = gql.data(operation("community/CreateHazardPoint"), variables, user=world.worker_a1)["createHazardPoint"]
    assert again["hazardPoint"]["id"] == first["hazardPoint"]["id"] and HazardPoint.objects.count() == 1


def test_community_admin_creates_a_point_and_bad_input_is_typed(world, gql):
    location = {"latitude": world.grid_a2.center_lat, "longitude": world.grid_a2.center_lng}
    variables = {"input": {"name": "燃气调压站", "kind": "GAS_LINE", "severity": "HIGH", "inspectionIntervalDays": 7}, "location": location}
    payload = gql.data(operation("community/CreateHazardPoint"), variables, user=world.admin_a)["createHazardPoint"]
    assert payload["errors"] == [] and payload["hazardPoint"]["grid"]["name"] == "甲二网格"
    due = dt.datetime.fromisoformat(payload["hazardPoint"]["nextInspectionDue"])
    assert dt.timedelta(days=6) < due - timezone.now() <= dt.timedelta(days=7)
    bad = {"input": {"name": "", "kind": "OTHER", "inspectionIntervalDays": 0}, "location": location}
    payload = gql.data(operation("community/CreateHazardPoint"), bad, user=world.admin_a)["createHazardPoint"]
    assert {(e["field"], e["code"]) for e in payload["errors"]} == {("name", "REQUIRED"), ("inspectionIntervalDays", "INVALID")}
    assert HazardPoint.objects.count() == 1


def test_grid_worker_cannot_create_points_outside_their_grid(world, gql):
    location = {"latitude": world.grid_b1.center_lat, "longitude": world.grid_b1.center_lng}
    status, body = gql(operation("community/CreateHazardPoint"), {"input": {"name": "x", "kind": "OTHER"}, "location": location},
                       user=world.worker_a1)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not HazardPoint.objects.exists()


def test_recording_an_inspection_reschedules_and_can_rerate_severity(world, gql, hazards):
    variables = {"hazardPointId": gid(hazards["underpass"]), "result": "ISSUES_FOUND", "findings": "排水口堵塞",
                 "severityAfter": "CRITICAL", "key": "i1"}
    payload = gql.data(operation("community/RecordInspection"), variables, user=world.worker_a1)["recordInspection"]
    assert payload["errors"] == []
    assert payload["hazardPoint"]["isOverdue"] is False and payload["hazardPoint"]["severity"] == "CRITICAL"
    again = gql.data(operation("community/RecordInspection"), variables, user=world.worker_a1)["recordInspection"]
    assert again["inspection"]["id"] == payload["inspection"]["id"]
    assert Inspection.objects.count() == 1
    assert hazards["underpass"] not in HazardPoint.objects.overdue()


def test_an_inspection_with_issues_needs_findings_and_cannot_be_in_the_future(world, gql, hazards):
    from community.hazards import do_record_inspection

    payload = gql.data(operation("community/RecordInspection"), {"hazardPointId": gid(hazards["underpass"]), "result": "DANGER"},
                       user=world.worker_a1)["recordInspection"]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("findings", "REQUIRED")]
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        do_record_inspection(hazards["underpass"], by=world.worker_a1, result="ok", inspected_at=timezone.now() + dt.timedelta(days=1))
    assert not Inspection.objects.exists()


def test_staff_of_another_grid_cannot_inspect_or_see(world, gql, hazards):
    status, body = gql(operation("community/RecordInspection"), {"hazardPointId": gid(hazards["site_b"]), "result": "OK"},
                       user=world.worker_a1)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    listed = gql.data(operation("community/HazardPoints"), {}, user=world.worker_a1)
    assert "乙工地" not in {e["node"]["name"] for e in listed["hazardPoints"]["edges"]}
    assert gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": gid(hazards["site_b"])}, user=world.worker_a1) == {"node": None}


def test_update_hazard_point_and_interval_change_reschedules(world, gql, hazards):
    variables = {"id": gid(hazards["slope"]), "input": {"inspectionIntervalDays": 90, "isActive": False}}
    payload = gql.data(operation("community/UpdateHazardPoint"), variables, user=world.admin_a)["updateHazardPoint"]
    assert payload["errors"] == [] and payload["hazardPoint"]["isActive"] is False
    listed = gql.data(operation("community/HazardPoints"), {"kind": "SLOPE"}, user=world.admin_a)
    assert listed["hazardPoints"]["totalCount"] == 0  # inactive points drop off the list


def test_nearby_hazard_points_sorted_by_distance(world, gql, hazards):
    location = {"latitude": world.grid_a1.center_lat, "longitude": world.grid_a1.center_lng}
    rows = gql.data(operation("community/NearbyHazardPoints"), {"location": location, "radiusM": 1000}, user=world.admin_a)
    assert [r["hazardPoint"]["name"] for r in rows["nearbyHazardPoints"]] == ["地下通道积水点", "老旧危房", "边坡"]


def test_a_point_created_without_severity_is_medium_and_answers_cleanly(world, gql):
    location = {"latitude": world.grid_a1.center_lat, "longitude": world.grid_a1.center_lng}
    status, body = gql(operation("community/CreateHazardPoint"), {"input": {"name": "下穿隧道", "kind": "WATERLOGGING"}, "location": location},
                       user=world.worker_a1)
    assert "errors" not in body, body
    assert body["data"]["createHazardPoint"]["hazardPoint"]["severity"] == "MEDIUM"


def test_staff_read_one_point_with_its_inspections_and_others_get_null(world, gql, hazards):
    from graphql_relay import to_global_id

    point = hazards["underpass"]
    do_record_inspection(point, by=world.worker_a1, result="issues_found", findings="排水口堵塞")
    variables = {"id": to_global_id("HazardPoint", point.pk)}
    data = gql.data(operation("community/HazardPoint"), variables, user=world.worker_a1)["hazardPoint"]
    assert data["name"] == "地下通道积水点" and data["isOverdue"] is False
    assert [i["findings"] for i in data["inspections"]] == ["排水口堵塞"]
    assert gql.data(operation("community/HazardPoint"), variables, user=world.worker_b1)["hazardPoint"] is None
