"""The access log: an append-only record of reads of sensitive personal information.

One row per reader, per subject, per request (an API document, an export, an admin page):
the fields read are gathered into it, so a list of fifty residents writes fifty rows, not
three hundred. Subjects and readers are kept by id, not by foreign key, so that erasing a
person or an account never rewrites the log (a deleted subject's rows stay, pseudonymous).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn

from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """The access log is never changed or deleted row by row (only purged by retention)."""


class Channel(models.TextChoices):
    API = "api", "接口"
    EXPORT = "export", "导出"
    ADMIN = "admin", "后台"


class SubjectKind(models.TextChoices):
    RESIDENT = "resident", "居民"
    HOUSEHOLD = "household", "住户"
    USER = "user", "账户"
    TASK = "task", "任务地点"


class AccessLogQuerySet(models.QuerySet["AccessLog"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("the access log is append-only")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("the access log is append-only")

    def purge_before(self, cutoff: datetime) -> int:
        """Retention only: remove rows older than `cutoff` (privacy.retention)."""
        old: models.QuerySet[AccessLog] = models.QuerySet(model=self.model, using=self.db).filter(at__lt=cutoff)
        deleted, _ = old.delete()
        return deleted


class AccessLog(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.BigIntegerField(help_text="The account that read (id; the account may be gone).")
    actor_name = models.CharField(max_length=150, help_text="Its public name at the time.")
    role = models.CharField(max_length=200, blank=True,
                            help_text="The roles under which it read (grid_worker, community_admin, superuser, volunteer).")
    task_id = models.BigIntegerField(null=True, blank=True, help_text="The task through which it read, if any.")
    subject_kind = models.CharField(max_length=16, choices=SubjectKind.choices)
    subject_id = models.BigIntegerField()
    subject_user_id = models.BigIntegerField(null=True, blank=True, help_text="The subject's own account, if any.")
    area_path = models.CharField(max_length=255, blank=True, help_text="The subject's grid path: who may audit it.")
    fields = models.JSONField(default=list, help_text="The sensitive fields read, sorted.")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    operation = models.CharField(max_length=100, blank=True, help_text="The GraphQL operation, export or admin page.")

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["subject_kind", "subject_id", "-at"], name="access_subject_idx"),
            models.Index(fields=["subject_user_id", "-at"], name="access_subject_user_idx"),
            models.Index(fields=["area_path", "-at"], name="access_area_idx"),
            models.Index(fields=["actor_id", "-at"], name="access_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name} read {self.subject_kind} {self.subject_id} ({', '.join(self.fields)})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("the access log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("the access log is append-only")
