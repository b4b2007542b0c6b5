"""Warnings that come in (外部预警接入): CAP 1.2 messages from configured feeds or a signed
webhook, sensor readings, and the proposals a matching warning makes to commanders.

A warning is stored once per (sender, identifier), as CAP identifies messages; an Update or
Cancel references its original and supersedes it. Each area it matches gets at most one
WarningProposal: "switch this area to STANDBY and run its plan?", decided by a commander
(the time from the warning's arrival to the decision is recorded) or, where the area's plan
says so for the warning's severity, switched at once (AUTO_SWITCHED).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

from community.geo import Located
from community.models import Area, Mode, ModeSwitch

from .alerts import CapCertainty, CapMsgType, CapSeverity, CapUrgency
from .plans import ResponsePlan


class WarningSourceKind(models.TextChoices):
    CAP_FEED = "CAP_FEED", "CAP 订阅源（轮询）"
    CAP_WEBHOOK = "CAP_WEBHOOK", "CAP 推送（签名）"
    SENSOR_WEBHOOK = "SENSOR_WEBHOOK", "传感器推送（签名）"


class WarningSource(models.Model):
    """Where warnings come from: a feed Linli polls, or a sender that posts signed requests."""

    code = models.SlugField(max_length=64, unique=True, help_text="In the webhook's URL: /warnings/cap/<code>/")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=WarningSourceKind.choices)
    url = models.URLField(max_length=500, blank=True, help_text="Feeds: the Atom feed or CAP document polled.")
    secret = models.CharField(max_length=128, blank=True, help_text="Webhooks: the shared HMAC-SHA256 key.")
    is_enabled = models.BooleanField(default=True)
    poll_seconds = models.PositiveIntegerField(default=300)
    etag = models.CharField(max_length=255, blank=True)
    last_modified = models.CharField(max_length=64, blank=True, help_text="The feed's Last-Modified, sent back as is.")
    next_poll_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class CapStatus(models.TextChoices):
    ACTUAL = "Actual", "正式"
    EXERCISE = "Exercise", "演练"
    SYSTEM = "System", "系统"
    TEST = "Test", "测试"
    DRAFT = "Draft", "草稿"


class IncomingWarning(models.Model):
    source = models.ForeignKey(WarningSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="warnings")
    sensor = models.ForeignKey("emergency.Sensor", null=True, blank=True, on_delete=models.SET_NULL, related_name="warnings")
    sender = models.CharField(max_length=255)
    identifier = models.CharField(max_length=255)
    sent = models.DateTimeField()
    status = models.CharField(max_length=16, choices=CapStatus.choices)
    msg_type = models.CharField(max_length=8)  # CapMsgType, or Ack/Error (kept, never acted on)
    references_text = models.TextField(blank=True)
    references = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="followups")
    event = models.CharField(max_length=255, blank=True)
    categories = models.JSONField(default=list, blank=True)
    urgency = models.CharField(max_length=16, choices=CapUrgency.choices, default=CapUrgency.UNKNOWN)
    severity = models.CharField(max_length=16, choices=CapSeverity.choices, default=CapSeverity.UNKNOWN)
    certainty = models.CharField(max_length=16, choices=CapCertainty.choices, default=CapCertainty.UNKNOWN)
    sender_name = models.CharField(max_length=255, blank=True)
    headline = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    instruction = models.TextField(blank=True)
    onset = models.DateTimeField(null=True, blank=True)
    expires = models.DateTimeField(null=True, blank=True)
    shapes = models.JSONField(default=list, blank=True,
                              help_text='[{"desc": ..., "polygons": [[[lat, lng], ...]], "circles": [[lat, lng, km]], '
                                        '"geocodes": [[name, value]]}]')
    xml = models.TextField(help_text="The document as received.")
    entry_url = models.CharField(max_length=500, blank=True, help_text="Feeds: where the document was fetched.")
    received_at = models.DateTimeField(default=timezone.now)
    superseded_at = models.DateTimeField(null=True, blank=True, help_text="A later Update or Cancel replaced it.")
    matched_areas = models.ManyToManyField(Area, blank=True, related_name="incoming_warnings")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["received_at"]), models.Index(fields=["source", "entry_url"])]
        constraints = [models.UniqueConstraint(fields=["sender", "identifier"], name="one_warning_per_sender_identifier")]

    def __str__(self) -> str:
        return f"{self.msg_type} {self.identifier} ({self.sender})"

    @property
    def is_actual(self) -> bool:
        return self.status == CapStatus.ACTUAL

    def is_active(self, at: dt.datetime | None = None) -> bool:
        at = at or timezone.now()
        if self.msg_type == CapMsgType.CANCEL or self.superseded_at is not None:
            return False
        return self.expires is None or self.expires > at


class ProposalStatus(models.TextChoices):
    PENDING = "PENDING", "待决定"
    ACCEPTED = "ACCEPTED", "已采纳"
    DECLINED = "DECLINED", "未采纳"
    AUTO_SWITCHED = "AUTO_SWITCHED", "已按预案自动切换"
    SUPERSEDED = "SUPERSEDED", "预警已更新"
    CANCELLED = "CANCELLED", "预警已解除"
    EXPIRED = "EXPIRED", "预警已过期"


class WarningProposal(models.Model):
    """'Switch <area> to <mode> and run <plan> v<n>?' for one matching warning and area."""

    warning = models.ForeignKey(IncomingWarning, on_delete=models.CASCADE, related_name="proposals")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="warning_proposals")
    mode = models.CharField(max_length=16, choices=Mode.choices, help_text="The mode proposed.")
    plan = models.ForeignKey(ResponsePlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    plan_version = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    seconds_to_decide = models.FloatField(null=True, blank=True, help_text="From the warning's arrival to the decision.")
    note = models.CharField(max_length=500, blank=True)
    switched_to = models.CharField(max_length=16, choices=Mode.choices, blank=True)
    mode_switch = models.ForeignKey(ModeSwitch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["area", "status"]), models.Index(fields=["status", "created_at"])]
        constraints = [models.UniqueConstraint(fields=["warning", "area"], name="one_proposal_per_warning_and_area")]

    def __str__(self) -> str:
        return f"{self.area_id} -> {self.mode} ({self.status})"


class SensorKind(models.TextChoices):
    WATER_LEVEL = "WATER_LEVEL", "水位"
    RAINFALL = "RAINFALL", "雨量"
    OTHER = "OTHER", "其他"


class Sensor(Located):
    """A gauge placed around the city. `thresholds` (ascending): [{"value": 3.5,
    "severity": "Moderate", "event": "内涝"}, ...]; a reading at or above a value raises a
    warning of that severity, as a CAP message of Linli's own (emergency.warnings.sensors)."""

    source = models.ForeignKey(WarningSource, on_delete=models.PROTECT, related_name="sensors",
                               help_text="The webhook whose key signs this sensor's readings.")
    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=SensorKind.choices)
    unit = models.CharField(max_length=16, help_text="e.g. m, mm/h")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="sensors")
    radius_m = models.PositiveIntegerField(default=1000, help_text="The warning's circle around the sensor.")
    thresholds = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    level = models.SmallIntegerField(default=-1, help_text="Index of the highest threshold reached now; -1 none.")
    current_warning = models.ForeignKey(IncomingWarning, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_value = models.FloatField(null=True, blank=True)
    last_reading_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class SensorReading(models.Model):
    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="readings")
    value = models.FloatField()
    observed_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    level = models.SmallIntegerField(default=-1)

    class Meta:
        ordering = ["-observed_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["sensor", "observed_at"], name="one_reading_per_sensor_and_time")]

    def __str__(self) -> str:
        return f"{self.sensor_id} {self.value} @ {self.observed_at}"


class WebhookNonce(models.Model):
    """Nonces of signed requests already taken: a replay inside the time window is refused."""

    source = models.ForeignKey(WarningSource, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=128)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "nonce"], name="one_use_per_nonce")]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.nonce}"
