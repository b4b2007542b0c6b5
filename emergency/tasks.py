"""Background work of the emergency app: plan runs, alert and safety-check fan-outs, the
sweeps that re-drive them, and welfare checks for the silent.

Task names keep the `community.tasks.` prefix they had before the emergency app existed, so
messages already in a broker during an upgrade still find their task.
"""

from __future__ import annotations

from celery import Task, shared_task

from core.enqueue import enqueue_now

from . import fanout
from .alert_escalation import sweep_alert_escalation
from .alerts import alert_chunk
from .escalation import sweep_escalation
from .fanout import (
    ADVANCE_PLAN_RUN,
    FAN_OUT_ALERT,
    FAN_OUT_SAFETY_CHECK,
    WIND_DOWN,
    Chunk,
    drive,
    due,
)
from .models import Alert, PlanRun, SafetyCheck, WindDown
from .plans import plan_run_chunk
from .safety import REQUEST_WELFARE_CHECKS, safety_check_chunk
from .safety_answers import request_welfare_checks
from .warnings.feeds import poll_due_feeds
from .warnings.proposals import expire_proposals
from .warnings.signing import forget_old_nonces
from .winddown import wind_down_chunk

JOBS: tuple[tuple[str, type[fanout.Job], Chunk], ...] = (
    (ADVANCE_PLAN_RUN, PlanRun, plan_run_chunk),
    (FAN_OUT_ALERT, Alert, alert_chunk),
    (FAN_OUT_SAFETY_CHECK, SafetyCheck, safety_check_chunk),
    (WIND_DOWN, WindDown, wind_down_chunk),
)


def _drive_and_continue(task: Task, model: type[fanout.Job], pk: int, chunk: Chunk) -> str:
    outcome = drive(model, pk, chunk)
    if outcome == "more":
        enqueue_now(task, pk)
    return outcome


@shared_task(name=FAN_OUT_ALERT, acks_late=True, reject_on_worker_lost=True, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def fan_out_alert(alert_id: int) -> str:
    return _drive_and_continue(fan_out_alert, Alert, alert_id, alert_chunk)


@shared_task(name=FAN_OUT_SAFETY_CHECK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def fan_out_safety_check(check_id: int) -> str:
    return _drive_and_continue(fan_out_safety_check, SafetyCheck, check_id, safety_check_chunk)


@shared_task(name=ADVANCE_PLAN_RUN, acks_late=True, reject_on_worker_lost=True, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def advance_plan_run(run_id: int) -> str:
    return _drive_and_continue(advance_plan_run, PlanRun, run_id, plan_run_chunk)


@shared_task(name=WIND_DOWN, acks_late=True, reject_on_worker_lost=True, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def wind_down(wind_down_id: int) -> str:
    return _drive_and_continue(wind_down, WindDown, wind_down_id, wind_down_chunk)


@shared_task(name="community.tasks.sweep_emergency", ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def sweep_emergency() -> dict[str, int]:
    """Periodic: re-drive plan runs, alert and safety-check fan-outs and wind-downs nobody is working on
    (their message was lost, or their worker died and its lease ran out)."""
    found = {}
    for name, model, _ in JOBS:
        ids = due(model)
        for pk in ids:
            enqueue_now(name, pk)
        found[model.__name__] = len(ids)
    return found


@shared_task(name=REQUEST_WELFARE_CHECKS, acks_late=True, reject_on_worker_lost=True, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def request_welfare_checks_now(check_id: int) -> int:
    """Welfare visits due in one check now (a vulnerable resident nobody can reach)."""
    return request_welfare_checks(check_id=check_id)


@shared_task(name="community.tasks.sweep_welfare_checks", ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def sweep_welfare_checks() -> int:
    """Periodic: vulnerable residents silent welfare_after_minutes after their question
    reached them get a welfare-check task at their address (idempotent per resident and
    check); so do those nobody can reach, if the immediate request was lost."""
    return request_welfare_checks()


@shared_task(name="emergency.tasks.sweep_escalation", ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def sweep_escalation_task() -> dict[str, int]:
    """Periodic (life-safety queue): the escalation ladder's rungs that are due — SMS for
    unacknowledged pushes, calls for the silent vulnerable (emergency/escalation.py), and the
    SMS for alert pushes nobody opened (emergency/alert_escalation.py)."""
    return {**sweep_escalation(), "alert_sms": sweep_alert_escalation()}


@shared_task(name="emergency.tasks.poll_warning_feeds", ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def poll_warning_feeds() -> dict[str, int]:
    """Periodic: poll the CAP feeds that are due (each at its own interval), expire proposals
    whose warning ran out undecided, and forget webhook nonces past their window."""
    taken = {code: result.taken for code, result in poll_due_feeds().items()}
    expire_proposals()
    forget_old_nonces()
    return taken


def run_pending_emergency_jobs(max_rounds: int = 1000) -> int:
    """Run every unfinished plan run, alert and safety-check fan-out to the end, in this
    process (tests, benchmarks, the `make run` footing's catch-up). Returns chunks driven."""
    driven = 0
    for _ in range(max_rounds):
        pending: list[tuple[type[fanout.Job], Chunk, int]] = [
            (model, chunk, pk) for _, model, chunk in JOBS for pk in due(model)]
        if not pending:
            break
        for model, chunk, pk in pending:
            drive(model, pk, chunk, budget=3600)
            driven += 1
    return driven

