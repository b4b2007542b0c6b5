"""What one safety-check answer costs the database (issue 19): an answer over HTTP is at most
six SQL statements, its transaction's BEGIN and COMMIT included — the token's user, the status
row with its check and this key's earlier answer, the conditional move of the row, the answer
row. When an SMS question for the person still waits for a carrier, dropping it (the message
and its status event) costs four more. A replay costs three and is answered the same. The tests are transactional, so the
mutation's transaction is a real one and no test savepoint is counted."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from emergency.models import SafetyAnswer, SafetyStatus
from emergency.safety import start_safety_check
from tests.operations import operation

from .emergency_support import _emergency_isolation, gid, resident, run_jobs  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
ANSWER = operation("emergency/AnswerSafetyCheck")


TRANSACTION = ("BEGIN", "BEGIN IMMEDIATE", "COMMIT")  # SQLite's backend logs them, PostgreSQL's does not


def _statements(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries]


def _listing(statements: list[str]) -> str:
    return "\n".join(sql[:160] for sql in statements)


def _answer_twice(gql, check, user) -> tuple[dict, list[str], dict, list[str]]:
    ContentType.objects.get_for_model(SafetyStatus)  # once per process, not per answer
    variables = {"safetyCheckId": gid("SafetyCheck", check), "status": "SAFE", "key": "answer-1"}
    with CaptureQueriesContext(connection) as first:
        answered = gql.data(ANSWER, variables, user=user)["answerSafetyCheck"]
    with CaptureQueriesContext(connection) as again:
        replayed = gql.data(ANSWER, variables, user=user)["answerSafetyCheck"]
    return answered, _statements(first), replayed, _statements(again)


def test_an_answer_costs_at_most_six_statements_and_its_replay_three(world, gql):
    me = resident(world.grid_a1, "张用App", app=True)  # asked by push only
    check = start_safety_check(world.com_a, by=world.admin_a, title="暴雨报平安")
    run_jobs()
    answered, first, replayed, again = _answer_twice(gql, check, me.user)

    assert answered["errors"] == [] and answered["status"]["status"] == "SAFE" and answered["status"]["channel"] == "APP"
    work = [sql for sql in first if sql not in TRANSACTION]
    assert len(work) <= 4 and len(first) <= 6, _listing(first)
    assert not [sql for sql in first if sql.startswith(("SAVEPOINT", "RELEASE"))]
    assert replayed == answered and len([sql for sql in again if sql not in TRANSACTION]) <= 3, _listing(again)
    row = SafetyStatus.objects.get(safety_check=check, resident=me)
    assert (row.status, row.version, row.first_answered_at is not None) == ("SAFE", 1, True)
    assert list(SafetyAnswer.objects.filter(status_row=row).values_list("status", "previous_status")) == [("SAFE", "UNANSWERED")]


def test_a_person_whose_sms_question_still_waits_has_it_dropped_at_four_statements_more(world, gql):
    from notifications.models import SmsMessage

    me = resident(world.grid_a1, "张用App", app=True, elderly_living_alone=True)  # vulnerable: push and SMS
    check = start_safety_check(world.com_a, by=world.admin_a, title="暴雨报平安")
    _fan_out_only()
    assert SmsMessage.objects.get(purpose="safety_check", phone=str(me.phone)).status == "queued"
    answered, first, replayed, again = _answer_twice(gql, check, me.user)
    work = [sql for sql in first if sql not in TRANSACTION]
    # the supersede moves the message and records its status event (notifications.outbox)
    assert len(work) <= 8 and sum("notifications_sms" in sql for sql in work) == 4, _listing(first)
    assert replayed == answered
    assert SmsMessage.objects.get(purpose="safety_check", phone=str(me.phone)).status == "superseded"


def _fan_out_only() -> None:
    """The fan-out to the end, the questions left queued (no drainer ran)."""
    from emergency.tasks import run_pending_emergency_jobs

    run_pending_emergency_jobs()


def test_a_key_replayed_with_another_answer_is_refused_and_changes_nothing(world, gql):
    me = resident(world.grid_a1, "张用App", app=True)
    check = start_safety_check(world.com_a, by=world.admin_a, title="暴雨报平安")
    run_jobs()
    variables = {"safetyCheckId": gid("SafetyCheck", check), "key": "answer-1"}
    gql.data(ANSWER, {**variables, "status": "SAFE"}, user=me.user)
    refused = gql.data(ANSWER, {**variables, "status": "NEED_HELP"}, user=me.user)["answerSafetyCheck"]
    assert [e["code"] for e in refused["errors"]] == ["IDEMPOTENCY_KEY_REUSED"] and refused["status"] is None
    assert SafetyStatus.objects.get(safety_check=check, resident=me).status == "SAFE"
    assert SafetyAnswer.objects.count() == 1


def test_a_second_answer_with_a_new_key_moves_the_row_again(world, gql):
    me = resident(world.grid_a1, "张用App", app=True)
    check = start_safety_check(world.com_a, by=world.admin_a, title="暴雨报平安")
    run_jobs()
    variables = {"safetyCheckId": gid("SafetyCheck", check)}
    first = gql.data(ANSWER, {**variables, "status": "SAFE", "key": "a"}, user=me.user)["answerSafetyCheck"]
    second = gql.data(ANSWER, {**variables, "status": "SAFE", "key": "b", "note": "仍在家中"}, user=me.user)["answerSafetyCheck"]
    assert second["status"]["note"] == "仍在家中" and first["status"]["answeredAt"] <= second["status"]["answeredAt"]
    row = SafetyStatus.objects.get(safety_check=check, resident=me)
    assert (row.version, row.first_answered_at.isoformat()) == (2, first["status"]["answeredAt"])
    assert [a.previous_status for a in SafetyAnswer.objects.filter(status_row=row)] == ["UNANSWERED", "SAFE"]


def test_a_row_moved_since_it_was_loaded_is_reloaded_not_overwritten_blindly(world):
    from emergency.safety_answers import answer_rows, answer_safety_check

    me = resident(world.grid_a1, "张用App", app=True)
    check = start_safety_check(world.com_a, by=world.admin_a, title="暴雨报平安")
    run_jobs()
    stale = answer_rows(by=me.user, client_key="k2").get(safety_check=check, resident=me)
    answer_safety_check(answer_rows().get(pk=stale.pk), "NEED_HELP", by=world.worker_a1, channel="STAFF")
    result = answer_safety_check(stale, "SAFE", by=me.user, channel="APP", client_key="k2")
    assert not result.replayed and result.status_row.version == 2
    assert [a.previous_status for a in SafetyAnswer.objects.filter(status_row=stale).order_by("pk")] == ["UNANSWERED", "NEED_HELP"]
