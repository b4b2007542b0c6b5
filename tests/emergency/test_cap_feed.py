"""The public CAP feed: an Atom index of real alerts whose entries link to CAP 1.2 documents
that validate against the OASIS schema; drills stay inside; narrowing by area; conditional
requests; the switch that turns it off; a rate limit per address."""

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.http import http_date
from lxml import etree

from emergency.alerts import cancel_alert, issue_alert
from emergency.cap import NS, validate_cap
from emergency.models import Alert

from .emergency_support import ALERT_PARAMS, _emergency_isolation  # noqa: F401

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def alert(area, by, headline, **extra):
    return issue_alert(area, {**ALERT_PARAMS, "headline": headline}, by=by, **extra)


def entries(response) -> list[etree._Element]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/atom+xml")
    return etree.fromstring(response.content).findall(f"{ATOM}entry")


def titles(response) -> list[str]:
    return [e.findtext(f"{ATOM}title") for e in entries(response)]


def test_the_feed_lists_real_alerts_newest_first_and_links_their_cap_documents(client, world):
    first = alert(world.com_a, world.admin_a, "甲社区暴雨预警")
    Alert.objects.filter(pk=first.pk).update(sent_at=timezone.now() - dt.timedelta(minutes=5))
    alert(world.com_b, world.admin_b, "乙社区大风预警")
    alert(world.com_a, world.admin_a, "甲社区演练", is_drill=True)
    response = client.get("/cap/feed.atom")
    assert titles(response) == ["乙社区大风预警", "甲社区暴雨预警"]  # the drill stays inside
    assert "public" in response["Cache-Control"] and response["Last-Modified"]
    entry = entries(response)[1]
    assert entry.findtext(f"{ATOM}id") == f"urn:linli:cap:{first.identifier}"
    (cap_link,) = [link for link in entry.findall(f"{ATOM}link") if link.get("type") == "application/cap+xml"]
    document = client.get(cap_link.get("href").removeprefix("http://testserver"))
    assert document.status_code == 200 and document["Content-Type"].startswith("application/cap+xml")
    assert validate_cap(document.content) == []
    root = etree.fromstring(document.content)
    assert root.findtext(f"{{{NS}}}identifier") == first.identifier
    assert root.findtext(f"{{{NS}}}status") == "Actual"


def test_a_cancellation_is_an_entry_of_its_own_referencing_the_alert(client, world):
    original = alert(world.com_a, world.admin_a, "甲社区暴雨预警")
    cancel = cancel_alert(original, by=world.admin_a)
    assert len(entries(client.get("/cap/feed.atom"))) == 2
    document = client.get(f"/cap/alerts/{cancel.identifier}.xml")
    root = etree.fromstring(document.content)
    assert root.findtext(f"{{{NS}}}msgType") == "Cancel"
    assert original.identifier in root.findtext(f"{{{NS}}}references")
    assert validate_cap(document.content) == []


def test_area_narrows_the_feed_to_alerts_covering_it(client, world):
    alert(world.district, world.commander, "全区台风预警")
    alert(world.com_a, world.admin_a, "甲社区暴雨预警")
    alert(world.grid_a1, world.admin_a, "甲一网格积水")
    alert(world.com_b, world.admin_b, "乙社区大风预警")
    assert set(titles(client.get(f"/cap/feed.atom?area={world.com_a.code}"))) == {"全区台风预警", "甲社区暴雨预警", "甲一网格积水"}
    assert client.get("/cap/feed.atom?area=no-such-area").status_code == 404


def test_a_drill_document_is_not_published(client, world, settings):
    drill = alert(world.com_a, world.admin_a, "甲社区演练", is_drill=True)
    assert client.get(f"/cap/alerts/{drill.identifier}.xml").status_code == 404
    settings.CAP_FEED_INCLUDE_DRILLS = True
    document = client.get(f"/cap/alerts/{drill.identifier}.xml")
    assert etree.fromstring(document.content).findtext(f"{{{NS}}}status") == "Exercise"


def test_old_alerts_age_out_of_the_feed_but_their_documents_stay(client, world, settings):
    old = alert(world.com_a, world.admin_a, "上月预警")
    Alert.objects.filter(pk=old.pk).update(sent_at=timezone.now() - dt.timedelta(days=settings.CAP_FEED_DAYS + 1))
    assert titles(client.get("/cap/feed.atom")) == []
    assert client.get(f"/cap/alerts/{old.identifier}.xml").status_code == 200


def test_conditional_requests_answer_not_modified(client, world):
    a = alert(world.com_a, world.admin_a, "甲社区暴雨预警")
    later = http_date((timezone.now() + dt.timedelta(minutes=1)).timestamp())
    assert client.get("/cap/feed.atom", HTTP_IF_MODIFIED_SINCE=later).status_code == 304
    assert client.get(f"/cap/alerts/{a.identifier}.xml", HTTP_IF_MODIFIED_SINCE=later).status_code == 304
    earlier = http_date((timezone.now() - dt.timedelta(hours=1)).timestamp())
    assert client.get("/cap/feed.atom", HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200


def test_unknown_documents_and_writes_are_refused(client, world):
    assert client.get("/cap/alerts/linli-nope.xml").status_code == 404
    assert client.post("/cap/feed.atom").status_code == 405
    assert client.get("/cap/alerts/..%2Fsecret.xml").status_code == 404


def test_a_deployment_can_turn_the_feed_off(client, world, settings):
    a = alert(world.com_a, world.admin_a, "甲社区暴雨预警")
    settings.CAP_FEED_ENABLED = False
    assert client.get("/cap/feed.atom").status_code == 404
    assert client.get(f"/cap/alerts/{a.identifier}.xml").status_code == 404


def test_each_address_is_rate_limited(client, world, settings):
    settings.CAP_FEED_PER_ADDRESS_PER_MINUTE = 3
    assert [client.get("/cap/feed.atom").status_code for _ in range(3)] == [200] * 3
    later = http_date((timezone.now() + dt.timedelta(minutes=1)).timestamp())
    refused = client.get("/cap/feed.atom", HTTP_IF_MODIFIED_SINCE=later)  # conditional requests count too
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert refused["Cache-Control"] == "no-store"  # a proxy must not serve the refusal to others
    assert client.get("/cap/feed.atom", REMOTE_ADDR="10.0.0.9").status_code == 200  # others unaffected


def test_a_control_character_pasted_into_an_alert_never_breaks_the_feed(client, world):
    issued = alert(world.com_a, world.admin_a, "暴雨\x0b预警\x00")
    assert issued.headline == "暴雨预警"  # invisible characters are dropped on the way in
    Alert.objects.filter(pk=issued.pk).update(headline="旧数据\x0b预警")  # a row written before that rule
    assert titles(client.get("/cap/feed.atom")) == ["旧数据预警"]
    document = client.get(f"/cap/alerts/{issued.identifier}.xml")
    assert document.status_code == 200 and validate_cap(document.content) == []
