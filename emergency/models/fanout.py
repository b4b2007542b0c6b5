"""Background fan-out state shared by alerts, safety checks and plan runs.

A fan-out (alerting tens of thousands of residents, creating their safety-check rows, calling
volunteers in) runs in Celery after the commit that asked for it, in chunks. Its progress
lives in these columns, so a dead worker or a lost broker message only delays it: the
emergency sweep re-drives every fan-out whose lease ran out (emergency.fanout).
"""

from __future__ import annotations

from django.db import models


class FanoutStatus(models.TextChoices):
    PENDING = "PENDING", "待执行"
    RUNNING = "RUNNING", "执行中"
    DONE = "DONE", "已完成"
    FAILED = "FAILED", "失败"


class FanoutState(models.Model):
    """Abstract: phase + cursor of a chunked job, and a lease held by the worker running it.

    Each chunk commits its work together with the new cursor, conditional on the lease token
    (emergency.fanout.drive), so two workers never both advance one job.
    """

    fanout_status = models.CharField(max_length=16, choices=FanoutStatus.choices, default=FanoutStatus.PENDING)
    fanout_phase = models.CharField(max_length=32, blank=True)
    fanout_cursor = models.BigIntegerField(default=0, help_text="Last id processed in the current phase.")
    fanout_counts = models.JSONField(default=dict, blank=True)
    fanout_attempts = models.PositiveIntegerField(default=0)
    fanout_error = models.CharField(max_length=500, blank=True)
    fanout_started_at = models.DateTimeField(null=True, blank=True)
    fanout_finished_at = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
