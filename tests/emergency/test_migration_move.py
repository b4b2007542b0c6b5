"""The emergency models moved from the community app without losing a row: a database filled
at the last migration before the move (community 0004), migrated forward, still has every row
and every relation — foreign keys, the generic relations that name a model by its
ContentType (a task's source, an SMS's and a notification's subject) and the model labels an
idempotency record keeps to replay a mutation. Runs on SQLite and, in CI, on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from community.models import IdempotencyRecord
from emergency.models import (
    Alert,
    Mobilisation,
    PlanRun,
    PlanStep,
    ResponsePlan,
    SafetyAnswer,
    SafetyCheck,
    SafetyStatus,
)
from notifications.models import Notification, SmsMessage
from volunteers.models import Task

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_MOVE = [("emergency", None), ("community", "0004_opaque_phone_usernames")]
MOVED = ["alert", "mobilisation", "planrun", "planstep", "responseplan", "safetyanswer", "safetycheck", "safetystatus"]


def migrate(targets):
    """Migrate to `targets`; the historical models of the state reached."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    applied = [key for key in executor.loader.graph.leaf_nodes() if key[0] not in dict(targets)]
    applied += [(app, name) for app, name in targets if name is not None]
    return executor.loader.project_state(applied).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def fill_the_old_tables(apps, *, new_content_types_too: bool = False) -> dict:
    """A database as it was before the move: content types name the community app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="emergency").delete()
    ct = {model: ContentType.objects.get_or_create(app_label="community", model=model)[0] for model in MOVED}
    if new_content_types_too:  # a deploy made them already (post_migrate of an earlier attempt)
        for model in MOVED:
            ContentType.objects.get_or_create(app_label="emergency", model=model)
    now = timezone.now()
    c = lambda name: apps.get_model("community", name)  # noqa: E731
    User, Area, Resident, ModeSwitch = c("User"), c("Area"), c("Resident"), c("ModeSwitch")
    staff = User.objects.create(username="commander-old", password="!")
    person = User.objects.create(username="u-old", password="!", phone="+8613900000123")
    area = Area.objects.create(path="0009", depth=1, numchild=0, name="老社区", code="old-community", kind="community")
    resident = Resident.objects.create(grid=area, display_name="王老", user=person, phone="+8613900000123")
    switch = ModeSwitch.objects.create(area=area, from_mode="NORMAL", to_mode="EMERGENCY", switched_by=staff, switched_at=now)
    plan = c("ResponsePlan").objects.create(area=area, mode="EMERGENCY", version=1, name="预案", actions=[])
    run = c("PlanRun").objects.create(mode_switch=switch, area=area, mode="EMERGENCY", plan=plan, plan_version=1)
    step = c("PlanStep").objects.create(run=run, position=0, action="ALERT", params={})
    alert = c("Alert").objects.create(identifier="linli-old-1", area=area, event="暴雨", urgency="Immediate", severity="Severe",
                                      certainty="Likely", headline="暴雨预警", plan_step=step)
    check = c("SafetyCheck").objects.create(area=area, title="报平安", plan_step=None, welfare_due_at=now, reply_until=now)
    status = c("SafetyStatus").objects.create(safety_check=check, resident=resident, grid=area, status="NEED_HELP")
    answer = c("SafetyAnswer").objects.create(status_row=status, status="NEED_HELP", previous_status="UNANSWERED", channel="SMS")
    mobilisation = c("Mobilisation").objects.create(step=step, area=area, user=person, kind="VOLUNTEER", level="CALL_IN")
    task = apps.get_model("volunteers", "Task").objects.create(
        area=area, title="求助", source="SAFETY_CHECK", source_type=ct["safetystatus"], source_id=str(status.pk))
    sms = apps.get_model("notifications", "SmsMessage").objects.create(
        idempotency_key="alert:old", phone="+8613900000123", purpose="alert", template="emergency.alert.sms", body="预警",
        related_type=ct["alert"], related_id=str(alert.pk))
    push = apps.get_model("notifications", "Notification").objects.create(
        user=person, kind="safety_check", title="报平安", body="您平安吗", related_type=ct["safetycheck"],
        related_id=str(check.pk))
    record = c("IdempotencyRecord").objects.create(
        user=staff, key="k-old", operation="IssueAlert", fingerprint="f",
        result={"alert": {"$model": "community.Alert", "pk": alert.pk}, "note": "plain value"})
    return {"plan": plan.pk, "run": run.pk, "step": step.pk, "alert": alert.pk, "check": check.pk, "status": status.pk,
            "answer": answer.pk, "mobilisation": mobilisation.pk, "task": task.pk, "sms": sms.pk, "push": push.pk,
            "record": record.pk, "resident": resident.pk, "switch": switch.pk}


def assert_everything_is_found(ids: dict) -> None:
    from django.contrib.contenttypes.models import ContentType

    alert = Alert.objects.get(pk=ids["alert"])
    assert alert.plan_step == PlanStep.objects.get(pk=ids["step"])
    run = PlanRun.objects.get(pk=ids["run"])
    assert run.plan == ResponsePlan.objects.get(pk=ids["plan"]) and run.mode_switch_id == ids["switch"]
    status = SafetyStatus.objects.get(pk=ids["status"])
    assert status.safety_check_id == ids["check"] and status.resident_id == ids["resident"]
    assert SafetyAnswer.objects.get(pk=ids["answer"]).status_row == status
    assert Mobilisation.objects.get(pk=ids["mobilisation"]).step_id == ids["step"]
    # generic relations resolve to the models in their new app
    assert Task.objects.get(pk=ids["task"]).source_object == status
    assert SmsMessage.objects.get(pk=ids["sms"]).related == alert
    assert Notification.objects.get(pk=ids["push"]).related == SafetyCheck.objects.get(pk=ids["check"])
    assert not ContentType.objects.filter(app_label="community", model__in=MOVED).exists()
    result = IdempotencyRecord.objects.get(pk=ids["record"]).result
    assert result == {"alert": {"$model": "emergency.Alert", "pk": alert.pk}, "note": "plain value"}


def test_every_row_and_relation_survives_the_move():
    old = migrate(BEFORE_THE_MOVE)
    ids = fill_the_old_tables(old)
    migrate(latest())
    assert_everything_is_found(ids)


def test_the_move_repoints_relations_when_new_content_types_already_exist():
    old = migrate(BEFORE_THE_MOVE)
    ids = fill_the_old_tables(old, new_content_types_too=True)
    migrate(latest())
    assert_everything_is_found(ids)


def test_the_move_can_be_reversed():
    old = migrate(BEFORE_THE_MOVE)
    ids = fill_the_old_tables(old)
    migrate(latest())
    back = migrate(BEFORE_THE_MOVE)
    ContentType = back.get_model("contenttypes", "ContentType")
    assert set(ContentType.objects.filter(app_label="community", model__in=MOVED).values_list("model", flat=True)) == set(MOVED)
    record = back.get_model("community", "IdempotencyRecord").objects.get(pk=ids["record"])
    assert record.result["alert"]["$model"] == "community.Alert"
    migrate(latest())
    assert_everything_is_found(ids)
