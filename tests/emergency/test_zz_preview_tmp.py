import datetime as dt

import pytest
from django.utils import timezone

from community.demo import build_demo_city
from community.models import Area, Mode
from emergency.models import SafetyCheck, SafetyStatus
from emergency.plans import save_plan_version
from emergency.review import after_action_report
from emergency.review_files import report_file
from emergency.safety_answers import answer_safety_check, request_welfare_checks
from emergency.switching import switch_mode
from emergency.tasks import run_pending_emergency_jobs
from tests.emergency.emergency_support import ALERT_PARAMS, _emergency_isolation  # noqa: F401
from tests.notifications.helpers import send_queued
from volunteers.dispatch.waves import offer_next_wave
from volunteers.models import Offer, Task
from volunteers.services import check_in_on_site, respond_to_offer

pytestmark = pytest.mark.django_db


def test_preview():
    demo = build_demo_city()
    sub = Area.objects.get(code="hz-sc-1")
    commander = demo.staff["commander1"]
    since = timezone.now() - dt.timedelta(minutes=1)
    save_plan_version(sub, Mode.EMERGENCY, name="防台风预案", by=commander, actions=[
        {"type": "ALERT", "params": ALERT_PARAMS},
        {"type": "SAFETY_CHECK", "params": {"title": "台风报平安", "welfare_after_minutes": 30}},
        {"type": "MOBILISE", "params": {"level": "CALL_IN", "message": "请到社区集合"}}])
    switch_mode(sub, Mode.EMERGENCY, by=commander, reason="台风登陆")
    run_pending_emergency_jobs()
    send_queued()
    check = SafetyCheck.objects.filter(area=sub).get()
    rows = list(SafetyStatus.objects.filter(safety_check=check).select_related("resident", "safety_check", "grid")[:400])
    for i, row in enumerate(rows[:300]):
        answer_safety_check(row, "NEED_HELP" if i % 37 == 0 else "SAFE", by=None, channel="STAFF",
                            now=check.started_at + dt.timedelta(minutes=2 + i // 5))
    request_welfare_checks(now=check.started_at + dt.timedelta(minutes=31))
    for task in Task.objects.filter(priority="LIFE_SAFETY")[:4]:
        offer_next_wave(task.pk)
        offer = Offer.objects.filter(task=task, status="PENDING").order_by("rank").first()
        if offer:
            answer = respond_to_offer(offer, accept=True, via="APP")
            assignment = offer.assignment if hasattr(offer, "assignment") else None
            from volunteers.models import TaskAssignment
            assignment = TaskAssignment.objects.filter(task=task).first()
            if assignment:
                check_in_on_site(assignment, task.site, now=task.created_at + dt.timedelta(minutes=12))
    switch_mode(sub, Mode.RECOVERY, by=commander, reason="台风过境")
    run_pending_emergency_jobs()
    for lang in ("zh-hans", "en"):
        report = after_action_report(sub, since, timezone.now() + dt.timedelta(minutes=1), viewer=commander)
        for fmt in ("html", "pdf", "xlsx"):
            f = report_file(report, fmt, language=lang)
            with open(f"/tmp/drills_preview/report-{lang}.{fmt}", "wb") as out:
                out.write(f.content)
