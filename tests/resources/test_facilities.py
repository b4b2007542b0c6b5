"""Facilities through the API: staff keep shelters and open them; people are checked in and
out by household, vulnerable first, never beyond capacity; residents find the nearest open
shelter with room; the wrong person is refused and nothing changes."""

import pytest
from django.core.exceptions import ValidationError

from resources.facilities import check_in
from resources.models import Facility, FacilityEvent, ShelterStay
from tests.operations import operation
from tests.volunteers.conftest import make_volunteer, new_user

from .conftest import gid, shelter

pytestmark = pytest.mark.django_db

SAVE = operation("resources/SaveFacility")
STATUS = operation("resources/SetFacilityStatus")
CHECK_IN = operation("resources/CheckInToShelter")
CHECK_OUT = operation("resources/CheckOutOfShelter")
NEAREST = operation("resources/NearestOpenShelters")
FACILITIES = operation("resources/Facilities")
FIND = operation("resources/HouseholdsForCheckIn")


def facility_input(world, **changes):
    values = {"areaId": gid("Area", world.com_a), "code": "a-school", "kind": "SHELTER", "name": "甲社区小学",
              "location": {"latitude": 30.2712, "longitude": 120.1512}, "address": "学院路1号", "capacity": 300,
              "wheelchairAccessible": True}
    values.update(changes)
    return values


def test_staff_create_a_shelter_closed_and_open_it(world, gql):
    made = gql.data(SAVE, {"input": facility_input(world), "key": "f1"}, user=world.admin_a)["saveFacility"]
    assert made["errors"] == []
    facility = made["facility"]
    assert (facility["status"], facility["capacity"], facility["room"], facility["kind"]) == ("CLOSED", 300, 300, "SHELTER")
    opened = gql.data(STATUS, {"facilityId": facility["id"], "status": "OPEN", "reason": "台风"}, user=world.admin_a)
    assert opened["setFacilityStatus"]["facility"]["status"] == "OPEN"
    assert list(FacilityEvent.objects.values_list("kind", "reason")) == [("OPENED", "台风")]


def test_a_facility_needs_valid_input_and_says_all_that_is_wrong(world, gql):
    bad = facility_input(world, code="bad code!", capacity=0, name="", location={"latitude": 91, "longitude": 0})
    errors = gql.data(SAVE, {"input": bad}, user=world.admin_a)["saveFacility"]["errors"]
    assert {e["field"] for e in errors} >= {"code", "capacity", "name"} and not Facility.objects.exists()


def test_staff_of_another_community_cannot_create_or_open_one_here(world, gql):
    status, body = gql(SAVE, {"input": facility_input(world)}, user=world.admin_b)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and not Facility.objects.exists()
    school = shelter(world.com_a, open_=False)
    status, body = gql(STATUS, {"facilityId": gid("Facility", school), "status": "OPEN"}, user=world.worker_b1)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert Facility.objects.get().status == "CLOSED"


def test_a_household_checks_in_together_vulnerable_flagged_and_listed_first(world, gql, homes):
    school = shelter(world.com_a, capacity=5)
    done = gql.data(CHECK_IN, {"facilityId": gid("Facility", school), "householdId": gid("Household", homes["wang"]),
                               "key": "c1"}, user=world.worker_a1)["checkInToShelter"]
    assert done["errors"] == [] and done["facility"]["occupancy"] == 2 and done["facility"]["room"] == 3
    assert [(s["name"], s["isVulnerable"], s["vulnerabilityFlags"]) for s in done["stays"]] == [
        ("王奶奶", True, ["elderly_living_alone"]), ("王小明", False, [])]
    gql.data(CHECK_IN, {"facilityId": gid("Facility", school), "householdId": gid("Household", homes["zhao"])},
             user=world.worker_a1)
    listed = gql.data(FACILITIES, {"areaId": gid("Area", world.com_a)}, user=world.worker_a1)["facilities"]["edges"][0]["node"]
    assert [s["name"] for s in listed["stays"]] == ["王奶奶", "赵桂兰", "王小明"] and listed["canCheckIn"]


def test_a_check_in_beyond_capacity_is_refused_and_changes_nothing(world, gql, homes):
    school = shelter(world.com_a, capacity=4)
    gql.data(CHECK_IN, {"facilityId": gid("Facility", school), "householdId": gid("Household", homes["wang"])}, user=world.admin_a)
    refused = gql.data(CHECK_IN, {"facilityId": gid("Facility", school), "householdId": gid("Household", homes["li"])},
                       user=world.admin_a)["checkInToShelter"]
    assert refused["errors"][0]["code"] == "SHELTER_FULL" and "room for 2, not 3" in refused["errors"][0]["message"]
    school.refresh_from_db()
    assert (school.occupancy, ShelterStay.objects.count(), FacilityEvent.objects.filter(kind="CHECK_IN").count()) == (2, 2, 1)


def test_filling_the_last_places_shows_full_and_a_check_out_opens_it_again(world, gql, homes):
    school = shelter(world.com_a, capacity=3)
    gql.data(CHECK_IN, {"facilityId": gid("Facility", school), "householdId": gid("Household", homes["wang"]),
                        "walkIns": ["过路人"]}, user=world.admin_a)
    school.refresh_from_db()
    assert (school.status, school.occupancy) == ("FULL", 3)
    # The walk-in came with the household and leaves with it.
    out = gql.data(CHECK_OUT, {"facilityId": gid("Facility", school), "householdId": gid("Household", homes["wang"])},
                   user=world.admin_a)["checkOutOfShelter"]
    assert out["checkedOut"] == 3 and out["facility"]["status"] == "OPEN" and out["facility"]["occupancy"] == 0
    again = gql.data(CHECK_OUT, {"facilityId": gid("Facility", school), "householdId": gid("Household", homes["wang"])},
                     user=world.admin_a)["checkOutOfShelter"]
    assert again["errors"][0]["code"] == "NOT_IN_SHELTER"


