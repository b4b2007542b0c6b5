"""exportMyData: everything about me as JSON and XLSX, through a signed link made for me."""

import io
import json
from urllib.parse import urlsplit

import pytest
from graphql_relay import to_global_id
from openpyxl import load_workbook

from notifications.services import notify
from tests.operations import operation

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def export(gql, user):
    return gql.data(operation("privacy/ExportMyData"), user=user)["exportMyData"]


def test_my_data_downloads_as_json_with_every_section_and_nothing_of_others(world, gql, client, people):
    notify(world.resident, kind="test.private", title="药已送达", body="请查收")
    gql.data(operation("community/Resident"), {"id": to_global_id("Resident", people["me"].pk)}, user=world.admin_a)
    links = export(gql, world.resident)
    assert links["errors"] == [] and links["expiresAt"]
    response = client.get(path_of(links["jsonUrl"]))  # no Authorization header: the link is the credential
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == f'attachment; filename="linli-my-data-{world.resident.pk}.json"'
    data = json.loads(response.content)
    sections = data["sections"]
    assert sections["account"][0]["phone"] == "+8613900000001"
    me = sections["resident"][0]
    assert (me["display_name"], me["address"], me["elderly_living_alone"]) == ("王秀英", "甲社区1幢101", True)
    assert sections["emergency_contacts"] == [{"name": "王强", "phone": "+8613700000009", "relation": "family",
                                               "created_at": sections["emergency_contacts"][0]["created_at"]}]
    assert [n["title"] for n in sections["notifications"]] == ["药已送达"]
    assert [(r["actor_name"], r["channel"]) for r in sections["who_read_my_record"]] == [("admin_a", "api")]
    text = response.content.decode()
    assert "需要助行器" not in text  # staff's care notes stay with staff
    assert "赵桂兰" not in text and "+8613900000002" not in text  # nobody else's data


def test_my_data_downloads_as_a_spreadsheet(world, gql, client, people):
    response = client.get(path_of(export(gql, world.resident)["xlsxUrl"]))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert {"account", "resident", "emergency_contacts", "consents", "notifications", "sms_to_me",
            "who_read_my_record", "safety_checks", "service_hours"} <= set(book.sheetnames)
    head, row = list(book["resident"].iter_rows(values_only=True))[:2]
    assert dict(zip(head, row, strict=False))["display_name"] == "王秀英"


def test_the_link_is_refused_when_tampered_expired_or_after_a_password_change(world, gql, client, settings, people):
    url = path_of(export(gql, world.resident)["jsonUrl"])
    assert client.get(url.replace("t=", "t=x")).status_code == 403
    assert client.get(url.replace("format=json", "format=docx")).status_code == 400
    world.resident.set_password("a-new-password-123")
    world.resident.save()
    assert client.get(url).status_code == 403
    settings.MY_DATA_LINK_MAX_AGE = -1
    assert client.get(path_of(export(gql, world.resident)["jsonUrl"])).status_code == 410


def test_an_anonymous_caller_gets_no_link(gql):
    status, body = gql(operation("privacy/ExportMyData"))
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
