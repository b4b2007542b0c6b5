"""The after-action report as a downloadable document: the GraphQL `downloadUrl` is a signed,
short-lived link made for one person; opening it re-checks that person's right to the area."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.utils import timezone

from community.models import RoleAssignment
from emergency.alerts import issue_alert
from emergency.review_download import SALT, report_token
from tests.operations import operation

from .emergency_support import ALERT_PARAMS, _emergency_isolation, gid  # noqa: F401

pytestmark = pytest.mark.django_db
REPORT = operation("emergency/AfterActionReport")


def period():
    now = timezone.now()
    return now - dt.timedelta(hours=1), now + dt.timedelta(minutes=5)


@pytest.fixture
def alert(world):
    return issue_alert(world.com_a, {**ALERT_PARAMS, "headline": "甲社区暴雨预警"}, by=world.admin_a)


def link_for(gql, world, user, drills=False) -> str:
    since, until = period()
    report = gql.data(REPORT, {"areaId": gid("Area", world.com_a), "since": since.isoformat(), "until": until.isoformat(),
                               "drills": drills}, user=user)["afterActionReport"]
    return report["downloadUrl"]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_the_link_downloads_the_report_as_an_html_file(gql, client, world, alert):
    url = link_for(gql, world, world.admin_a)
    assert url.startswith("http://testserver/reports/after-action/?t=")
    response = client.get(path_of(url))  # no Authorization header: the link is the credential
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="after-action-report-area')
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    html = response.content.decode()
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "甲社区暴雨预警" in html and "<script" not in html


def test_a_drill_link_gives_the_drill_report(gql, client, world, alert):
    response = client.get(path_of(link_for(gql, world, world.admin_a, drills=True)))
    assert response.status_code == 200
    assert 'filename="after-action-drill-area' in response["Content-Disposition"]
    assert "甲社区暴雨预警" not in response.content.decode()  # real data stays out of the drill report


def test_the_public_base_url_names_the_host_behind_a_proxy(gql, world, settings, alert):
    settings.PUBLIC_BASE_URL = "https://linli.example.cn"
    assert link_for(gql, world, world.admin_a).startswith("https://linli.example.cn/reports/after-action/?t=")


def test_an_expired_link_is_gone(gql, client, world, settings, alert):
    url = link_for(gql, world, world.admin_a)
    settings.AFTER_ACTION_LINK_MAX_AGE = -1
    response = client.get(path_of(url))
    assert response.status_code == 410 and "过期" in response.content.decode()


@pytest.mark.parametrize("token", ["", "garbage", "a:b:c"])
def test_a_missing_or_forged_token_is_refused(client, world, token):
    response = client.get(f"/reports/after-action/?t={token}")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/plain")


def test_a_tampered_token_is_refused(gql, client, world, alert):
    url = link_for(gql, world, world.admin_a)
    token = parse_qs(urlsplit(url).query)["t"][0]
    assert client.get(f"/reports/after-action/?t={token}x").status_code == 403  # signature broken
    payload = signing.loads(token, salt=SALT)
    payload["a"] = world.com_b.pk  # someone else's community, signed with another key
    forged = signing.dumps(payload, salt=SALT, key="not-the-server-secret", compress=True)
    assert client.get(f"/reports/after-action/?t={forged}").status_code == 403


def test_a_link_made_for_an_area_the_person_may_not_see_is_refused(client, world):
    # Made by the server's own signer (as if a bug let it through): the view still checks.
    since, until = period()
    token = report_token(world.admin_a, world.com_b, since, until, False)
    response = client.get(f"/reports/after-action/?t={token}")
    assert response.status_code == 403


def test_a_role_withdrawn_after_the_link_was_made_closes_it(gql, client, world, alert):
    url = link_for(gql, world, world.admin_a)
    RoleAssignment.objects.filter(user=world.admin_a).delete()
    assert client.get(path_of(url)).status_code == 403


def test_a_deactivated_account_closes_its_links(gql, client, world, alert):
    url = link_for(gql, world, world.admin_a)
    world.admin_a.is_active = False
    world.admin_a.save(update_fields=["is_active"])
    assert client.get(path_of(url)).status_code == 403


def test_the_link_is_read_only(gql, client, world, alert):
    url = link_for(gql, world, world.admin_a)
    assert client.post(path_of(url)).status_code == 405
    assert client.head(path_of(url)).status_code == 200


def test_downloads_are_rate_limited_per_person(gql, client, world, settings, alert):
    settings.AFTER_ACTION_DOWNLOADS_PER_MINUTE = 2
    url = link_for(gql, world, world.admin_a)
    assert [client.get(path_of(url)).status_code for _ in range(2)] == [200, 200]
    refused = client.get(path_of(url))
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    # Someone else's downloads are not slowed by it.
    assert client.get(path_of(link_for(gql, world, world.commander))).status_code == 200


def test_no_link_for_someone_refused_the_report(gql, world, alert):
    since, until = period()
    status, body = gql(REPORT, {"areaId": gid("Area", world.com_a), "since": since.isoformat(),
                                "until": until.isoformat()}, user=world.admin_b)
    assert body["data"]["afterActionReport"] is None and body["errors"]
