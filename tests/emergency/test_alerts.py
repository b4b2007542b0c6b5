"""Alerts: issued by staff with the right, exported as CAP 1.2 that validates against the
OASIS schema, updated and cancelled as CAP does, fanned out to residents (push to app users,
SMS to those without the app or vulnerable, vulnerable first), drills marked everywhere."""

import datetime as dt

import pytest
from django.utils import timezone
from lxml import etree

from emergency.alerts import cancel_alert, issue_alert, update_alert
from emergency.cap import NS, alert_to_cap, validate_cap
from emergency.models import Alert
from notifications.models import Notification, SmsMessage
from tests.operations import operation

from .emergency_support import (  # noqa: F401
    ALERT_PARAMS,
    _emergency_isolation,
    gid,
    resident,
    run_jobs,
)

pytestmark = pytest.mark.django_db
ISSUE = operation("emergency/IssueAlert")
UPDATE = operation("emergency/UpdateAlert")
CANCEL = operation("emergency/CancelAlert")
ALERTS = operation("emergency/AreaAlerts")
PREVIEW = operation("emergency/PreviewAlert")

DATA = {k: v for k, v in ALERT_PARAMS.items() if k != "expires_in_minutes"}
INPUT = {"categories": ["MET"], "event": "台风", "urgency": "IMMEDIATE", "severity": "SEVERE", "certainty": "LIKELY",
         "headline": "台风“梅花”即将登陆", "instruction": "请留在室内", "headlineEn": "Typhoon Muifa is coming",
         "instructionEn": "Stay indoors"}


def cap(alert) -> etree._Element:
    return etree.fromstring(alert_to_cap(alert))


def text(root, path: str) -> list[str]:
    return [e.text for e in root.iterfind(path, {"c": NS})]


def test_an_alert_exports_as_cap_that_validates_against_the_oasis_schema(world):
    alert = issue_alert(world.com_a, {**DATA, "headline_en": "Typhoon", "expires": timezone.now() + dt.timedelta(hours=6)},
                        by=world.admin_a)
    xml = alert_to_cap(alert)
    assert validate_cap(xml) == []
    root = etree.fromstring(xml)
    assert text(root, "c:status") == ["Actual"] and text(root, "c:msgType") == ["Alert"]
    assert text(root, "c:info/c:language") == ["zh-CN", "en-US"]
    assert text(root, "c:info/c:area/c:geocode/c:value") == [world.com_a.code] * 2


def test_a_drill_alert_is_an_exercise(world):
    alert = issue_alert(world.com_a, DATA, by=world.admin_a, is_drill=True)
    root = cap(alert)
    assert text(root, "c:status") == ["Exercise"] and validate_cap(alert_to_cap(alert)) == []


def test_the_validator_catches_a_broken_document(world):
    alert = issue_alert(world.com_a, DATA, by=world.admin_a)
    broken = alert_to_cap(alert).replace(b"<severity>Severe</severity>", b"<severity>Bad</severity>")
    assert validate_cap(broken) != []


def test_update_and_cancel_reference_every_earlier_message(world):
    first = issue_alert(world.com_a, DATA, by=world.admin_a)
    second = update_alert(first, {"severity": "Extreme", "headline": "台风升级"}, by=world.admin_a)
    third = cancel_alert(second, by=world.admin_a, note="台风已过境")
    for alert in (second, third):
        assert validate_cap(alert_to_cap(alert)) == []
    refs = text(cap(third), "c:references")[0].split(" ")
    assert [r.split(",")[1] for r in refs] == [first.identifier, second.identifier]
    assert text(cap(second), "c:msgType") == ["Update"] and text(cap(third), "c:msgType") == ["Cancel"]
    assert text(cap(third), "c:info/c:responseType") == ["AllClear"]
    first.refresh_from_db(), second.refresh_from_db()
    assert not first.is_active() and not second.is_active() and not third.is_active()


