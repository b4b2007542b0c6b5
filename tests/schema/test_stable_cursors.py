"""Stable cursors (issue 17.1): a row inserted (or removed) between two pages neither repeats
nor skips anything, on every list; totalCount and the page-size limit hold; a cursor of
another list, or a made-up one, is BAD_USER_INPUT."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.utils import timezone
from graphql_relay import to_global_id

from community.models import Resident, ResidentReport
from notifications.models import Notification
from schema.schema import schema
from tests.volunteers.conftest import new_task

pytestmark = pytest.mark.django_db

PAGE = """query($first: Int, $after: String, $last: Int, $before: String%(args)s) {
  %(field)s(first: $first, after: $after, last: $last, before: $before%(pass)s) {
    totalCount pageInfo { startCursor endCursor hasNextPage hasPreviousPage } edges { cursor node { id } }
  }
}"""


def page_query(field: str, **arg_types: str) -> str:
    return PAGE % {"field": field, "args": "".join(f", ${k}: {t}" for k, t in arg_types.items()),
                   "pass": "".join(f", {k}: ${k}" for k in arg_types)}


def ids(connection: dict) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


def scroll_with_inserts(gql, user, field: str, query: str, variables: dict, insert_first, insert_last, remove=None):
    """Page 1 (3 rows); then a row that sorts before everything seen, one that sorts after
    everything, and (optionally) a removed row of page 1; then page 2 after page 1's cursor."""
    first = gql.data(query, {**variables, "first": 3}, user=user)[field]
    before_total = first["totalCount"]
    assert len(first["edges"]) == 3 and first["pageInfo"]["hasNextPage"]
    assert base64.b64decode(first["pageInfo"]["endCursor"]).startswith(b"keyset:")
    on_top = insert_first()
    at_end = insert_last()
    if remove is not None:
        remove()
    second = gql.data(query, {**variables, "first": 100, "after": first["pageInfo"]["endCursor"]}, user=user)[field]
    seen = ids(first) + ids(second)
    assert len(seen) == len(set(seen)), "a row came twice"
    assert gid_of(on_top) not in ids(second)
    everything = gql.data(query, {**variables, "first": 100}, user=user)[field]
    assert everything["totalCount"] == before_total + 2 - (1 if remove is not None else 0)
    # Page 2 is exactly what now follows page 1's last row: nothing skipped.
    full = ids(everything)
    assert ids(second) == full[full.index(ids(first)[-1]) + 1:]
    assert gid_of(at_end) in ids(second)
    return first, second


def gid_of(row) -> str:
    names = {"Resident": "Resident", "Notification": "Notification", "ResidentReport": "ResidentReport", "Task": "Task"}
    return to_global_id(names[type(row).__name__], row.pk)


def test_residents_scroll_without_repeats_or_gaps(world, gql):
    for i in range(6):
        Resident.objects.create(grid=world.grid_a1, display_name=f"居民{i}")
    query = page_query("residents", areaId="ID")
    first, second = scroll_with_inserts(
        gql, world.admin_a, "residents", query, {"areaId": to_global_id("Area", world.com_a.pk)},
        insert_first=lambda: Resident.objects.create(grid=world.grid_a1, display_name="一号"),
        insert_last=lambda: Resident.objects.create(grid=world.grid_a1, display_name="龥末"),
        remove=lambda: Resident.objects.filter(display_name="居民0").delete())
    # Backwards from page 2's first row: page 1 as it was (the removed row excepted).
    back = gql.data(query, {"areaId": to_global_id("Area", world.com_a.pk), "last": 2,
                            "before": second["pageInfo"]["startCursor"]}, user=world.admin_a)["residents"]
    assert ids(back) == [i for i in ids(first) if i in ids(back)][-2:] and back["pageInfo"]["hasPreviousPage"]


