"""Bidirectional controls (U+202E and the other overrides, embeddings, isolates and marks) are
taken out of free text like the other invisible characters: through core.text for services,
and for every mutation argument in one place (schema.core.inputs), secrets excepted."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from graphql_relay import to_global_id

from community.imports import import_roster
from community.models import HazardPoint, Household, ModeSwitch, Resident
from core.text import clean_text, strip_unprintable
from tests.operations import operation
from volunteers.models import Task

pytestmark = pytest.mark.django_db

BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c"]
SPOOF = "invoice\u202egpj.exe\u2066\u200f\u061c"  # reads "invoiceexe.jpg" on screen


@pytest.mark.parametrize("control", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_each_bidi_control_is_stripped_like_the_other_control_characters(control):
    assert strip_unprintable(f"a{control}b\x07c") == "abc"
    assert clean_text(f" {control}停电{control} ", "note", 10) == "停电"


def test_text_people_write_is_kept():
    text = "العربية עברית 中文\temoji 👨\u200d👩\u200d👧\nline"  # RTL letters, ZWJ in an emoji, tab, newline
    assert strip_unprintable(text) == text


def test_mutation_arguments_lose_bidi_controls_before_the_service_sees_them(gql, world):
    area = to_global_id("Area", world.com_a.pk)
    data = gql.data("mutation($a: ID!, $r: String) { switchAreaMode(areaId: $a, mode: STANDBY, reason: $r) { errors { code } } }",
                    {"a": area, "r": SPOOF}, user=world.admin_a)
    assert data["switchAreaMode"]["errors"] == []
    assert ModeSwitch.objects.get().reason == "invoicegpj.exe"


def test_in_input_objects_and_lists_too(gql, world):
    grid = to_global_id("Area", world.grid_a1.pk)
    location = {"latitude": world.grid_a1.center_lat, "longitude": world.grid_a1.center_lng}
    hazard = gql.data(operation("community/CreateHazardPoint"),
                      {"input": {"name": f"井盖{SPOOF}", "kind": "OTHER", "severity": "LOW", "description": SPOOF},
                       "location": location, "gridId": grid}, user=world.worker_a1)["createHazardPoint"]
    assert hazard["errors"] == []
    assert HazardPoint.objects.values_list("name", "description").get() == ("井盖invoicegpj.exe", "invoicegpj.exe")
    household = gql.data(operation("community/CreateHousehold"), {"gridId": grid, "label": f"1幢{SPOOF}"},
                         user=world.worker_a1)["createHousehold"]
    assert household["errors"] == [] and Household.objects.get().label == "1幢invoicegpj.exe"
    task = gql.data(operation("tasks/CreateTask"),
                    {"input": {"areaId": grid, "title": f"送药{SPOOF}", "description": SPOOF, "address": SPOOF}},
                    user=world.worker_a1)["createTask"]
    assert task["errors"] == []
    assert Task.objects.values_list("title", "description", "address").get() == ("送药invoicegpj.exe",) + ("invoicegpj.exe",) * 2


def test_secrets_are_compared_as_typed(gql, world):
    world.commander.set_password("pass\u200fword-1")
    world.commander.save()
    variables = {"u": "commander", "p": "pass\u200fword-1"}
    data = gql.data("mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }", variables)
    assert data["tokenAuth"]["token"]


def test_a_roster_cell_loses_them_too(world):
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["姓名", "手机号", "住址", "网格"], [f"张三{SPOOF}", "13800138001", f"甲社区{SPOOF}1幢", "甲一网格"]])
    report = import_roster(SimpleUploadedFile("r.csv", buffer.getvalue().encode("utf-8-sig"), content_type="text/csv"),
                           world.com_a, by=world.admin_a)
    assert not report.has_errors
    assert Resident.objects.values_list("display_name", "address").get() == ("张三invoicegpj.exe", "甲社区invoicegpj.exe1幢")
