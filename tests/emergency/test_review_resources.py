"""The after-action report adds what came before and during: warnings received and the time
commanders took to decide, shelter occupancy over time, supplies used and distributed."""

import datetime as dt

import pytest
from django.utils import timezone

from emergency.models import WarningProposal, WarningSource
from emergency.review import after_action_report
from emergency.review_html import render_report_html
from emergency.warnings.ingest import ingest_cap
from emergency.warnings.proposals import decide_proposal
from resources.facilities import check_in, check_out
from resources.supplies import ItemSpec, distribute, issue, receive, save_item, save_warehouse
from tests.operations import operation
from tests.resources.conftest import household, shelter
from tests.volunteers.conftest import new_task

from .cap_documents import cap
from .emergency_support import _emergency_isolation, gid  # noqa: F401

pytestmark = pytest.mark.django_db

REPORT = operation("emergency/AfterActionResources")


def test_the_report_shows_warnings_shelters_and_supplies(world, gql):
    since = timezone.now() - dt.timedelta(minutes=1)
    source = WarningSource.objects.create(code="cma", name="气象台", kind="CAP_WEBHOOK", secret="k")
    ingest_cap(cap("w1", circle="30.27,120.15 1"), source=source)
    decide_proposal(WarningProposal.objects.get(), accept=True, by=world.admin_a)
    ingest_cap(cap("w2", circle="30.27,120.15 1", severity="Minor", status="Exercise"), source=source)

    school = shelter(world.com_a, capacity=10, name="甲小学")
    wang = household(world.grid_a1, "1幢101", ("王奶奶", {"elderly_living_alone": True}), ("王小明", {}))
    check_in(school, household=wang, walk_ins=["过路人"], by=world.admin_a)
    check_out(school, household=wang, by=world.admin_a)
    water = save_item(ItemSpec(code="water", name="矿泉水", unit="箱"))
    store = save_warehouse(area=world.com_a, code="store", name="仓库")
    receive(store, water, 50, by=None)
    issue(store, water, 5, by=None, reason="送救援队")
    distribute(store, water, 2, household=wang, by=None)
    new_task(world.grid_a1, title="送水", dispatch=False)

    until = timezone.now() + dt.timedelta(minutes=1)
    report = gql.data(REPORT, {"areaId": gid("Area", world.com_a), "since": since.isoformat(), "until": until.isoformat()},
                      user=world.admin_a)["afterActionReport"]
    warnings = report["warnings"]
    assert (warnings["received"], warnings["proposals"], warnings["accepted"]) == (1, 1, 1)  # the exercise is drill data
    assert warnings["medianSecondsToDecide"] >= 0 and warnings["entries"][0]["areas"] == ["甲社区"]
    (reviewed,) = report["shelters"]
    assert (reviewed["peak"], reviewed["atEnd"], reviewed["checkIns"], reviewed["vulnerableCheckIns"]) == (3, 0, 3, 1)
    assert [p["occupancy"] for p in reviewed["curve"]] == [0, 0, 3, 0]  # start, opened, check-in, check-out
    (line,) = report["supplies"]["items"]
    assert (line["received"], line["issued"], line["distributed"], line["households"]) == (50, 5, 2, 1)
    assert report["supplies"]["householdsReached"] == 1

    drills = gql.data(REPORT, {"areaId": gid("Area", world.com_a), "since": since.isoformat(), "until": until.isoformat(),
                               "drills": True}, user=world.admin_a)["afterActionReport"]
    assert drills["warnings"]["received"] == 1 and drills["shelters"] == [] and drills["supplies"]["items"] == []

    html = render_report_html(after_action_report(world.com_a, since, until))
    assert "预警接入" in html and "甲小学" in html and "矿泉水" in html and "<polyline" in html
    kinds = [e.kind for e in after_action_report(world.com_a, since, until).timeline]
    assert "warning" in kinds and "facility" in kinds
