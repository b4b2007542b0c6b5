"""Consent: the texts in force, a resident's own consent and staff-recorded ones (with version,
time and channel), the legal basis staff give when recording sensitive information without
consent, and consent_to_contact governing non-emergency messages."""

import pytest
from graphql_relay import to_global_id

from community.models import ConsentRecord, Resident
from emergency.alerts import issue_alert
from emergency.models import Alert
from notifications.models import SmsMessage
from tests.emergency.emergency_support import (  # noqa: F401
    ALERT_PARAMS,
    _emergency_isolation,
    resident,
    run_jobs,
)
from tests.operations import operation

pytestmark = pytest.mark.django_db
VERSION = "2026-12"


def gid(type_name, obj):
    return to_global_id(type_name, obj.pk)


def test_the_consent_texts_are_public_with_their_version(gql):
    zh = gql.data(operation("privacy/ConsentText"), {"kind": "SENSITIVE_INFORMATION"})["consentText"]
    assert zh["version"] == VERSION and "敏感个人信息" in zh["text"]
    en = gql.data(operation("privacy/ConsentText"), {"kind": "CONTACT", "language": "EN"})["consentText"]
    assert en["kind"] == "CONTACT" and "contact me" in en["text"]


def test_a_resident_gives_and_withdraws_consent_with_version_time_and_channel(world, gql, people):
    data = gql.data(operation("privacy/RecordMyConsent"), {"kind": "SENSITIVE_INFORMATION", "granted": True,
                                                           "textVersion": VERSION}, user=world.resident)["recordMyConsent"]
    assert data["consent"]["channel"] == "APP" and data["consent"]["textVersion"] == VERSION
    assert data["resident"]["sensitiveInformationBasis"] == "CONSENT"
    contact = gql.data(operation("privacy/RecordMyConsent"), {"kind": "CONTACT", "granted": False, "textVersion": VERSION},
                       user=world.resident)["recordMyConsent"]
    assert contact["resident"]["consentToContact"] is False
    rows = list(ConsentRecord.objects.filter(resident=people["me"]).order_by("at", "id").values_list("kind", "granted", "channel"))
    assert rows == [("sensitive_information", True, "app"), ("contact", False, "app")]


def test_an_old_text_version_is_refused_and_nothing_changes(world, gql, people):
    body = gql.data(operation("privacy/RecordMyConsent"), {"kind": "CONTACT", "granted": True, "textVersion": "2020-01"},
                    user=world.resident)["recordMyConsent"]
    assert [e["code"] for e in body["errors"]] == ["CONSENT_TEXT_OUTDATED"] and body["consent"] is None
    assert not ConsentRecord.objects.exists() and not Resident.objects.get(pk=people["me"].pk).consent_to_contact


def test_staff_recording_sensitive_information_without_consent_must_give_the_legal_basis(world, gql):
    variables = {"input": {"displayName": "孙大爷", "reducedMobility": True, "careNotes": "卧床"}, "gridId": gid("Area", world.grid_a1)}
    refused = gql.data(operation("community/RegisterResident"), variables, user=world.worker_a1)["registerResident"]
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("legalBasis", "LEGAL_BASIS_REQUIRED")]
    assert not Resident.objects.filter(display_name="孙大爷").exists()
    done = gql.data(operation("community/RegisterResident"), {**variables, "legalBasis": "STATUTORY_DUTY"},
                    user=world.worker_a1)["registerResident"]
    assert done["errors"] == [] and done["resident"]["sensitiveInformationBasis"] == "STATUTORY_DUTY"
    record = ConsentRecord.objects.get()
    assert (record.kind, record.granted, record.channel, record.legal_basis, record.recorded_by) == (
        "sensitive_information", False, "staff", "statutory_duty", world.worker_a1)
    # Nothing sensitive: no basis needed. A basis on record: later edits need none either.
    plain = gql.data(operation("community/RegisterResident"), {"input": {"displayName": "钱阿姨"}, "gridId": gid("Area", world.grid_a1)},
                     user=world.worker_a1)["registerResident"]
    assert plain["errors"] == [] and plain["resident"]["sensitiveInformationBasis"] is None
    edit = gql.data(operation("community/UpdateResident"), {"id": done["resident"]["id"], "input": {"careNotes": "需要两人搬运"}},
                    user=world.worker_a1)["updateResident"]
    assert edit["errors"] == []
    refused_edit = gql.data(operation("community/UpdateResident"), {"id": plain["resident"]["id"], "input": {"disabled": True}},
                            user=world.worker_a1)["updateResident"]
    assert [e["code"] for e in refused_edit["errors"]] == ["LEGAL_BASIS_REQUIRED"]
    assert not Resident.objects.get(display_name="钱阿姨").disabled