def test_a_cancellation_gives_no_old_instruction_in_any_language(world):
    first = issue_alert(world.com_a, {**DATA, "headline_en": "Typhoon", "instruction_en": "Close windows"}, by=world.admin_a)
    cancelled = cancel_alert(first, by=world.admin_a, note="台风已过境")
    assert first.is_active() is False  # the object handed back as `references` says so at once
    infos = {i.findtext(f"{{{NS}}}language"): i.findtext(f"{{{NS}}}instruction") for i in cap(cancelled).findall(f"{{{NS}}}info")}
    assert infos == {"zh-CN": "台风已过境", "en-US": "This alert has been cancelled."}
    plain = cancel_alert(issue_alert(world.com_a, DATA, by=world.admin_a), by=world.admin_a)
    assert plain.instruction == "预警已解除。"


def test_a_replaced_alert_cannot_be_updated_again(world):
    first = issue_alert(world.com_a, DATA, by=world.admin_a)
    update_alert(first, {"headline": "更新"}, by=world.admin_a)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        cancel_alert(first, by=world.admin_a)
    assert caught.value.error_dict["alert_id"][0].code == "alert_not_active"


def test_residents_get_a_push_in_the_app_and_an_sms_without_it_vulnerable_first(world):
    app_user = resident(world.grid_a1, "用App", app=True)
    no_app = resident(world.grid_a1, "无App")
    vulnerable_app = resident(world.grid_a2, "独居老人", app=True, elderly_living_alone=True)
    resident(world.grid_a1, "无电话", phone=False)
    outside = resident(world.grid_b1, "乙社区", app=True)
    alert = issue_alert(world.com_a, DATA, by=world.admin_a)
    run_jobs()
    pushed = set(Notification.objects.filter(kind="alert").values_list("user_id", flat=True))
    assert pushed == {app_user.user_id, vulnerable_app.user_id}
    texted = list(SmsMessage.objects.filter(purpose="alert").order_by("id").values_list("phone", flat=True))
    assert texted == [str(vulnerable_app.phone), str(no_app.phone)]  # the vulnerable one first
    alert.refresh_from_db()
    assert alert.fanout_status == "DONE"
    assert alert.fanout_counts == {"residents": 4, "pushed": 2, "sms": 2, "unreachable": 1}
    assert outside.user_id not in pushed


def test_a_drill_alert_sms_and_push_carry_the_drill_marker(world):
    resident(world.grid_a1, "无App", consent_to_contact=True)  # a drill is not an emergency: texted with consent only
    resident(world.grid_a1, "Bob", app=True, language="en")
    issue_alert(world.com_a, {**DATA, "headline_en": "Typhoon"}, by=world.admin_a, is_drill=True)
    run_jobs()
    sms = SmsMessage.objects.get(purpose="alert")
    assert sms.body.startswith("【演练】") and sms.is_drill
    push = Notification.objects.get(kind="alert")
    assert push.is_drill and push.title.startswith("[DRILL]") and "Typhoon" in push.title


def test_a_rerun_of_the_fan_out_sends_nothing_twice(world):
    resident(world.grid_a1, "无App")
    alert = issue_alert(world.com_a, DATA, by=world.admin_a)
    run_jobs()
    Alert.objects.filter(pk=alert.pk).update(fanout_status="RUNNING", fanout_phase="", fanout_cursor=0)
    run_jobs()
    assert SmsMessage.objects.filter(purpose="alert").count() == 1


def test_staff_issue_update_and_cancel_over_the_api(world, gql):
    resident(world.grid_a1, "居民", app=True)
    body = gql.data(ISSUE, {"areaId": gid("Area", world.com_a), "input": INPUT, "key": "k1"}, user=world.admin_a)["issueAlert"]
    assert body["errors"] == [] and body["alert"]["capStatus"] == "Actual" and body["alert"]["msgType"] == "ALERT"
    alert_id = body["alert"]["id"]
    updated = gql.data(UPDATE, {"alertId": alert_id, "changes": {"severity": "EXTREME"}}, user=world.admin_a)["updateAlert"]
    assert updated["alert"]["msgType"] == "UPDATE" and updated["alert"]["references"]["id"] == alert_id
    cancelled = gql.data(CANCEL, {"alertId": updated["alert"]["id"], "note": "解除"}, user=world.admin_a)["cancelAlert"]
    assert cancelled["alert"]["msgType"] == "CANCEL" and cancelled["alert"]["responseTypes"] == ["ALL_CLEAR"]
    listed = gql.data(ALERTS, {"areaId": gid("Area", world.grid_a1), "activeOnly": False}, user=world.worker_a1)["alerts"]
    assert listed["totalCount"] == 3
    assert all(validate_cap(e["node"]["capXml"].encode()) == [] for e in listed["edges"])
    active = gql.data(ALERTS, {"areaId": gid("Area", world.grid_a1), "activeOnly": True}, user=world.worker_a1)["alerts"]
    assert active["totalCount"] == 0


