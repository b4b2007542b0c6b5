"""Resident reports: filed from the app with an optional photo, idempotent, seen by grid staff
in real time, moved through statuses, turned into a task exactly once."""

import json

import pytest
from django.core.exceptions import ValidationError
from graphql_relay import to_global_id

from community.models import ReportStatus, ResidentReport
from community.reports import do_submit_report, mark_converted_to_task
from tests.graphql import token_for
from tests.operations import operation

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def location_of(grid):
    return {"latitude": grid.center_lat, "longitude": grid.center_lng}


def submit(client, user, grid, photo=None, key="r-1", description="楼道堆放杂物, 堵塞消防通道", kind="HAZARD", name="p.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    variables = {"kind": kind, "description": description, "location": location_of(grid), "photo": None, "key": key}
    data = {"operations": json.dumps({"query": operation("community/SubmitReport"), "variables": variables}),
            "map": json.dumps({"0": ["variables.photo"]} if photo is not None else {})}
    if photo is not None:
        data["0"] = SimpleUploadedFile(name, photo, content_type="image/jpeg")
    response = client.post("/graphql/", data=data, HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return response.status_code, response.json()


@pytest.mark.django_db
def test_resident_submits_a_report_with_a_photo(world, client, people):
    status, body = submit(client, world.resident, world.grid_a1, photo=JPEG)
    payload = body["data"]["submitReport"]
    assert status == 200 and payload["errors"] == []
    assert payload["report"]["status"] == "SUBMITTED" and payload["report"]["grid"]["name"] == "甲一网格"
    report = ResidentReport.objects.get()
    assert report.photo_content_type == "image/jpeg" and report.photo.name.endswith(".jpg")
    assert "p.jpg" not in report.photo.name  # never the client's file name
    assert report.resident == people["me"]


@pytest.mark.django_db
def test_a_retried_submission_returns_the_first_report(world, client):
    first = submit(client, world.resident, world.grid_a1, photo=PNG)[1]["data"]["submitReport"]["report"]["id"]
    again = submit(client, world.resident, world.grid_a1, photo=PNG)[1]["data"]["submitReport"]["report"]["id"]
    assert first == again and ResidentReport.objects.count() == 1
    other_key = submit(client, world.resident, world.grid_a1, photo=PNG, key="r-2")[1]
    assert other_key["data"]["submitReport"]["report"]["id"] != first


@pytest.mark.django_db
def test_the_client_key_on_the_row_also_guards_against_duplicates(world):
    a = do_submit_report(world.resident, kind="help", description="需要帮助", location=(30.271, 120.151), client_key="k")
    b = do_submit_report(world.resident, kind="help", description="需要帮助", location=(30.271, 120.151), client_key="k")
    assert a.pk == b.pk


@pytest.mark.django_db
@pytest.mark.parametrize("photo,name,code", [
    (b"GIF89a" + b"\x00" * 100, "x.jpg", "UNSUPPORTED_FILE_TYPE"),
    (b"<script>alert(1)</script>", "x.png", "UNSUPPORTED_FILE_TYPE"),
    (JPEG + b"\x00" * 5000, "big.jpg", "FILE_TOO_LARGE"),
])
def test_bad_uploads_are_typed_errors_and_nothing_is_filed(world, client, settings, photo, name, code):
    settings.REPORT_PHOTO_MAX_BYTES = 4096
    status, body = submit(client, world.resident, world.grid_a1, photo=photo, name=name)
    assert [(e["field"], e["code"]) for e in body["data"]["submitReport"]["errors"]] == [("photo", code)]
    assert not ResidentReport.objects.exists()


@pytest.mark.django_db
def test_an_oversized_request_is_refused_before_it_is_read(world, client, settings):
    settings.GRAPHQL_UPLOAD_MAX_BYTES = 1000
    status, body = submit(client, world.resident, world.grid_a1, photo=JPEG * 10)
    assert status == 413 and not ResidentReport.objects.exists()


@pytest.mark.django_db
def test_a_string_instead_of_a_file_is_rejected(world, gql):
    status, body = gql(operation("community/SubmitReport"),
                       {"kind": "HELP", "description": "x", "location": location_of(world.grid_a1), "photo": "not a file"},
                       user=world.resident)
    assert body["errors"] and not ResidentReport.objects.exists()


@pytest.mark.django_db
def test_report_without_photo_far_away_or_empty_is_a_typed_error(world, gql):
    far = gql.data(operation("community/SubmitReport"),
                   {"kind": "HELP", "description": "救命", "location": {"latitude": 39.9, "longitude": 116.4}}, user=world.resident)
    assert [e["code"] for e in far["submitReport"]["errors"]] == ["NO_GRID_FOR_LOCATION"]
    empty = gql.data(operation("community/SubmitReport"),
                     {"kind": "HELP", "description": "  ", "location": location_of(world.grid_a1)}, user=world.resident)
    assert [e["code"] for e in empty["submitReport"]["errors"]] == ["REQUIRED"]


@pytest.fixture
def filed(world):
    return {
        "a": do_submit_report(world.resident, kind="hazard", description="井盖缺失", location=(30.271, 120.151)),
        "b": do_submit_report(world.other_resident, kind="help", description="老人摔倒", location=(30.291, 120.171)),
    }


@pytest.mark.django_db
def test_grid_staff_list_reports_of_their_area_and_residents_their_own(world, gql, filed):
    staff = gql.data(operation("community/Reports"), {}, user=world.worker_a1)
    assert [e["node"]["description"] for e in staff["reports"]["edges"]] == ["井盖缺失"]
    assert staff["reports"]["edges"][0]["node"]["reporterPhone"] == "+8613900000001"
    mine = gql.data(operation("community/MyReports"), {}, user=world.other_resident)
    assert [e["node"]["description"] for e in mine["myReports"]["edges"]] == ["老人摔倒"]
    commander = gql.data(operation("community/Reports"), {"kind": "HELP"}, user=world.commander)
    assert commander["reports"]["edges"][0]["node"]["reporterPhone"] == "+86139****0002"
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert gql.data(node, {"id": to_global_id("ResidentReport", filed["b"].pk)}, user=world.resident) == {"node": None}


@pytest.mark.django_db
def test_staff_acknowledge_then_resolve_and_illegal_moves_are_refused(world, gql, filed):
    rid = to_global_id("ResidentReport", filed["a"].pk)
    ack = gql.data(operation("community/SetReportStatus"), {"reportId": rid, "status": "ACKNOWLEDGED", "note": "已派人查看"},
                   user=world.worker_a1)["setReportStatus"]
    assert ack["errors"] == [] and ack["report"]["status"] == "ACKNOWLEDGED"
    done = gql.data(operation("community/SetReportStatus"), {"reportId": rid, "status": "RESOLVED"}, user=world.worker_a1)
    assert done["setReportStatus"]["report"]["status"] == "RESOLVED"
    again = gql.data(operation("community/SetReportStatus"), {"reportId": rid, "status": "DISMISSED"}, user=world.worker_a1)
    assert [e["code"] for e in again["setReportStatus"]["errors"]] == ["INVALID_TRANSITION"]
    status, body = gql(operation("community/SetReportStatus"), {"reportId": to_global_id("ResidentReport", filed["b"].pk),
                                                                 "status": "DISMISSED"}, user=world.worker_a1)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert ResidentReport.objects.get(pk=filed["b"].pk).status == ReportStatus.SUBMITTED


@pytest.mark.django_db
def test_a_report_becomes_a_task_exactly_once(world, filed):
    mark_converted_to_task(filed["a"], by=world.worker_a1)
    stale = ResidentReport.objects.get(pk=filed["a"].pk)
    stale.status = ReportStatus.SUBMITTED  # a second grid worker holding an old copy
    with pytest.raises(ValidationError) as exc:
        mark_converted_to_task(stale, by=world.admin_a)
    assert exc.value.error_dict["status"][0].code == "already_converted"
    report = ResidentReport.objects.get(pk=filed["a"].pk)
    assert report.status == ReportStatus.CONVERTED_TO_TASK and report.handled_by == world.worker_a1


@pytest.mark.django_db
def test_events_are_published_after_commit_to_the_grid_and_its_ancestors(world, monkeypatch, django_capture_on_commit_callbacks):
    import notifications.realtime as realtime

    sent = []
    monkeypatch.setattr(realtime, "publish", lambda groups, event: sent.append((groups, event)))
    with django_capture_on_commit_callbacks(execute=True):
        report = do_submit_report(world.resident, kind="help", description="x", location=(30.271, 120.151))
        assert sent == []
    groups, event = sent[0]
    assert event == {**event, "type": "report.created", "reportId": report.pk}
    assert set(groups) == {f"area.{a.pk}" for a in world.grid_a1.ancestors_and_self()}


# --- real time ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_grid_staff_receive_new_reports_over_a_real_websocket(world, live_server_asgi, client):
    from notifications import events
    from tests.wsclient import GraphQLWSClient, group_size

    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as ws:
        ws.subscribe("r", operation("community/OnReportsInArea"), {"areaId": to_global_id("Area", world.com_a.pk)})
        ws.wait_until_subscribed(lambda: group_size(events.area_group(world.com_a.pk)) > 0)
        submit(client, world.resident, world.grid_a1, photo=JPEG)
        message = ws.receive_for("r", timeout=10)
    event = message["payload"]["data"]["reportsInArea"]
    assert event["type"] == "report.created" and event["report"]["grid"]["name"] == "甲一网格"
    assert event["report"]["description"] == "楼道堆放杂物, 堵塞消防通道"


@pytest.mark.django_db(transaction=True)
def test_staff_of_another_community_cannot_subscribe(world, live_server_asgi):
    from tests.wsclient import GraphQLWSClient

    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_b)) as ws:
        ws.subscribe("r", operation("community/OnReportsInArea"), {"areaId": to_global_id("Area", world.com_a.pk)})
        message = ws.receive_for("r", timeout=10)
    assert message["type"] == "error" and message["payload"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_grid_workers_converting_the_same_report_at_once_one_wins(world):
    import threading

    from django.db import connection

    report = do_submit_report(world.resident, kind="help", description="老人摔倒", location=(30.271, 120.151))
    barrier = threading.Barrier(2)
    outcomes = []

    def convert(user):
        try:
            copy = ResidentReport.objects.get(pk=report.pk)
            barrier.wait()
            mark_converted_to_task(copy, by=user)
            outcomes.append("won")
        except ValidationError as exc:
            outcomes.append(exc.error_dict["status"][0].code)
        finally:
            connection.close()

    threads = [threading.Thread(target=convert, args=(u,)) for u in (world.worker_a1, world.admin_a)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(outcomes) == ["already_converted", "won"]
    assert ResidentReport.objects.get(pk=report.pk).status == ReportStatus.CONVERTED_TO_TASK


@pytest.mark.django_db
def test_a_report_is_read_by_its_reporter_and_its_grid_staff_only(world, client, gql, people):
    status, body = submit(client, world.resident, world.grid_a1)
    report_id = body["data"]["submitReport"]["report"]["id"]
    mine = gql.data(operation("community/Report"), {"id": report_id}, user=world.resident)["report"]
    assert mine["kind"] == "HAZARD" and mine["grid"]["name"] == "甲一网格"
    staff = gql.data(operation("community/Report"), {"id": report_id}, user=world.worker_a1)["report"]
    assert staff["reporterName"] and staff["location"] is not None
    for stranger in (world.other_resident, world.worker_b1):
        assert gql.data(operation("community/Report"), {"id": report_id}, user=stranger)["report"] is None
