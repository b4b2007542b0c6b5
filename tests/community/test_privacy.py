"""Who sees which resident data: scope by area, masking by role, households, care notes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql_relay import to_global_id

from tests.operations import operation

pytestmark = pytest.mark.django_db

NODE = "query($id: ID!) { node(id: $id) { ... on Resident { displayName phone careNotes } ... on Household { label } } }"


def gid(type_name, obj):
    return to_global_id(type_name, obj.pk)


def names(data):
    return [e["node"]["displayName"] for e in data["residents"]["edges"]]


def test_grid_worker_sees_their_grid_only_vulnerable_first(world, gql, people):
    data = gql.data(operation("community/Residents"), {}, user=world.worker_a1)
    assert names(data) == ["王秀英", "李建国"]
    assert data["residents"]["totalCount"] == 2


def test_community_admin_filters_by_grid_and_vulnerability(world, gql, people, make_resident):
    make_resident(world.grid_a2, "钱孕妇", pregnant=True)
    vulnerable = gql.data(operation("community/Residents"), {"vulnerable": True}, user=world.admin_a)
    assert names(vulnerable) == ["王秀英", "钱孕妇"]
    pregnant = gql.data(operation("community/Residents"), {"vulnerability": ["PREGNANT"]}, user=world.admin_a)
    assert names(pregnant) == ["钱孕妇"]
    in_a2 = gql.data(operation("community/Residents"), {"areaId": gid("Area", world.grid_a2)}, user=world.admin_a)
    assert names(in_a2) == ["钱孕妇"]


def test_staff_cannot_list_another_area(world, gql, people):
    status, body = gql(operation("community/Residents"), {"areaId": gid("Area", world.grid_b1)}, user=world.worker_a1)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert body["data"]["residents"] is None


def test_commander_sees_names_but_personal_fields_are_masked(world, gql, people):
    data = gql.data(operation("community/Residents"), {}, user=world.commander)
    rows = {e["node"]["displayName"]: e["node"] for e in data["residents"]["edges"]}
    assert set(rows) == {"王秀英", "李建国", "赵桂兰"}
    me = rows["王秀英"]
    assert me["phone"] == "+86139****0001"
    assert me["address"] is None and me["vulnerability"] is None and me["careNotes"] is None
    assert me["emergencyContacts"] == [] and me["personalDataVisible"] is False


def test_commander_cannot_filter_by_vulnerability(world, gql, people):
    status, body = gql(operation("community/Residents"), {"vulnerable": True}, user=world.commander)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_staff_of_grid_a_cannot_see_grid_b_care_notes(world, gql, people):
    other = gid("Resident", people["other"])
    assert gql.data(operation("community/Resident"), {"id": other}, user=world.worker_a1) == {"resident": None}
    assert gql.data(NODE, {"id": other}, user=world.worker_a1) == {"node": None}
    own = gql.data(operation("community/Resident"), {"id": other}, user=world.worker_b1)["resident"]
    assert own["careNotes"] == "独自居住, 耳背"


def test_care_notes_are_for_staff_not_for_the_resident_or_commanders(world, gql, people):
    me = gql.data(operation("community/MyResidentProfile"), user=world.resident)["myResidentProfile"]
    assert me["careNotes"] is None and me["phone"] == "+8613900000001"
    assert me["emergencyContacts"][0]["phone"] == "+8613700000009"
    commander = gql.data(operation("community/Resident"), {"id": gid("Resident", people["me"])}, user=world.commander)
    assert commander["resident"]["careNotes"] is None
    admin = gql.data(operation("community/Resident"), {"id": gid("Resident", people["me"])}, user=world.admin_a)
    assert admin["resident"]["careNotes"] == "需要助行器"


def test_a_resident_reads_their_household_but_not_another(world, gql, people):
    mine = gql.data(operation("community/Household"), {"id": gid("Household", people["home"])}, user=world.resident)
    assert sorted(m["displayName"] for m in mine["household"]["members"]) == ["李建国", "王秀英"]
    theirs = gql.data(operation("community/Household"), {"id": gid("Household", people["other_home"])}, user=world.resident)
    assert theirs == {"household": None}
    assert gql.data(NODE, {"id": gid("Household", people["other_home"])}, user=world.resident) == {"node": None}


def test_a_resident_cannot_read_another_resident(world, gql, people):
    assert gql.data(operation("community/Resident"), {"id": gid("Resident", people["other"])}, user=world.resident) == {"resident": None}
    listed = gql.data(operation("community/Residents"), {}, user=world.resident)
    assert names(listed) == ["王秀英"]  # themself only


def test_household_members_see_each_other_masked(world, gql, people):
    mine = gql.data("query($id: ID!) { household(id: $id) { members { displayName phone address } } }",
                    {"id": gid("Household", people["home"])}, user=world.resident)
    spouse = next(m for m in mine["household"]["members"] if m["displayName"] == "李建国")
    assert spouse["address"] is None


def test_the_residents_list_costs_the_same_queries_for_few_or_many(world, gql, people, make_resident):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            gql.data(operation("community/Residents"), {"first": 100}, user=world.admin_a)
        return len(ctx.captured_queries)

    few = count()
    for i in range(25):
        make_resident(world.grid_a2, f"居民{i}", phone=f"+861390000{1000 + i}", elderly_living_alone=bool(i % 2))
    assert count() == few


def test_anonymous_callers_get_nothing(gql, people):
    status, body = gql(operation("community/Residents"), {})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_emergency_contacts_by_the_resident_and_by_staff(world, gql, people):
    me = gid("Resident", people["me"])
    added = gql.data(operation("community/AddEmergencyContact"),
                     {"residentId": me, "name": "王芳", "phone": "13700000010", "relation": "FAMILY", "key": "c1"},
                     user=world.resident)["addEmergencyContact"]
    assert added["errors"] == [] and added["contact"]["phone"] == "+8613700000010"
    linked = gql.data(operation("community/AddEmergencyContact"),
                      {"residentId": gid("Resident", people["spouse"]), "linkedResidentId": me, "relation": "FAMILY"},
                      user=world.worker_a1)["addEmergencyContact"]
    assert linked["contact"]["linkedResidentName"] == "王秀英" and linked["contact"]["phone"] == "+8613900000001"
    removed = gql.data(operation("community/RemoveEmergencyContact"), {"id": added["contact"]["id"]}, user=world.resident)
    assert len(removed["removeEmergencyContact"]["resident"]["emergencyContacts"]) == 1


def test_another_resident_cannot_touch_my_contacts(world, gql, people):
    status, body = gql(operation("community/AddEmergencyContact"),
                       {"residentId": gid("Resident", people["me"]), "name": "坏人", "phone": "13700000011"},
                       user=world.other_resident)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert people["me"].emergency_contacts.count() == 1


def test_contact_without_phone_is_a_typed_error(world, gql, people):
    payload = gql.data(operation("community/AddEmergencyContact"), {"residentId": gid("Resident", people["me"]), "name": "王芳"},
                       user=world.resident)["addEmergencyContact"]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("phone", "REQUIRED")]


def test_staff_create_households_and_move_residents_into_them(world, gql, people, make_resident):
    created = gql.data(operation("community/CreateHousehold"),
                       {"gridId": gid("Area", world.grid_a1), "label": "5幢501", "address": "甲社区5幢501"}, user=world.worker_a1)
    household_id = created["createHousehold"]["household"]["id"]
    moved = gql.data(operation("community/UpdateResident"), {"id": gid("Resident", people["spouse"]), "householdId": household_id},
                     user=world.worker_a1)
    assert moved["updateResident"]["errors"] == []
    wrong_grid = make_resident(world.grid_a2, "外网格")
    refused = gql.data(operation("community/UpdateResident"), {"id": gid("Resident", wrong_grid), "householdId": household_id},
                       user=world.admin_a)
    assert [e["code"] for e in refused["updateResident"]["errors"]] == ["INVALID"]


def test_nearby_residents_for_staff_sorted_by_distance_within_scope(world, gql, people, make_resident):
    a1 = world.grid_a1
    make_resident(a1, "近邻", at=(a1.center_lat + 0.001, a1.center_lng))
    make_resident(a1, "远邻", at=(a1.center_lat + 0.008, a1.center_lng))
    location = {"latitude": a1.center_lat, "longitude": a1.center_lng}
    found = gql.data(operation("community/NearbyResidents"), {"location": location, "radiusM": 2000}, user=world.worker_a1)
    rows = found["nearbyResidents"]
    assert [r["resident"]["displayName"] for r in rows][-2:] == ["近邻", "远邻"]
    assert [r["distanceM"] for r in rows] == sorted(r["distanceM"] for r in rows)
    assert "赵桂兰" not in {r["resident"]["displayName"] for r in rows}
    status, body = gql(operation("community/NearbyResidents"), {"location": location, "radiusM": 2000}, user=world.resident)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_nearby_with_a_bad_radius_or_location_is_a_typed_error(world, gql, people):
    location = {"latitude": 30.27, "longitude": 120.15}
    status, body = gql(operation("community/NearbyResidents"), {"location": location, "radiusM": 999999}, user=world.worker_a1)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    status, body = gql(operation("community/NearbyResidents"), {"location": {"latitude": 30, "longitude": 200}, "radiusM": 10},
                       user=world.worker_a1)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_superuser_sees_everyone(world, gql, people):
    from tests.world import make_user

    root = make_user("root", is_superuser=True, is_staff=True)
    data = gql.data(operation("community/Residents"), {}, user=root)
    assert data["residents"]["totalCount"] == 3