def test_notifications_newest_first_scroll_without_repeats_or_gaps(world, gql):
    base = timezone.now() - dt.timedelta(hours=1)
    for i in range(6):
        Notification.objects.create(user=world.resident, kind="test", title=f"n{i}", body="b",
                                    created_at=base + dt.timedelta(minutes=i))
    scroll_with_inserts(
        gql, world.resident, "notifications", page_query("notifications"), {},
        insert_first=lambda: Notification.objects.create(user=world.resident, kind="test", title="newest", body="b"),
        insert_last=lambda: Notification.objects.create(user=world.resident, kind="test", title="oldest", body="b",
                                                        created_at=base - dt.timedelta(days=1)))


def test_reports_scroll_without_repeats_or_gaps(world, gql):
    base = timezone.now() - dt.timedelta(hours=1)

    def report(minutes):
        return ResidentReport.objects.create(kind="HAZARD", description="d", reporter=world.resident, grid=world.grid_a1,
                                             created_at=base + dt.timedelta(minutes=minutes))
    for i in range(6):
        report(i)
    scroll_with_inserts(gql, world.admin_a, "reports", page_query("reports"), {},
                        insert_first=lambda: report(60), insert_last=lambda: report(-600))


def test_the_task_board_scrolls_without_repeats_or_gaps(world, gql):
    for i in range(6):
        new_task(world.grid_a1, title=f"任务{i}", dispatch=False)
    scroll_with_inserts(
        gql, world.admin_a, "tasks", page_query("tasks"), {},
        insert_first=lambda: new_task(world.grid_a1, title="urgent", priority="LIFE_SAFETY", dispatch=False),
        insert_last=lambda: _older_task(world))


def _older_task(world):
    task = new_task(world.grid_a1, title="old", priority="ROUTINE", dispatch=False)
    type(task).objects.filter(pk=task.pk).update(created_at=timezone.now() - dt.timedelta(days=30))
    return task


def test_a_cursor_of_another_list_or_made_up_is_bad_user_input(world, gql):
    for i in range(3):
        Notification.objects.create(user=world.resident, kind="test", title=f"n{i}", body="b")
    notes = gql.data(page_query("notifications"), {"first": 1}, user=world.resident)["notifications"]
    cursor = notes["pageInfo"]["endCursor"]
    forged = base64.b64encode(b'keyset:{"o":"x","k":[1]}').decode()
    wrong_value = base64.b64encode(
        base64.b64decode(cursor).replace(b'"k":["', b'"k":["not-a-date')).decode()
    for bad in (forged, wrong_value, "bm90IGEgY3Vyc29y"):
        status, body = gql(page_query("notifications"), {"first": 1, "after": bad}, user=world.resident)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    status, body = gql(page_query("myReports"), {"first": 1, "after": cursor}, user=world.resident)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    status, body = gql(page_query("notifications"), {"first": 101}, user=world.resident)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"  # the page-size limit holds


def _connection_fields():
    query = schema.graphql_schema.query_type
    for name, field in query.fields.items():
        type_name = getattr(getattr(field.type, "of_type", field.type), "name", "")
        if type_name.endswith("Connection"):
            yield name, field, type_name


COMPUTED = {"nearbyVolunteers", "nearestOpenShelters"}  # computed per request: offset cursors


def test_every_list_pages_by_keys(world, gql, django_user_model):
    """Every connection of the Query root that is backed by a query gives keyset cursors."""
    root = django_user_model.objects.create_superuser(username="root", password="pw-for-tests-123")
    Notification.objects.create(user=root, kind="test", title="n", body="b")
    checked = []
    for name, field, _type in _connection_fields():
        if name in COMPUTED:
            continue
        required = {a: arg for a, arg in field.args.items() if "!" in str(arg.type)}
        if set(required) - {"areaId"}:
            continue
        variables = {"areaId": to_global_id("Area", world.city.pk)} if required else {}
        decl = "($areaId: ID!)" if required else ""
        use = "(first: 1, areaId: $areaId)" if required else "(first: 1)"
        status, body = gql(f"query{decl} {{ {name}{use} {{ totalCount pageInfo {{ endCursor }} }} }}", variables, user=root)
        assert not body.get("errors"), (name, body)
        cursor = body["data"][name]["pageInfo"]["endCursor"]
        if cursor is not None:
            assert base64.b64decode(cursor).startswith(b"keyset:"), name
            checked.append(name)
    assert {"areas", "notifications", "skills"} <= set(checked)
