
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('community', '0004_opaque_phone_usernames'),
    ]

    operations = [
        # The models moved to the emergency app with their tables (db_table keeps the
        # names): only Django's picture of the models changes, not a row.
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.RemoveField(
                model_name='mobilisation',
                name='area',
            ),
            migrations.RemoveField(
                model_name='mobilisation',
                name='step',
            ),
            migrations.RemoveField(
                model_name='mobilisation',
                name='user',
            ),
            migrations.RemoveField(
                model_name='planrun',
                name='area',
            ),
            migrations.RemoveField(
                model_name='planrun',
                name='mode_switch',
            ),
            migrations.RemoveField(
                model_name='planrun',
                name='plan',
            ),
            migrations.RemoveField(
                model_name='planstep',
                name='run',
            ),
            migrations.RemoveField(
                model_name='safetycheck',
                name='plan_step',
            ),
            migrations.RemoveField(
                model_name='responseplan',
                name='area',
            ),
            migrations.RemoveField(
                model_name='responseplan',
                name='created_by',
            ),
            migrations.RemoveField(
                model_name='safetyanswer',
                name='answered_by',
            ),
            migrations.RemoveField(
                model_name='safetyanswer',
                name='status_row',
            ),
            migrations.RemoveField(
                model_name='safetycheck',
                name='area',
            ),
            migrations.RemoveField(
                model_name='safetycheck',
                name='closed_by',
            ),
            migrations.RemoveField(
                model_name='safetycheck',
                name='started_by',
            ),
            migrations.RemoveField(
                model_name='safetystatus',
                name='safety_check',
            ),
            migrations.RemoveField(
                model_name='safetystatus',
                name='answered_by',
            ),
            migrations.RemoveField(
                model_name='safetystatus',
                name='grid',
            ),
            migrations.RemoveField(
                model_name='safetystatus',
                name='resident',
            ),
            migrations.DeleteModel(
                name='Alert',
            ),
            migrations.DeleteModel(
                name='Mobilisation',
            ),
            migrations.DeleteModel(
                name='PlanRun',
            ),
            migrations.DeleteModel(
                name='PlanStep',
            ),
            migrations.DeleteModel(
                name='ResponsePlan',
            ),
            migrations.DeleteModel(
                name='SafetyAnswer',
            ),
            migrations.DeleteModel(
                name='SafetyCheck',
            ),
            migrations.DeleteModel(
                name='SafetyStatus',
            ),
            ],
            database_operations=[],
        ),
    ]