@pytest.mark.parametrize("changes, field, code", [
    ({"headline": ""}, "headline", "REQUIRED"),
    ({"event": "x" * 101}, "event", "TOO_LONG"),
    ({"categories": []}, "categories", "REQUIRED"),
    ({"categories": ["MET", "MET"] * 7}, "categories", "INVALID"),
    ({"expires": "2001-01-01T00:00:00+08:00"}, "expires", "INVALID"),
])
def test_bad_alert_input_is_a_typed_error_and_nothing_is_issued(world, gql, changes, field, code):
    body = gql.data(ISSUE, {"areaId": gid("Area", world.com_a), "input": {**INPUT, **changes}}, user=world.admin_a)["issueAlert"]
    assert (body["errors"][0]["field"], body["errors"][0]["code"]) == (field, code)
    assert not Alert.objects.exists()


def test_a_preview_is_the_cap_document_that_would_be_issued_and_nothing_is_sent(world, gql):
    resident(world.grid_a1, "居民", app=True)
    body = gql.data(PREVIEW, {"areaId": gid("Area", world.com_a), "input": INPUT, "isDrill": True}, user=world.admin_a)["previewAlert"]
    assert body["errors"] == [] and validate_cap(body["capXml"].encode()) == []
    root = etree.fromstring(body["capXml"].encode())
    assert text(root, "c:status") == ["Exercise"] and text(root, "c:info/c:headline")[0] == INPUT["headline"]
    assert not Alert.objects.exists() and not Notification.objects.exists() and not SmsMessage.objects.exists()


def test_a_preview_answers_the_errors_issuing_would(world, gql):
    body = gql.data(PREVIEW, {"areaId": gid("Area", world.com_a), "input": {**INPUT, "headline": ""}}, user=world.admin_a)["previewAlert"]
    assert (body["errors"][0]["field"], body["errors"][0]["code"]) == ("headline", "REQUIRED") and body["capXml"] is None


@pytest.mark.parametrize("who", ["worker_a1", "admin_b", "resident"])
def test_only_entitled_staff_preview_alerts(world, gql, who):
    status, body = gql(PREVIEW, {"areaId": gid("Area", world.com_a), "input": INPUT}, user=getattr(world, who))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and not Alert.objects.exists()


@pytest.mark.parametrize("who", ["worker_a1", "admin_b", "resident"])
def test_only_entitled_staff_issue_alerts(world, gql, who):
    status, body = gql(ISSUE, {"areaId": gid("Area", world.com_a), "input": INPUT}, user=getattr(world, who))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and not Alert.objects.exists()


def test_a_resident_sees_alerts_of_their_area_only(world, gql):
    me = resident(world.grid_a1, "我", app=True)
    issue_alert(world.com_a, DATA, by=world.admin_a)
    issue_alert(world.com_b, DATA, by=world.admin_b)
    mine = gql.data(ALERTS, {"areaId": gid("Area", world.grid_a1)}, user=me.user)["alerts"]
    assert mine["totalCount"] == 1
    status, body = gql(ALERTS, {"areaId": gid("Area", world.grid_b1)}, user=me.user)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_an_alert_push_carries_api_ids_and_enum_values(world):
    person = resident(world.grid_a1, "张", app=True)
    issued = issue_alert(world.com_a, DATA, by=world.admin_a)
    run_jobs()
    push = Notification.objects.get(kind="alert", user=person.user)
    assert push.data == {"alertId": gid("Alert", issued), "msgType": "ALERT", "severity": "SEVERE",
                         "areaId": gid("Area", world.com_a)}


def test_every_bad_alert_field_is_reported_at_once():
    from django.core.exceptions import ValidationError

    from emergency.alerts import check_alert_data

    with pytest.raises(ValidationError) as refused:
        check_alert_data({**DATA, "urgency": "Whenever", "severity": "Apocalyptic", "headline": ""})
    assert sorted(refused.value.error_dict) == ["headline", "severity", "urgency"]


