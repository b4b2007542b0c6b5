"""The emergency models, moved here from the community app with their tables and rows.

Besides Django's picture of the models, two stored references name the app a model lives in
and move with it: the ContentType rows that generic relations point at (Task.source,
SmsMessage.related, Notification.related) and the model labels an idempotency record keeps
to replay a mutation's payload.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


MOVED = ["alert", "mobilisation", "planrun", "planstep", "responseplan", "safetyanswer", "safetycheck", "safetystatus"]


def _move(apps, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        stale = ContentType.objects.filter(app_label=old, model=model).first()
        if stale is None:
            continue
        fresh = ContentType.objects.filter(app_label=new, model=model).first()
        if fresh is None:
            stale.app_label = new
            stale.save(update_fields=["app_label"])
            continue
        # Both exist (content types were made for the new app before this ran): point
        # every generic relation at the new one, then drop the old.
        for label, field in (("volunteers.Task", "source_type"), ("notifications.SmsMessage", "related_type"),
                             ("notifications.Notification", "related_type")):
            try:
                related = apps.get_model(label)
            except LookupError:
                continue
            related.objects.filter(**{field: stale}).update(**{field: fresh})
        stale.delete()
    _relabel_idempotency_results(apps, old, new)


def _relabel_idempotency_results(apps, old: str, new: str) -> None:
    """Stored mutation payloads name models as "app.Model"; a replay loads them by label."""
    Record = apps.get_model("community", "IdempotencyRecord")
    labels = {f"{old}.{name}": f"{new}.{name}" for name in (
        "Alert", "Mobilisation", "PlanRun", "PlanStep", "ResponsePlan", "SafetyAnswer", "SafetyCheck", "SafetyStatus")}
    for record in Record.objects.exclude(result=None).iterator():
        result = record.result
        if not isinstance(result, dict):
            continue
        changed = False
        for value in result.values():
            if isinstance(value, dict) and value.get("$model") in labels:
                value["$model"] = labels[value["$model"]]
                changed = True
        if changed:
            Record.objects.filter(pk=record.pk).update(result=result)


def move_content_types(apps, schema_editor) -> None:
    _move(apps, "community", "emergency")


def move_content_types_back(apps, schema_editor) -> None:
    _move(apps, "emergency", "community")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('community', '0005_emergency_models_moved'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('volunteers', '0005_task_address_255'),
        ('notifications', '0003_sms_priority'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The models came from the community app with their tables (db_table): Django's
        # picture of them moves here, the tables and rows stay as they are.
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.CreateModel(
                name='PlanRun',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('fanout_status', models.CharField(choices=[('PENDING', '待执行'), ('RUNNING', '执行中'), ('DONE', '已完成'), ('FAILED', '失败')], default='PENDING', max_length=16)),
                    ('fanout_phase', models.CharField(blank=True, max_length=32)),
                    ('fanout_cursor', models.BigIntegerField(default=0, help_text='Last id processed in the current phase.')),
                    ('fanout_counts', models.JSONField(blank=True, default=dict)),
                    ('fanout_attempts', models.PositiveIntegerField(default=0)),
                    ('fanout_error', models.CharField(blank=True, max_length=500)),
                    ('fanout_started_at', models.DateTimeField(blank=True, null=True)),
                    ('fanout_finished_at', models.DateTimeField(blank=True, null=True)),
                    ('lease_token', models.CharField(blank=True, max_length=32)),
                    ('lease_until', models.DateTimeField(blank=True, null=True)),
                    ('mode', models.CharField(choices=[('NORMAL', '平时'), ('STANDBY', '预警'), ('EMERGENCY', '应急'), ('RECOVERY', '恢复')], max_length=16)),
                    ('is_drill', models.BooleanField(default=False)),
                    ('plan_version', models.PositiveIntegerField(blank=True, null=True)),
                    ('status', models.CharField(choices=[('PENDING', '待执行'), ('RUNNING', '执行中'), ('DONE', '已完成'), ('SUPERSEDED', '被后续切换取代')], default='PENDING', max_length=16)),
                    ('cleared_dispatch_override', models.BooleanField(default=False, help_text='Leaving the previous mode cleared its override.')),
                    ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('finished_at', models.DateTimeField(blank=True, null=True)),
                    ('area', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='plan_runs', to='community.area')),
                    ('mode_switch', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='plan_run', to='community.modeswitch')),
                ],
                options={
                    'db_table': 'community_planrun',
                    'ordering': ['created_at', 'id'],
                },
            ),
            migrations.CreateModel(
                name='PlanStep',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('position', models.PositiveSmallIntegerField()),
                    ('action', models.CharField(choices=[('ALERT', '发布预警'), ('SAFETY_CHECK', '启动报平安'), ('MOBILISE', '志愿者和党员待命/集结'), ('SET_DISPATCH', '调整派单参数'), ('CREATE_TASKS', '创建预设任务')], max_length=16)),
                    ('params', models.JSONField(default=dict)),
                    ('status', models.CharField(choices=[('PENDING', '待执行'), ('RUNNING', '执行中'), ('DONE', '已完成'), ('SKIPPED', '跳过'), ('FAILED', '失败')], default='PENDING', max_length=16)),
                    ('phase', models.CharField(blank=True, max_length=32)),
                    ('cursor', models.BigIntegerField(default=0)),
                    ('counts', models.JSONField(blank=True, default=dict)),
                    ('result', models.JSONField(blank=True, default=dict)),
                    ('error', models.CharField(blank=True, max_length=500)),
                    ('started_at', models.DateTimeField(blank=True, null=True)),
                    ('finished_at', models.DateTimeField(blank=True, null=True)),
                    ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='emergency.planrun')),
                ],
                options={
                    'db_table': 'community_planstep',
                    'ordering': ['run_id', 'position'],
                },
            ),
            migrations.CreateModel(
                name='Mobilisation',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('kind', models.CharField(choices=[('VOLUNTEER', '志愿者'), ('PARTY_MEMBER', '在职党员')], max_length=16)),
                    ('level', models.CharField(choices=[('STANDBY', '待命'), ('CALL_IN', '集结')], max_length=16)),
                    ('is_drill', models.BooleanField(default=False)),
                    ('by_sms', models.BooleanField(default=False)),
                    ('notified_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('response', models.CharField(blank=True, choices=[('', '未答复'), ('AVAILABLE', '可以参加'), ('UNAVAILABLE', '无法参加')], default='', max_length=16)),
                    ('responded_at', models.DateTimeField(blank=True, null=True)),
                    ('area', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='community.area')),
                    ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='mobilisations', to=settings.AUTH_USER_MODEL)),
                    ('step', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='mobilisations', to='emergency.planstep')),
                ],
                options={
                    'db_table': 'community_mobilisation',
                    'ordering': ['notified_at', 'id'],
                },
            ),
            migrations.CreateModel(
                name='Alert',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('fanout_status', models.CharField(choices=[('PENDING', '待执行'), ('RUNNING', '执行中'), ('DONE', '已完成'), ('FAILED', '失败')], default='PENDING', max_length=16)),
                    ('fanout_phase', models.CharField(blank=True, max_length=32)),
                    ('fanout_cursor', models.BigIntegerField(default=0, help_text='Last id processed in the current phase.')),
                    ('fanout_counts', models.JSONField(blank=True, default=dict)),
                    ('fanout_attempts', models.PositiveIntegerField(default=0)),
                    ('fanout_error', models.CharField(blank=True, max_length=500)),
                    ('fanout_started_at', models.DateTimeField(blank=True, null=True)),
                    ('fanout_finished_at', models.DateTimeField(blank=True, null=True)),
                    ('lease_token', models.CharField(blank=True, max_length=32)),
                    ('lease_until', models.DateTimeField(blank=True, null=True)),
                    ('identifier', models.CharField(help_text='CAP identifier, unique per sender.', max_length=120, unique=True)),
                    ('msg_type', models.CharField(choices=[('Alert', '预警'), ('Update', '更新'), ('Cancel', '解除')], default='Alert', max_length=8)),
                    ('is_drill', models.BooleanField(default=False, help_text='CAP status Exercise.')),
                    ('categories', models.JSONField(default=list)),
                    ('event', models.CharField(max_length=100)),
                    ('urgency', models.CharField(choices=[('Immediate', '立即'), ('Expected', '一小时内'), ('Future', '近期'), ('Past', '已过去'), ('Unknown', '未知')], max_length=16)),
                    ('severity', models.CharField(choices=[('Extreme', '特别严重'), ('Severe', '严重'), ('Moderate', '较重'), ('Minor', '一般'), ('Unknown', '未知')], max_length=16)),
                    ('certainty', models.CharField(choices=[('Observed', '已发生'), ('Likely', '很可能'), ('Possible', '可能'), ('Unlikely', '不太可能'), ('Unknown', '未知')], max_length=16)),
                    ('response_types', models.JSONField(blank=True, default=list)),
                    ('headline', models.CharField(max_length=160)),
                    ('description', models.TextField(blank=True)),
                    ('instruction', models.TextField(blank=True)),
                    ('headline_en', models.CharField(blank=True, max_length=160)),
                    ('description_en', models.TextField(blank=True)),
                    ('instruction_en', models.TextField(blank=True)),
                    ('onset', models.DateTimeField(blank=True, null=True)),
                    ('expires', models.DateTimeField(blank=True, null=True)),
                    ('send_sms', models.BooleanField(default=True, help_text='Text residents without the app and vulnerable residents.')),
                    ('sent_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('superseded_at', models.DateTimeField(blank=True, help_text='A later update or cancellation replaced it.', null=True)),
                    ('area', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='alerts', to='community.area')),
                    ('issued_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('references', models.ForeignKey(blank=True, help_text='The alert this one updates or cancels.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='followups', to='emergency.alert')),
                    ('plan_step', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='alert', to='emergency.planstep')),
                ],
                options={
                    'db_table': 'community_alert',
                    'ordering': ['-sent_at', '-id'],
                },
            ),
            migrations.CreateModel(
                name='ResponsePlan',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('mode', models.CharField(choices=[('NORMAL', '平时'), ('STANDBY', '预警'), ('EMERGENCY', '应急'), ('RECOVERY', '恢复')], max_length=16)),
                    ('version', models.PositiveIntegerField()),
                    ('name', models.CharField(max_length=100)),
                    ('description', models.TextField(blank=True)),
                    ('actions', models.JSONField(default=list, help_text='[{"type": "ALERT", "params": {...}}, ...]')),
                    ('is_enabled', models.BooleanField(default=True, help_text='False: this version withdraws the plan.')),
                    ('change_note', models.CharField(blank=True, max_length=500)),
                    ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('area', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='response_plans', to='community.area')),
                    ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'db_table': 'community_responseplan',
                    'ordering': ['area_id', 'mode', '-version'],
                },
            ),
            migrations.AddField(
                model_name='planrun',
                name='plan',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='runs', to='emergency.responseplan'),
            ),
            migrations.CreateModel(
                name='SafetyCheck',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('fanout_status', models.CharField(choices=[('PENDING', '待执行'), ('RUNNING', '执行中'), ('DONE', '已完成'), ('FAILED', '失败')], default='PENDING', max_length=16)),
                    ('fanout_phase', models.CharField(blank=True, max_length=32)),
                    ('fanout_cursor', models.BigIntegerField(default=0, help_text='Last id processed in the current phase.')),
                    ('fanout_counts', models.JSONField(blank=True, default=dict)),
                    ('fanout_attempts', models.PositiveIntegerField(default=0)),
                    ('fanout_error', models.CharField(blank=True, max_length=500)),
                    ('fanout_started_at', models.DateTimeField(blank=True, null=True)),
                    ('fanout_finished_at', models.DateTimeField(blank=True, null=True)),
                    ('lease_token', models.CharField(blank=True, max_length=32)),
                    ('lease_until', models.DateTimeField(blank=True, null=True)),
                    ('title', models.CharField(max_length=100)),
                    ('is_drill', models.BooleanField(default=False)),
                    ('status', models.CharField(choices=[('ACTIVE', '进行中'), ('CLOSED', '已结束')], default='ACTIVE', max_length=8)),
                    ('started_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('welfare_after_minutes', models.PositiveIntegerField(default=60)),
                    ('welfare_due_at', models.DateTimeField(help_text='Vulnerable residents still silent then get a welfare-check task.')),
                    ('reply_until', models.DateTimeField(help_text='SMS replies are routed here until then.')),
                    ('resident_count', models.PositiveIntegerField(default=0, help_text='Residents in the area when it started.')),
                    ('closed_at', models.DateTimeField(blank=True, null=True)),
                    ('area', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='safety_checks', to='community.area')),
                    ('closed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('plan_step', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='safety_check', to='emergency.planstep')),
                    ('started_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'db_table': 'community_safetycheck',
                    'ordering': ['-started_at', '-id'],
                },
            ),
            migrations.CreateModel(
                name='SafetyStatus',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('is_vulnerable', models.BooleanField(default=False)),
                    ('status', models.CharField(choices=[('UNANSWERED', '未答复'), ('SAFE', '平安'), ('NEED_HELP', '需要帮助')], default='UNANSWERED', max_length=16)),
                    ('first_answered_at', models.DateTimeField(blank=True, null=True)),
                    ('answered_at', models.DateTimeField(blank=True, null=True)),
                    ('channel', models.CharField(blank=True, choices=[('APP', '本人App'), ('SMS', '短信回复'), ('PROXY', '家人/联系人/志愿者代报'), ('STAFF', '工作人员登记')], max_length=8)),
                    ('note', models.CharField(blank=True, max_length=500)),
                    ('lat', models.FloatField(blank=True, null=True)),
                    ('lng', models.FloatField(blank=True, null=True)),
                    ('version', models.PositiveIntegerField(default=0, help_text='Bumped by every answer (conditional updates).')),
                    ('asked_by_push', models.BooleanField(default=False)),
                    ('asked_by_sms', models.BooleanField(default=False)),
                    ('need_help_task_id', models.BigIntegerField(blank=True, null=True)),
                    ('welfare_task_id', models.BigIntegerField(blank=True, null=True)),
                    ('welfare_requested_at', models.DateTimeField(blank=True, null=True)),
                    ('answered_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('grid', models.ForeignKey(help_text="The resident's grid at the start.", on_delete=django.db.models.deletion.PROTECT, related_name='+', to='community.area')),
                    ('resident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='safety_statuses', to='community.resident')),
                    ('safety_check', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='statuses', to='emergency.safetycheck')),
                ],
                options={
                    'db_table': 'community_safetystatus',
                },
            ),
            migrations.CreateModel(
                name='SafetyAnswer',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('status', models.CharField(choices=[('UNANSWERED', '未答复'), ('SAFE', '平安'), ('NEED_HELP', '需要帮助')], max_length=16)),
                    ('previous_status', models.CharField(choices=[('UNANSWERED', '未答复'), ('SAFE', '平安'), ('NEED_HELP', '需要帮助')], max_length=16)),
                    ('channel', models.CharField(choices=[('APP', '本人App'), ('SMS', '短信回复'), ('PROXY', '家人/联系人/志愿者代报'), ('STAFF', '工作人员登记')], max_length=8)),
                    ('note', models.CharField(blank=True, max_length=500)),
                    ('lat', models.FloatField(blank=True, null=True)),
                    ('lng', models.FloatField(blank=True, null=True)),
                    ('client_key', models.CharField(blank=True, max_length=255)),
                    ('source_ref', models.CharField(blank=True, help_text='e.g. the inbound SMS MessageSid', max_length=80)),
                    ('answered_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('answered_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('status_row', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='answers', to='emergency.safetystatus')),
                ],
                options={
                    'db_table': 'community_safetyanswer',
                    'ordering': ['answered_at', 'id'],
                },
            ),
            migrations.AddConstraint(
                model_name='planstep',
                constraint=models.UniqueConstraint(fields=('run', 'position'), name='unique_plan_step_position'),
            ),
            migrations.AddIndex(
                model_name='mobilisation',
                index=models.Index(fields=['user', 'notified_at'], name='community_m_user_id_aeb402_idx'),
            ),
            migrations.AddConstraint(
                model_name='mobilisation',
                constraint=models.UniqueConstraint(fields=('step', 'user'), name='one_mobilisation_per_step_and_user'),
            ),
            migrations.AddIndex(
                model_name='alert',
                index=models.Index(fields=['area', 'sent_at'], name='community_a_area_id_756335_idx'),
            ),
            migrations.AddIndex(
                model_name='alert',
                index=models.Index(fields=['fanout_status', 'lease_until'], name='alert_due_idx'),
            ),
            migrations.AddConstraint(
                model_name='responseplan',
                constraint=models.UniqueConstraint(fields=('area', 'mode', 'version'), name='unique_plan_version'),
            ),
            migrations.AddIndex(
                model_name='planrun',
                index=models.Index(fields=['area', 'created_at'], name='community_p_area_id_9b2d07_idx'),
            ),
            migrations.AddIndex(
                model_name='planrun',
                index=models.Index(fields=['fanout_status', 'lease_until'], name='plan_run_due_idx'),
            ),
            migrations.AddIndex(
                model_name='safetycheck',
                index=models.Index(fields=['area', 'started_at'], name='community_s_area_id_4e52ea_idx'),
            ),
            migrations.AddIndex(
                model_name='safetycheck',
                index=models.Index(fields=['status', 'welfare_due_at'], name='community_s_status_bd87ae_idx'),
            ),
            migrations.AddIndex(
                model_name='safetycheck',
                index=models.Index(fields=['fanout_status', 'lease_until'], name='safety_check_due_idx'),
            ),
            migrations.AddIndex(
                model_name='safetystatus',
                index=models.Index(fields=['safety_check', 'status'], name='community_s_safety__d1db28_idx'),
            ),
            migrations.AddIndex(
                model_name='safetystatus',
                index=models.Index(fields=['safety_check', 'grid'], name='community_s_safety__c17746_idx'),
            ),
            migrations.AddIndex(
                model_name='safetystatus',
                index=models.Index(fields=['safety_check', 'is_vulnerable', 'status'], name='community_s_safety__9c6f35_idx'),
            ),
            migrations.AddIndex(
                model_name='safetystatus',
                index=models.Index(fields=['safety_check', 'first_answered_at'], name='community_s_safety__3caafe_idx'),
            ),
            migrations.AddConstraint(
                model_name='safetystatus',
                constraint=models.UniqueConstraint(fields=('safety_check', 'resident'), name='one_safety_status_per_resident'),
            ),
            migrations.AddConstraint(
                model_name='safetyanswer',
                constraint=models.UniqueConstraint(condition=models.Q(('client_key', ''), _negated=True), fields=('status_row', 'answered_by', 'client_key'), name='unique_safety_answer_client_key'),
            ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
