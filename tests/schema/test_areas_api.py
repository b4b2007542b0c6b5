"""Areas and modes over GraphQL: what each person may see, and who may switch a mode."""

import pytest
from graphql_relay import to_global_id

from community.models import Area, ModeSwitch
from tests.operations import operation

pytestmark = pytest.mark.django_db

MY_AREAS = operation("community/MyAreas")
SWITCH = operation("community/SwitchAreaMode")


def gid(area) -> str:
    return to_global_id("Area", area.pk)


def names(data) -> set[str]:
    return {e["node"]["name"] for e in data["areas"]["edges"]}


def test_grid_worker_sees_their_grid_and_its_ancestors_only(world, gql):
    data = gql.data(MY_AREAS, {"first": 50}, user=world.worker_a1)
    assert names(data) == {"测试市", "东区", "甲街道", "甲社区", "甲一网格"}
    assert data["areas"]["totalCount"] == 5


def test_community_admin_sees_the_whole_community(world, gql):
    data = gql.data(MY_AREAS, {"kind": "GRID"}, user=world.admin_a)
    assert names(data) == {"甲一网格", "甲二网格"}


def test_one_area_shows_its_modes_and_place_in_the_tree(world, gql):
    Area.objects.filter(pk=world.com_a.pk).update(mode="STANDBY")
    area = gql.data(operation("community/Area"), {"id": gid(world.grid_a1)}, user=world.worker_a1)["area"]
    assert (area["name"], area["kind"], area["mode"], area["effectiveMode"]) == ("甲一网格", "GRID", "NORMAL", "STANDBY")
    assert area["parent"]["name"] == "甲社区"
    assert [a["name"] for a in area["ancestors"]] == ["测试市", "东区", "甲街道", "甲社区"]


def test_areas_are_paginated(world, gql):
    first = gql.data(MY_AREAS, {"first": 3}, user=world.commander)["areas"]
    assert len(first["edges"]) == 3 and first["pageInfo"]["hasNextPage"] and first["totalCount"] == 10
    rest = gql.data(MY_AREAS, {"first": 50, "after": first["pageInfo"]["endCursor"]}, user=world.commander)["areas"]
    assert len(rest["edges"]) == 7


def test_a_person_without_roles_sees_no_areas(world, gql):
    assert gql.data(MY_AREAS, user=world.resident)["areas"]["totalCount"] == 0


def test_anonymous_may_not_list_areas(world, gql):
    status, body = gql(MY_AREAS)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("who", ["worker_a1", "admin_b", "resident"])
def test_area_outside_your_scope_reads_as_null(world, gql, who):
    data = gql.data("query($id: ID!) { area(id: $id) { name } }", {"id": gid(world.grid_a2 if who == "worker_a1" else world.grid_a1)}, user=getattr(world, who))
    assert data["area"] is None


def test_node_lookup_of_another_user_is_null(world, gql):
    other = to_global_id("User", world.other_resident.pk)
    data = gql.data("query($id: ID!) { node(id: $id) { id ... on User { username } } }", {"id": other}, user=world.resident)
    assert data["node"] is None


def test_community_admin_switches_their_community_and_the_grids_inherit(world, gql):
    data = gql.data(SWITCH, {"areaId": gid(world.com_a), "mode": "EMERGENCY", "reason": "内涝", "key": "k-1"}, user=world.admin_a)
    result = data["switchAreaMode"]
    assert result["errors"] == []
    assert result["area"]["mode"] == "EMERGENCY"
    assert result["switch"]["fromMode"] == "NORMAL" and result["switch"]["toMode"] == "EMERGENCY"
    assert Area.objects.get(pk=world.grid_a1.pk).effective_mode() == "EMERGENCY"
    assert Area.objects.get(pk=world.grid_b1.pk).effective_mode() == "NORMAL"
    switch = ModeSwitch.objects.get()
    assert (switch.switched_by, switch.reason, switch.is_drill) == (world.admin_a, "内涝", False)


def test_replayed_switch_returns_the_first_result_and_switches_once(world, gql):
    variables = {"areaId": gid(world.com_a), "mode": "STANDBY", "key": "same-key"}
    first = gql.data(SWITCH, variables, user=world.admin_a)["switchAreaMode"]
    second = gql.data(SWITCH, variables, user=world.admin_a)["switchAreaMode"]
    assert first == second
    assert ModeSwitch.objects.count() == 1