# --- the end of an alert says it is over (issue 16, finding 5) -----------------------------------------
WARNING = {**DATA, "description": "预计未来3小时仍有强降雨", "headline_en": "Typhoon Muifa is coming",
           "description_en": "Heavy rain for three more hours", "instruction_en": "Stay indoors"}


def infos(alert) -> dict[str, dict[str, str]]:
    return {i.findtext(f"{{{NS}}}language"): {k: i.findtext(f"{{{NS}}}{k}") for k in ("headline", "description", "instruction")}
            for i in cap(alert).findall(f"{{{NS}}}info")}


def test_a_cancel_is_an_all_clear_in_every_language_and_everywhere_it_is_shown(world, client):
    app_user = resident(world.grid_a1, "用App", app=True)
    english = resident(world.grid_a1, "Tom", app=True, language="en")
    texted = resident(world.grid_a1, "无App")
    warning = issue_alert(world.com_a, WARNING, by=world.admin_a)
    run_jobs()
    cancel = cancel_alert(warning, by=world.admin_a)
    run_jobs()
    texts = infos(cancel)
    assert texts["zh-CN"]["headline"] == "台风预警解除" and "已解除" in texts["zh-CN"]["description"]
    assert texts["en-US"]["headline"] == "All clear: alert lifted" and "has been lifted" in texts["en-US"]["description"]
    everything = str(texts)
    assert "预计未来3小时" not in everything and "Heavy rain" not in everything and "Typhoon Muifa" not in everything
    assert validate_cap(alert_to_cap(cancel)) == []
    feed = client.get("/cap/feed.atom").content.decode()
    assert "<title>台风预警解除</title>" in feed and "预计未来3小时" not in feed.split("台风预警解除", 1)[1].split("</entry>")[0]
    push = Notification.objects.get(kind="alert", user=app_user.user, related_id=str(cancel.pk))
    assert push.title == "【解除】台风预警解除" and "预计未来3小时" not in push.body
    assert Notification.objects.get(kind="alert", user=english.user, related_id=str(cancel.pk)).title == \
        "CANCELLED: All clear: alert lifted"
    sms = SmsMessage.objects.filter(purpose="alert", phone=str(texted.phone)).order_by("id").last()
    assert "台风预警解除" in sms.body and "预计未来3小时" not in sms.body


def test_the_commander_may_write_the_all_clear(world, gql):
    warning = issue_alert(world.com_a, DATA, by=world.admin_a)
    body = gql.data(CANCEL, {"alertId": gid("Alert", warning), "headline": "台风已过境，预警解除", "description": "感谢大家配合。",
                             "note": "请注意道路积水", "headlineEn": "The typhoon has passed"}, user=world.admin_a)["cancelAlert"]
    alert = body["alert"]
    assert (alert["headline"], alert["description"], alert["instruction"]) == ("台风已过境，预警解除", "感谢大家配合。", "请注意道路积水")
    assert alert["headlineEn"] == "The typhoon has passed" and alert["descriptionEn"].startswith("The weather alert issued")
    assert alert["instructionEn"] == "This alert has been cancelled."  # the alert had no English: the commander added it


def test_an_update_replaces_the_text_of_every_language(world, gql):
    warning = issue_alert(world.com_a, WARNING, by=world.admin_a)
    chinese_only = update_alert(warning, {"headline": "台风升级为强台风"}, by=world.admin_a)
    assert (chinese_only.headline_en, chinese_only.description_en, chinese_only.instruction_en) == ("", "", "")
    assert list(infos(chinese_only)) == ["zh-CN"]  # no English info left saying the old thing
    both = gql.data(UPDATE, {"alertId": gid("Alert", chinese_only), "changes": {
        "headline": "台风减弱", "headlineEn": "The typhoon is weakening"}}, user=world.admin_a)["updateAlert"]["alert"]
    assert (both["headline"], both["headlineEn"]) == ("台风减弱", "The typhoon is weakening")
    assert infos(Alert.objects.get(pk=decode(both["id"])))["en-US"]["headline"] == "The typhoon is weakening"


def decode(global_id: str) -> int:
    from graphql_relay import from_global_id

    return int(from_global_id(global_id)[1])