def test_a_stale_view_of_the_last_places_cannot_overfill_the_shelter(world, homes):
    """Two doors, one place left: the second check-in is decided by the conditional UPDATE,
    whatever occupancy its caller last read."""
    school = shelter(world.com_a, capacity=3)
    seen_by_the_second_door = Facility.objects.get(pk=school.pk)
    check_in(school, household=homes["wang"], by=None)
    with pytest.raises(ValidationError) as refused:
        check_in(seen_by_the_second_door, household=homes["zhao"], walk_ins=["甲"], by=None)
    assert refused.value.error_dict["facility_id"][0].code == "shelter_full"
    assert Facility.objects.get(pk=school.pk).occupancy == 2


def test_closing_a_shelter_with_people_inside_is_refused(world, gql, homes):
    school = shelter(world.com_a)
    check_in(school, household=homes["zhao"], by=None)
    refused = gql.data(STATUS, {"facilityId": gid("Facility", school), "status": "CLOSED"}, user=world.admin_a)
    assert refused["setFacilityStatus"]["errors"][0]["code"] == "SHELTER_NOT_EMPTY"
    assert Facility.objects.get().status == "OPEN"


def test_someone_already_in_a_shelter_cannot_be_checked_in_elsewhere(world, gql, homes):
    school = shelter(world.com_a, "school")
    gym = shelter(world.com_a, "gym", name="体育馆")
    check_in(school, household=homes["wang"], by=None)
    refused = gql.data(CHECK_IN, {"facilityId": gid("Facility", gym), "householdId": gid("Household", homes["wang"])},
                       user=world.admin_a)["checkInToShelter"]
    assert refused["errors"][0]["code"] == "ALREADY_IN_SHELTER" and Facility.objects.get(pk=gym.pk).occupancy == 0


def test_a_volunteer_serving_the_area_checks_people_in_and_one_from_elsewhere_cannot(world, gql, homes):
    school = shelter(world.com_a)
    here = make_volunteer(new_user("小王"), world.grid_a1)
    elsewhere = make_volunteer(new_user("小赵"), world.grid_b1)
    found = gql.data(FIND, {"facilityId": gid("Facility", school), "search": "王"}, user=here.user)["householdsForCheckIn"]
    assert [h["label"] for h in found] == ["1幢101"] and {m["displayName"] for m in found[0]["members"]} == {"王奶奶", "王小明"}
    done = gql.data(CHECK_IN, {"facilityId": gid("Facility", school), "householdId": gid("Household", homes["wang"])},
                    user=here.user)["checkInToShelter"]
    assert done["errors"] == []
    status, body = gql(CHECK_IN, {"facilityId": gid("Facility", school), "householdId": gid("Household", homes["zhao"])},
                       user=elsewhere.user)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and Facility.objects.get().occupancy == 2
    assert gql(FIND, {"facilityId": gid("Facility", school), "search": "王"}, user=elsewhere.user)[1]["errors"]


def test_a_resident_finds_the_nearest_open_shelter_with_room(world, gql, homes):
    near_but_full = shelter(world.com_a, "near", capacity=1, at=(30.2711, 120.1511), name="近的")
    check_in(near_but_full, walk_ins=["甲"], by=None)
    shelter(world.com_a, "closed", at=(30.2712, 120.1512), name="关着的", open_=False)
    shelter(world.com_a, "far", capacity=50, at=(30.2800, 120.1600), name="远一点的", wheelchair_accessible=True)
    shelter(world.com_b, "other", capacity=50, at=(30.2750, 120.1550), name="另一个")
    found = gql.data(NEAREST, {"location": {"latitude": 30.271, "longitude": 120.151}, "radiusM": 3000, "people": 2},
                     user=world.resident)["nearestOpenShelters"]
    assert [e["node"]["name"] for e in found["edges"]] == ["另一个", "远一点的"]
    assert found["edges"][0]["distanceM"] < found["edges"][1]["distanceM"]
    accessible = gql.data(NEAREST, {"location": {"latitude": 30.271, "longitude": 120.151}, "radiusM": 3000,
                                    "wheelchair": True}, user=world.resident)["nearestOpenShelters"]
    assert [e["node"]["name"] for e in accessible["edges"]] == ["远一点的"]


def test_residents_see_open_facilities_and_not_who_is_inside(world, gql, homes):
    school = shelter(world.com_a)
    shelter(world.com_a, "closed", open_=False, name="关着的")
    check_in(school, household=homes["wang"], by=None)
    seen = gql.data(FACILITIES, {}, user=world.resident)["facilities"]["edges"]
    assert [e["node"]["name"] for e in seen] == [school.name]
    assert seen[0]["node"]["stays"] == [] and seen[0]["node"]["events"] == [] and not seen[0]["node"]["canManage"]


def test_a_retried_check_in_returns_the_first_result_and_counts_nobody_twice(world, gql, homes):
    school = shelter(world.com_a, capacity=10)
    variables = {"facilityId": gid("Facility", school), "householdId": gid("Household", homes["li"]), "key": "door-1-li"}
    first = gql.data(CHECK_IN, variables, user=world.admin_a)["checkInToShelter"]
    again = gql.data(CHECK_IN, variables, user=world.admin_a)["checkInToShelter"]
    assert [s["id"] for s in again["stays"]] == [s["id"] for s in first["stays"]] and len(first["stays"]) == 3
    assert Facility.objects.get().occupancy == 3 and ShelterStay.objects.count() == 3
