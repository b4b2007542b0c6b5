"""The access log: reads of sensitive fields through the API are recorded, one row per
reader, subject and request; auditors and community admins query their area; a resident sees
who looked at their record; the log is append-only."""

import pytest
from graphql_relay import to_global_id

from privacy.models import AccessLog, AppendOnlyError
from tests.operations import operation

pytestmark = pytest.mark.django_db


def gid(type_name, obj):
    return to_global_id(type_name, obj.pk)


def test_a_list_read_by_staff_writes_one_row_per_resident_with_the_fields_read(world, gql, people):
    gql.data(operation("community/Residents"), {}, user=world.admin_a)
    rows = {r.subject_id: r for r in AccessLog.objects.all()}
    assert set(rows) == {people["me"].pk, people["spouse"].pk}  # 甲's residents only; 赵桂兰 is not 甲's
    me = rows[people["me"].pk]
    assert set(me.fields) == {"address", "careNotes", "emergencyContacts", "emergencyContacts.phone", "phone", "vulnerability"}
    assert (me.actor_id, me.actor_name, me.role, me.channel, me.operation) == (
        world.admin_a.pk, "admin_a", "community_admin", "api", "Residents")
    assert me.area_path == world.grid_a1.path and me.subject_user_id == world.resident.pk
    # The spouse has no phone, care notes or contacts: only what was really revealed.
    assert set(rows[people["spouse"].pk].fields) == {"address", "vulnerability"}


def test_masked_reads_and_own_reads_are_not_logged(world, gql, people):
    gql.data(operation("community/Residents"), {}, user=world.commander)  # masked for commanders
    gql.data(operation("community/MyResidentProfile"), user=world.resident)  # their own record
    assert AccessLog.objects.count() == 0


def test_a_second_request_is_a_second_row(world, gql, people):
    for _ in range(2):
        gql.data(operation("community/Resident"), {"id": gid("Resident", people["other"])}, user=world.worker_b1)
    rows = list(AccessLog.objects.filter(subject_id=people["other"].pk))
    assert len(rows) == 2 and all(r.role == "grid_worker" for r in rows)


def test_auditor_and_community_admin_query_their_area_only(world, gql, people, auditor):
    gql.data(operation("community/Residents"), {}, user=world.worker_a1)
    gql.data(operation("community/Residents"), {}, user=world.worker_b1)
    seen = gql.data(operation("privacy/AccessLog"), {}, user=auditor)["accessLog"]
    assert seen["totalCount"] == 2
    assert {e["node"]["residentName"] for e in seen["edges"]} == {"王秀英", "李建国"}
    assert {e["node"]["actorName"] for e in seen["edges"]} == {"worker_a1"}
    one = gql.data(operation("privacy/AccessLog"), {"residentId": gid("Resident", people["me"])}, user=world.admin_a)
    assert [e["node"]["residentId"] for e in one["accessLog"]["edges"]] == [gid("Resident", people["me"])]
    # Community B's admin sees B's reads, not A's; asking for A's area is refused.
    other = gql.data(operation("privacy/AccessLog"), {}, user=world.admin_b)["accessLog"]
    assert {e["node"]["residentName"] for e in other["edges"]} == {"赵桂兰"}
    status, body = gql(operation("privacy/AccessLog"), {"areaId": gid("Area", world.com_a)}, user=world.admin_b)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND" and body["data"]["accessLog"] is None


def test_grid_workers_commanders_and_residents_may_not_read_the_log(world, gql, people):
    for user in (world.worker_a1, world.commander, world.resident):
        status, body = gql(operation("privacy/AccessLog"), {}, user=user)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", user


def test_an_auditor_sees_the_log_but_no_one_s_data(world, gql, people, auditor):
    status, body = gql(operation("community/Resident"), {"id": gid("Resident", people["me"])}, user=auditor)
    assert body["data"]["resident"] is None


def test_a_resident_sees_who_looked_at_their_record(world, gql, people):
    gql.data(operation("community/Resident"), {"id": gid("Resident", people["me"])}, user=world.admin_a)
    mine = gql.data(operation("privacy/MyRecordAccessLog"), user=world.resident)["myRecordAccessLog"]
    assert mine["totalCount"] == 1
    entry = mine["edges"][0]["node"]
    assert entry["actorName"] == "admin_a" and entry["role"] == "community_admin" and "careNotes" in entry["fields"]
    assert gql.data(operation("privacy/MyRecordAccessLog"), user=world.other_resident)["myRecordAccessLog"]["totalCount"] == 0


def test_the_log_is_append_only(world, gql, people):
    gql.data(operation("community/Resident"), {"id": gid("Resident", people["me"])}, user=world.admin_a)
    row = AccessLog.objects.get()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.update(fields=[])
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.all().delete()
    row.fields = []
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    assert AccessLog.objects.get().fields != []


def test_the_admin_pages_of_a_resident_are_logged(world, client, people):
    from community.models import User

    root = User.objects.create_superuser("root", password="pw-for-tests-123")
    client.force_login(root)
    assert client.get(f"/admin/community/resident/{people['other'].pk}/change/").status_code == 200
    row = AccessLog.objects.get()
    assert (row.channel, row.operation, row.role, row.subject_id) == ("admin", "admin:resident.change", "superuser", people["other"].pk)
    assert {"careNotes", "phone", "address", "vulnerability"} <= set(row.fields)
    assert client.get("/admin/community/resident/").status_code == 200
    listed = AccessLog.objects.filter(operation="admin:resident.list")
    assert {r.subject_id for r in listed} == {people["me"].pk, people["spouse"].pk, people["other"].pk}
    assert all(r.fields == ["vulnerability"] for r in listed)
    assert client.get(f"/admin/community/household/{people['home'].pk}/change/").status_code == 200
    home = AccessLog.objects.get(operation="admin:household.change")
    assert (home.subject_kind, home.subject_id, home.fields) == ("household", people["home"].pk, ["address"])
    assert client.get("/admin/community/user/").status_code == 200
    phones = AccessLog.objects.filter(operation="admin:user.list")
    assert world.resident.pk in {r.subject_id for r in phones} and all(r.fields == ["phone"] for r in phones)


def test_a_volunteer_s_phone_read_by_staff_is_logged_and_shown_to_the_volunteer(world, gql):
    from tests.volunteers.conftest import make_volunteer, new_user

    person = new_user("vol-privacy")
    make_volunteer(person, world.grid_a1)
    gql.data(operation("volunteers/Volunteers"), {}, user=world.worker_a1)
    row = AccessLog.objects.get(subject_user_id=person.pk)
    assert (row.subject_kind, row.fields, row.role, row.area_path) == ("user", ["phone"], "grid_worker", world.grid_a1.path)
    seen = gql.data(operation("privacy/MyRecordAccessLog"), user=person)["myRecordAccessLog"]
    assert [e["node"]["actorName"] for e in seen["edges"]] == ["worker_a1"]
    gql.data(operation("volunteers/Volunteers"), {}, user=world.commander)  # masked for commanders: nothing logged
    assert AccessLog.objects.count() == 1
