"""Residents register themselves or are registered by staff; grids derive from locations."""

import pytest
from graphql_relay import to_global_id

from community.geo import wgs84_to_gcj02
from community.models import GeocodeStatus, Resident
from tests.operations import operation

pytestmark = pytest.mark.django_db

PROFILE = {"displayName": "王秀英", "address": "甲社区1幢101", "elderlyLivingAlone": True, "consentToContact": True}


def gid(type_name, obj):
    return to_global_id(type_name, obj.pk)


def test_resident_registers_from_the_app_and_the_grid_is_derived_from_a_gcj02_pin(world, gql):
    lat, lng = wgs84_to_gcj02(world.grid_a2.center_lat, world.grid_a2.center_lng)
    data = gql.data(operation("community/RegisterMyResidentProfile"),
                    {"input": PROFILE, "location": {"latitude": lat, "longitude": lng, "datum": "GCJ02"}}, user=world.resident)
    payload = data["registerMyResidentProfile"]
    assert payload["errors"] == []
    assert payload["resident"]["grid"]["name"] == "甲二网格"
    assert payload["resident"]["phone"] == "+8613900000001"  # the number they logged in with
    assert payload["resident"]["vulnerability"]["isVulnerable"] is True
    resident = Resident.objects.get(user=world.resident)
    assert abs(resident.lat - world.grid_a2.center_lat) < 1e-5 and resident.h3_cell


def test_self_registration_claims_the_profile_staff_made_for_the_same_phone(world, gql, make_resident):
    made_by_staff = make_resident(world.grid_a1, "王秀英", phone="+8613900000001", care_notes="行动不便", grid_overridden=True)
    location = {"latitude": world.grid_a2.center_lat, "longitude": world.grid_a2.center_lng}
    payload = gql.data(operation("community/RegisterMyResidentProfile"), {"input": PROFILE, "location": location},
                       user=world.resident)["registerMyResidentProfile"]
    assert payload["errors"] == []
    assert Resident.objects.count() == 1
    made_by_staff.refresh_from_db()
    assert made_by_staff.user == world.resident
    assert made_by_staff.grid == world.grid_a1  # staff fixed the grid; a pin does not move it
    assert made_by_staff.care_notes == "行动不便"


def test_registering_twice_is_refused_with_a_code(world, gql, people):
    location = {"latitude": world.grid_a1.center_lat, "longitude": world.grid_a1.center_lng}
    payload = gql.data(operation("community/RegisterMyResidentProfile"), {"input": PROFILE, "location": location},
                       user=world.resident)["registerMyResidentProfile"]
    assert [e["code"] for e in payload["errors"]] == ["ALREADY_REGISTERED"]


@pytest.mark.parametrize("location,code", [
    ({"latitude": 95, "longitude": 120.15}, "INVALID_LOCATION"),
    ({"latitude": 39.9, "longitude": 116.4}, "NO_GRID_FOR_LOCATION"),  # Beijing: no grid of ours
])
def test_bad_or_far_away_locations_are_typed_errors_and_nothing_is_saved(world, gql, location, code):
    payload = gql.data(operation("community/RegisterMyResidentProfile"), {"input": PROFILE, "location": location},
                       user=world.resident)["registerMyResidentProfile"]
    assert [e["code"] for e in payload["errors"]] == [code]
    assert payload["errors"][0]["field"] == "location"
    assert not Resident.objects.exists()


def test_bad_phone_and_missing_name_are_all_reported(world, gql):
    location = {"latitude": world.grid_a1.center_lat, "longitude": world.grid_a1.center_lng}
    payload = gql.data(operation("community/RegisterMyResidentProfile"),
                       {"input": {"phone": "12345", "displayName": " "}, "location": location},
                       user=world.resident)["registerMyResidentProfile"]
    assert {(e["field"], e["code"]) for e in payload["errors"]} == {("phone", "INVALID_PHONE"), ("displayName", "REQUIRED")}


def test_moving_the_pin_rederives_the_grid_and_a_new_address_alone_waits_for_the_geocoder(world, gql, people):
    new_pin = {"latitude": world.grid_a2.center_lat, "longitude": world.grid_a2.center_lng}
    moved = gql.data(operation("community/UpdateMyResidentProfile"), {"location": new_pin}, user=world.resident)
    assert moved["updateMyResidentProfile"]["resident"]["grid"]["name"] == "甲二网格"
    readdressed = gql.data(operation("community/UpdateMyResidentProfile"), {"input": {"address": "甲社区9幢901"}}, user=world.resident)
    assert readdressed["updateMyResidentProfile"]["resident"]["geocodeStatus"] == "PENDING"
    assert Resident.objects.get(pk=people["me"].pk).geocode_status == GeocodeStatus.PENDING


def test_staff_register_a_resident_without_phone_in_their_grid(world, gql):
    variables = {"input": {"displayName": "孙大爷", "reducedMobility": True, "careNotes": "卧床, 需要两人搬运"},
                 "gridId": gid("Area", world.grid_a1), "key": "k-1", "legalBasis": "STATUTORY_DUTY"}
    payload = gql.data(operation("community/RegisterResident"), variables, user=world.worker_a1)["registerResident"]
    assert payload["errors"] == []
    assert payload["resident"]["phone"] is None and payload["resident"]["usesApp"] is False
    assert payload["resident"]["gridOverridden"] is True
    again = gql.data(operation("community/RegisterResident"), variables, user=world.worker_a1)["registerResident"]
    assert again["resident"]["id"] == payload["resident"]["id"]  # a retry does not register twice
    assert Resident.objects.count() == 1