def test_same_key_for_a_different_switch_is_refused(world, gql):
    gql.data(SWITCH, {"areaId": gid(world.com_a), "mode": "STANDBY", "key": "k"}, user=world.admin_a)
    result = gql.data(SWITCH, {"areaId": gid(world.com_a), "mode": "EMERGENCY", "key": "k"}, user=world.admin_a)["switchAreaMode"]
    assert [e["code"] for e in result["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert Area.objects.get(pk=world.com_a.pk).mode == "STANDBY"


@pytest.mark.parametrize(
    "who, area",
    [("worker_a1", "grid_a1"), ("admin_a", "com_b"), ("admin_a", "sub_a"), ("commander", "city"), ("resident", "grid_a1")],
)
def test_unentitled_switch_is_refused_and_changes_nothing(world, gql, who, area):
    status, body = gql(SWITCH, {"areaId": gid(getattr(world, area)), "mode": "EMERGENCY"}, user=getattr(world, who))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"]["switchAreaMode"] is None
    assert not ModeSwitch.objects.exists()
    assert not Area.objects.exclude(mode="NORMAL").exists()


def test_commander_switches_a_subdistrict(world, gql):
    result = gql.data(SWITCH, {"areaId": gid(world.sub_b), "mode": "STANDBY"}, user=world.commander)["switchAreaMode"]
    assert result["errors"] == [] and result["switch"]["isDrill"] is False
    assert Area.objects.get(pk=world.grid_b2.pk).effective_mode() == "STANDBY"


def test_a_drill_switch_leaves_the_real_mode_alone(world, gql):
    result = gql.data(SWITCH, {"areaId": gid(world.sub_b), "mode": "STANDBY", "isDrill": True}, user=world.commander)["switchAreaMode"]
    assert result["errors"] == [] and result["switch"]["isDrill"] is True and result["drill"]["mode"] == "STANDBY"
    assert Area.objects.get(pk=world.grid_b2.pk).effective_mode() == "NORMAL"


@pytest.mark.parametrize(
    "variables, field, code",
    [
        ({"areaId": "bm90LWFuLWlk", "mode": "EMERGENCY"}, "areaId", "INVALID"),
        ({"areaId": to_global_id("Area", 999999), "mode": "EMERGENCY"}, "areaId", "NOT_FOUND"),
        ({"areaId": to_global_id("User", 1), "mode": "EMERGENCY"}, "areaId", "INVALID"),
    ],
)
def test_bad_area_ids_are_typed_errors(world, gql, variables, field, code):
    result = gql.data(SWITCH, variables, user=world.admin_a)["switchAreaMode"]
    assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, code)]


def test_over_long_reason_is_a_typed_error(world, gql):
    result = gql.data(SWITCH, {"areaId": gid(world.com_a), "mode": "EMERGENCY", "reason": "x" * 2001}, user=world.admin_a)["switchAreaMode"]
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("reason", "TOO_LONG")]
    assert not ModeSwitch.objects.exists()


def test_unknown_mode_is_rejected_by_the_schema(world, gql):
    status, body = gql(SWITCH, {"areaId": gid(world.com_a), "mode": "PANIC"}, user=world.admin_a)
    assert status == 400 and not ModeSwitch.objects.exists()


def test_service_level_mode_error_keeps_its_code(world):
    from django.core.exceptions import ValidationError

    from community.modes import check_switch

    with pytest.raises(ValidationError) as caught:
        check_switch(world.com_a, "PANIC", "")
    from schema.core.errors import validation_error_to_list

    assert validation_error_to_list(caught.value) == [{"field": "mode", "message": "Unknown mode.", "code": "invalid_mode"}]


def test_skipping_recovery_without_a_reason_names_the_reason(gql, world):
    Area.objects.filter(pk=world.com_a.pk).update(mode="EMERGENCY")
    result = gql.data(operation("community/SwitchAreaMode"),
                      {"areaId": to_global_id("Area", world.com_a.pk), "mode": "NORMAL", "skipRecovery": True},
                      user=world.admin_a)["switchAreaMode"]
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("reason", "REQUIRED")]
