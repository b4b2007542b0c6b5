"""Races on PostgreSQL with real concurrent transactions: commanders switching one area at
once, and one resident's answers arriving by app and SMS at the same instant."""

import threading

import pytest
from django.db import connection

from community.models import Area, Mode, ModeSwitch
from emergency.models import PlanRun, SafetyAnswer, SafetyStatus
from emergency.plans import save_plan_version
from emergency.safety import safety_counts, start_safety_check
from emergency.safety_answers import answer_safety_check
from emergency.switching import switch_mode
from emergency.tasks import run_pending_emergency_jobs

from .emergency_support import _emergency_isolation, resident  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(*calls):
    barrier = threading.Barrier(len(calls))
    errors = []

    def run(call):
        try:
            barrier.wait()
            call()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return errors


@pytest.mark.parametrize("round_", range(3))
def test_two_commanders_switching_one_area_at_once_end_consistent_with_both_recorded(world, round_):
    save_plan_version(world.com_a, Mode.EMERGENCY, name="预案", actions=[], by=world.admin_a)
    errors = at_once(lambda: switch_mode(Area.objects.get(pk=world.com_a.pk), Mode.EMERGENCY, by=world.admin_a, reason="甲"),
                     lambda: switch_mode(Area.objects.get(pk=world.com_a.pk), Mode.STANDBY, by=world.commander, reason="乙"))
    assert errors == []
    first, second = ModeSwitch.objects.filter(area=world.com_a).order_by("switched_at", "id")
    assert first.from_mode == Mode.NORMAL and second.from_mode == first.to_mode  # serialised on the row lock
    assert Area.objects.get(pk=world.com_a.pk).mode == second.to_mode
    assert PlanRun.objects.filter(area=world.com_a).count() == 2
    runs = PlanRun.objects.filter(area=world.com_a).order_by("created_at", "id")
    assert runs[0].status == "SUPERSEDED" or runs[0].status == "DONE"


def test_an_app_answer_and_an_sms_answer_at_the_same_instant_are_both_kept_and_counted_once(world):
    person = resident(world.grid_a1, "王", app=True)
    check = start_safety_check(world.com_a, by=world.admin_a)
    run_pending_emergency_jobs()
    row = SafetyStatus.objects.get(safety_check=check, resident=person)
    errors = at_once(
        lambda: answer_safety_check(SafetyStatus.objects.select_related("resident", "grid", "safety_check").get(pk=row.pk),
                                    "SAFE", by=person.user, channel="APP", client_key="k"),
        lambda: answer_safety_check(SafetyStatus.objects.select_related("resident", "grid", "safety_check").get(pk=row.pk),
                                    "NEED_HELP", by=None, channel="SMS", source_ref="sms:1"),
    )
    assert errors == []
    row.refresh_from_db()
    assert row.version == 2 and SafetyAnswer.objects.filter(status_row=row).count() == 2
    assert safety_counts(check).overall.accounted_for == 1
    # The moves are serialised by the row's version (not by the answers' ids): exactly one
    # answer moved the row from UNANSWERED, the other moved it from that answer's status, and
    # the row holds the second mover's answer.
    answers = list(SafetyAnswer.objects.filter(status_row=row))
    (first,) = [a for a in answers if a.previous_status == "UNANSWERED"]
    (second,) = [a for a in answers if a.pk != first.pk]
    assert second.previous_status == first.status and row.status == second.status


def test_the_same_app_answer_sent_twice_at_once_is_recorded_once(world):
    person = resident(world.grid_a1, "王", app=True)
    check = start_safety_check(world.com_a, by=world.admin_a)
    run_pending_emergency_jobs()
    row = SafetyStatus.objects.get(safety_check=check, resident=person)

    def send():
        fresh = SafetyStatus.objects.select_related("resident", "grid", "safety_check").get(pk=row.pk)
        answer_safety_check(fresh, "SAFE", by=person.user, channel="APP", client_key="same")

    assert at_once(send, send, send) == []
    assert SafetyAnswer.objects.filter(status_row=row).count() == 1
    row.refresh_from_db()
    assert row.version == 1