def test_a_consent_on_record_needs_no_basis(world, gql, people):
    gql.data(operation("privacy/RecordResidentConsent"), {"residentId": gid("Resident", people["spouse"]), "kind": "SENSITIVE_INFORMATION",
                                                          "granted": True, "textVersion": VERSION, "channel": "PAPER"}, user=world.worker_a1)
    edit = gql.data(operation("community/UpdateResident"), {"id": gid("Resident", people["spouse"]), "input": {"disabled": True}},
                    user=world.worker_a1)["updateResident"]
    assert edit["errors"] == [] and Resident.objects.get(pk=people["spouse"].pk).disabled


def test_staff_record_consent_given_on_paper_in_their_area_only(world, gql, people):
    variables = {"residentId": gid("Resident", people["spouse"]), "kind": "CONTACT", "granted": True, "textVersion": VERSION,
                 "channel": "PAPER"}
    data = gql.data(operation("privacy/RecordResidentConsent"), variables, user=world.worker_a1)["recordResidentConsent"]
    assert data["resident"]["consentToContact"] is True and data["consent"]["recordedByName"]
    assert data["resident"]["consents"][0]["channel"] == "PAPER"
    status, body = gql(operation("privacy/RecordResidentConsent"), variables, user=world.worker_b1)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    app = gql.data(operation("privacy/RecordResidentConsent"), {**variables, "channel": "APP"}, user=world.worker_a1)
    assert [e["code"] for e in app["recordResidentConsent"]["errors"]] == ["INVALID"]
    assert ConsentRecord.objects.count() == 1


@pytest.mark.parametrize("severity, drill, reaches_both", [("Severe", False, True), ("Moderate", False, False),
                                                           ("Severe", True, False)])
def test_consent_to_contact_governs_non_emergency_messages(world, severity, drill, reaches_both):
    willing = resident(world.grid_a1, "同意联系", consent_to_contact=True)
    unwilling = resident(world.grid_a1, "未同意")
    issue_alert(world.com_a, {**ALERT_PARAMS, "severity": severity}, by=world.admin_a, is_drill=drill)
    run_jobs()
    texted = set(SmsMessage.objects.filter(purpose="alert").values_list("phone", flat=True))
    assert texted == ({str(willing.phone), str(unwilling.phone)} if reaches_both else {str(willing.phone)})
    alert = Alert.objects.get()
    assert alert.fanout_counts.get("not_consented", 0) == (0 if reaches_both else 1)  # the delivery figures say so


def test_ticking_consent_to_contact_in_the_app_profile_is_kept_in_the_history(world, gql):
    location = {"latitude": world.grid_a1.center_lat, "longitude": world.grid_a1.center_lng}
    gql.data(operation("community/RegisterMyResidentProfile"),
             {"input": {"displayName": "王秀英", "consentToContact": True}, "location": location}, user=world.resident)
    gql.data(operation("community/UpdateMyResidentProfile"), {"input": {"consentToContact": False}}, user=world.resident)
    rows = list(ConsentRecord.objects.order_by("at", "id").values_list("kind", "granted", "channel", "text_version", "recorded_by"))
    assert rows == [("contact", True, "app", VERSION, world.resident.pk), ("contact", False, "app", VERSION, world.resident.pk)]