def test_staff_cannot_register_residents_outside_their_area(world, gql):
    variables = {"input": {"displayName": "孙大爷"}, "gridId": gid("Area", world.grid_b1)}
    status, body = gql(operation("community/RegisterResident"), variables, user=world.worker_a1)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not Resident.objects.exists()


def test_residents_and_volunteers_cannot_register_others(world, gql, people):
    variables = {"input": {"displayName": "孙大爷"}, "gridId": gid("Area", world.grid_a1)}
    status, body = gql(operation("community/RegisterResident"), variables, user=world.resident)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_phone_can_belong_to_one_resident_only(world, gql, people):
    variables = {"input": {"displayName": "冒名", "phone": "13900000002"}, "gridId": gid("Area", world.grid_a1)}
    payload = gql.data(operation("community/RegisterResident"), variables, user=world.admin_a)["registerResident"]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("phone", "PHONE_TAKEN")]


def test_a_grid_must_be_a_grid(world, gql):
    variables = {"input": {"displayName": "孙大爷"}, "gridId": gid("Area", world.com_a)}
    payload = gql.data(operation("community/RegisterResident"), variables, user=world.admin_a)["registerResident"]
    assert [e["code"] for e in payload["errors"]] == ["NOT_A_GRID"]


def test_staff_override_the_grid_and_can_clear_the_override(world, gql, people):
    me = gid("Resident", people["me"])
    fixed = gql.data(operation("community/UpdateResident"), {"id": me, "gridId": gid("Area", world.grid_a2)}, user=world.admin_a)
    assert fixed["updateResident"]["resident"]["grid"]["name"] == "甲二网格"
    assert fixed["updateResident"]["resident"]["gridOverridden"] is True
    cleared = gql.data(operation("community/UpdateResident"), {"id": me, "clearGridOverride": True}, user=world.admin_a)
    assert cleared["updateResident"]["resident"]["grid"]["name"] == "甲一网格"  # back to where the pin is


def test_vulnerability_is_stored_in_step_with_the_flags(world, gql, people):
    me = gid("Resident", people["me"])
    data = gql.data(operation("community/UpdateResident"), {"id": me, "input": {"elderlyLivingAlone": False}}, user=world.worker_a1)
    assert data["updateResident"]["resident"]["vulnerability"]["isVulnerable"] is False
    assert Resident.objects.vulnerable().filter(pk=people["me"].pk).count() == 0


def test_grid_worker_b_cannot_edit_grid_a_residents(world, gql, people):
    status, body = gql(operation("community/UpdateResident"), {"id": gid("Resident", people["me"]), "input": {"careNotes": "x"}},
                       user=world.worker_b1)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    people["me"].refresh_from_db()
    assert people["me"].care_notes == "需要助行器"


def test_queryset_helpers(world, people):
    assert set(Resident.objects.in_area(world.com_a)) == {people["me"], people["spouse"]}
    assert set(Resident.objects.in_area(world.district).vulnerable()) == {people["me"], people["other"]}
    assert people["me"].sms_phone == "+8613900000001" and people["me"].uses_app
    assert people["spouse"].sms_phone is None and not people["spouse"].uses_app
    assert people["me"].language == "zh-hans"


def test_home_area_provider_lets_a_resident_see_their_grid_and_its_ancestors(world, people):
    from community.permissions import can_view_area

    assert can_view_area(world.resident, world.grid_a1) and can_view_area(world.resident, world.city)
    assert not can_view_area(world.resident, world.grid_b1)


def test_a_phone_taken_by_a_concurrent_registration_is_a_typed_error(world, make_resident, monkeypatch):
    """The unique constraint decides a race the pre-check cannot see."""
    from django.core.exceptions import ValidationError

    import community.residents as service

    make_resident(world.grid_a1, "先到", phone="+8613800138111")
    monkeypatch.setattr(service, "check_phone_free", lambda *a, **k: None)  # the other request checked first
    with pytest.raises(ValidationError) as exc:
        service.do_register_resident(by=world.worker_a1, grid=world.grid_a1, grid_overridden=True,
                                     data={"display_name": "后到", "phone": "13800138111"})
    assert exc.value.error_dict["phone"][0].code == "phone_taken"
    assert Resident.objects.count() == 1


def test_the_profiles_language_and_name_reach_the_account_that_pushes_and_texts_follow(world, gql):
    location = {"latitude": world.grid_a1.center_lat, "longitude": world.grid_a1.center_lng}
    registered = gql.data(operation("community/RegisterMyResidentProfile"), {"input": PROFILE, "location": location},
                          user=world.resident)["registerMyResidentProfile"]
    assert registered["errors"] == []
    world.resident.refresh_from_db()
    assert world.resident.display_name == PROFILE["displayName"]
    updated = gql.data(operation("community/UpdateMyResidentProfile"), {"input": {"preferredLanguage": "EN"}},
                       user=world.resident)["updateMyResidentProfile"]
    assert updated["errors"] == [] and updated["resident"]["preferredLanguage"] == "EN"
    me = gql.data(operation("community/Me"), user=world.resident)["me"]
    assert me["preferredLanguage"] == "EN"
