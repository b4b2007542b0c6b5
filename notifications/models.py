"""Notifications: SMS consent, the SMS outbox and its delivery log, inbound SMS, phone-login
codes and the push history.

The database is the truth (principle 1): an SMS is a row written with the state change that
causes it, claimed by a worker with a conditional UPDATE before the provider is called, and
moved along a monotonic status machine by the worker and by the provider's callbacks.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from core.masking import mask_phone

from .lanes import Lane


class SmsOptOut(models.Model):
    """A phone number that texted STOP (or was reported unsubscribed by the provider, 21610).

    While the row exists nothing is sent to the number; START removes it. Keyed by number, not
    by user, because residents registered by staff may have a phone but no account.
    """

    phone = PhoneNumberField(unique=True)
    source = models.CharField(max_length=32, default="keyword", help_text="keyword, provider or staff")
    keyword = models.CharField(max_length=32, blank=True)
    opted_out_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"opt-out {mask_phone(str(self.phone))}"


class SmsStatus(models.TextChoices):
    """queued < sending < sent < delivered | undelivered | failed; refused never leaves;
    superseded: dropped while still queued because what it said stopped being true."""

    QUEUED = "queued", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已提交"
    DELIVERED = "delivered", "已送达"
    UNDELIVERED = "undelivered", "未送达"
    FAILED = "failed", "失败"
    REFUSED = "refused", "拒发"
    SUPERSEDED = "superseded", "已作废"


STATUS_RANK: dict[str, int] = {
    SmsStatus.QUEUED: 0,
    SmsStatus.SENDING: 1,
    SmsStatus.SENT: 2,
    SmsStatus.DELIVERED: 3,
    SmsStatus.UNDELIVERED: 3,
    SmsStatus.FAILED: 3,
    SmsStatus.REFUSED: 3,
    SmsStatus.SUPERSEDED: 3,
}
TERMINAL_STATUSES = frozenset(s for s, rank in STATUS_RANK.items() if rank == 3)


class SmsMessage(models.Model):
    """One outbound SMS (the outbox row). See notifications/outbox.py and delivery.py."""

    idempotency_key = models.CharField(max_length=255, unique=True)
    phone = models.CharField(max_length=20, help_text="E.164")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    purpose = models.CharField(max_length=64)
    template = models.CharField(max_length=100)
    body = models.TextField()
    language = models.CharField(max_length=10, default="zh-hans")
    is_drill = models.BooleanField(default=False)
    segments = models.PositiveSmallIntegerField(default=1)
    # Secrets (login codes) must not stay readable at rest: once the provider has the
    # message, `body` is replaced by this masked rendering.
    body_redacted = models.TextField(blank=True)

    related_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    related_id = models.CharField(max_length=64, blank=True)
    related = GenericForeignKey("related_type", "related_id")

    status = models.CharField(max_length=16, choices=SmsStatus.choices, default=SmsStatus.QUEUED)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    provider_sid = models.CharField(max_length=64, null=True, blank=True, unique=True)
    provider_status = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now, help_text="due time of the next attempt")
    # Claim order when messages wait for the provider's pace: lane, vulnerable first, oldest.
    lane = models.PositiveSmallIntegerField(
        default=int(Lane.STANDARD), choices=[(lane.value, lane.name) for lane in Lane],
        help_text="0 login, 1 life-safety, 2 standard, 3 courtesy (notifications/lanes.py).")
    is_vulnerable = models.BooleanField(default=False, help_text="The recipient is a vulnerable resident: first in its lane.")
    # Template values for providers that send approved templates only (Aliyun, Tencent);
    # secrets among them are masked with the body once the provider has the message.
    params = models.JSONField(default=dict, blank=True)
    route = models.CharField(max_length=16, default="*", help_text="The SMS_ROUTES prefix the number matched.")
    provider = models.CharField(max_length=16, blank=True, help_text="The provider that has (or may have) it.")
    # Set when an attempt may have reached the provider (timeout, 5xx): the next attempt
    # asks the provider first instead of resending blindly.
    reconcile_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)

    # Prompts (expects_reply): the reply router routes an answer back until reply_until.
    expects_reply = models.BooleanField(default=False)
    reply_code = models.CharField(max_length=4, blank=True)
    reply_until = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_intent = models.CharField(max_length=8, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["route", "lane", "-is_vulnerable", "id"], name="sms_claim_order_idx",
                         condition=Q(status="queued")),
            models.Index(fields=["status", "next_attempt_at"], name="sms_due_idx"),
            models.Index(fields=["phone", "expects_reply"], name="sms_prompt_idx", condition=Q(expects_reply=True, answered_at__isnull=True)),
            models.Index(fields=["related_type", "related_id"], name="sms_related_idx"),
            models.Index(fields=["status", "claimed_at"], name="sms_claimed_idx"),
        ]

    def __str__(self) -> str:
        return f"SMS {self.pk} {self.purpose} to {mask_phone(self.phone)} [{self.status}]"



class SmsStatusEvent(models.Model):
    """Every real transition of an SmsMessage, with who reported it (worker, callback, sweep)."""

    message = models.ForeignKey(SmsMessage, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, choices=SmsStatus.choices)
    to_status = models.CharField(max_length=16, choices=SmsStatus.choices)
    provider_status = models.CharField(max_length=32, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    source = models.CharField(max_length=16)
    note = models.CharField(max_length=200, blank=True, help_text="Why, when a person or a rule decided (superseded).")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"SMS {self.message_id}: {self.from_status} -> {self.to_status} ({self.source})"


class InboundSms(models.Model):
    """An SMS someone sent us, stored once per provider MessageSid (webhooks are retried)."""

    message_sid = models.CharField(max_length=64, unique=True)
    provider = models.CharField(max_length=16, default="twilio", help_text="Who carried it (twilio, aliyun, tencent).")
    phone = models.CharField(max_length=20, help_text="sender, E.164")
    to_phone = models.CharField(max_length=20, blank=True)
    body = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=32, blank=True)
    intent = models.CharField(max_length=8, blank=True)
    prompt = models.ForeignKey(SmsMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="answers")

    class Meta:
        verbose_name_plural = "inbound SMS"
        indexes = [models.Index(fields=["phone", "received_at"], name="inbound_phone_idx")]

    def __str__(self) -> str:
        return f"inbound {self.message_sid} [{self.outcome or 'pending'}]"


class SmsUnreachableNumber(models.Model):
    """A number carriers keep reporting as not reachable (空号, 停机, unknown handset: Twilio
    30003/30005/30006, the domestic providers' UNREACHABLE_CODES). After
    SMS_UNREACHABLE_AFTER_FAILURES failures in a row it is marked (`unreachable_since`):
    nothing more is texted to it (rows are REFUSED "unreachable", so fan-outs count the
    person unreachable and go another way) until a delivery succeeds, the number texts us,
    or SMS_UNREACHABLE_FORGET_DAYS pass."""

    phone = models.CharField(max_length=20, unique=True, help_text="E.164")
    failures = models.PositiveIntegerField(default=0, help_text="Unreachable reports since the last success.")
    last_code = models.CharField(max_length=64, blank=True)
    first_failed_at = models.DateTimeField(default=timezone.now)
    last_failed_at = models.DateTimeField(default=timezone.now)
    unreachable_since = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"unreachable {mask_phone(self.phone)} ({self.failures})"


class LoginCode(models.Model):
    """A one-time phone-login code, stored only as a keyed hash."""

    phone = models.CharField(max_length=20)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    superseded = models.BooleanField(default=False)
    client_address = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["phone", "created_at"], name="login_code_phone_idx")]

    def __str__(self) -> str:
        return f"login code for {mask_phone(self.phone)}"


class Notification(models.Model):
    """Something addressed to one user (push history), read or unread."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    body = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    is_drill = models.BooleanField(default=False)
    related_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    related_id = models.CharField(max_length=64, blank=True)
    related = GenericForeignKey("related_type", "related_id")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # What the app reported (acknowledgeNotification): shown on the phone (received), and
    # opened by the person (acknowledged). Acknowledged, or answered, is what "reached" means.
    received_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_history_idx"),
            models.Index(fields=["user"], name="notification_unread_idx", condition=Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for user {self.user_id}"


# --- devices and the push outbox (issue 15) -----------------------------------------------------
class DevicePlatform(models.TextChoices):
    IOS = "ios", "iOS"
    ANDROID = "android", "Android"


class PushProvider(models.TextChoices):
    APNS = "apns", "APNs"
    FCM = "fcm", "FCM"
    JPUSH = "jpush", "JPush"


class Device(models.Model):
    """A phone with the app that can be woken by push (notifications/devices.py).

    One row per (provider, token): a token registered again by someone else moves to them (a
    phone changed hands, or another account logged in on it). A device is live while it was
    seen (registered or acknowledged a push) within PUSH_DEVICE_TTL_DAYS; a token the provider
    calls invalid is deleted at once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices")
    platform = models.CharField(max_length=8, choices=DevicePlatform.choices)
    provider = models.CharField(max_length=8, choices=PushProvider.choices)
    token = models.CharField(max_length=512)
    app_version = models.CharField(max_length=32, blank=True)
    language = models.CharField(max_length=10, default="zh-hans")
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "token"], name="one_device_per_push_token")]
        indexes = [models.Index(fields=["user", "last_seen_at"], name="device_user_seen_idx")]

    def __str__(self) -> str:
        return f"{self.provider} device {self.pk} of user {self.user_id}"


class PushStatus(models.TextChoices):
    """queued < sending < sent | failed; refused (the device went away before it was sent) and
    superseded (what it said stopped being true) never leave queued."""

    QUEUED = "queued", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已提交"
    FAILED = "failed", "失败"
    REFUSED = "refused", "拒发"
    SUPERSEDED = "superseded", "已作废"


PUSH_TERMINAL = frozenset({PushStatus.SENT, PushStatus.FAILED, PushStatus.REFUSED, PushStatus.SUPERSEDED})


class DevicePush(models.Model):
    """One push to one device (the push outbox row): written with the Notification it wakes
    the phone for, in the caller's transaction, sent after commit (notifications/push_outbox.py)."""

    idempotency_key = models.CharField(max_length=255, unique=True)
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="pushes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="pushes")
    provider = models.CharField(max_length=8, choices=PushProvider.choices)
    purpose = models.CharField(max_length=64, help_text="The notification's kind.")
    collapse_key = models.CharField(max_length=128, blank=True)
    lane = models.PositiveSmallIntegerField(default=int(Lane.STANDARD), choices=[(lane.value, lane.name) for lane in Lane])
    is_vulnerable = models.BooleanField(default=False)
    is_drill = models.BooleanField(default=False)
    related_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    related_id = models.CharField(max_length=64, blank=True)
    related = GenericForeignKey("related_type", "related_id")

    status = models.CharField(max_length=16, choices=PushStatus.choices, default=PushStatus.QUEUED)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    provider_id = models.CharField(max_length=128, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["provider", "lane", "-is_vulnerable", "id"], name="push_claim_order_idx",
                         condition=Q(status="queued")),
            models.Index(fields=["status", "claimed_at"], name="push_claimed_idx"),
            models.Index(fields=["related_type", "related_id"], name="push_related_idx"),
        ]

    def __str__(self) -> str:
        return f"push {self.pk} {self.purpose} via {self.provider} [{self.status}]"


# --- voice calls (issue 15) ----------------------------------------------------------------------
class CallStatus(models.TextChoices):
    """queued < calling < answered | unanswered | failed; superseded never leaves queued."""

    QUEUED = "queued", "待呼叫"
    CALLING = "calling", "呼叫中"
    ANSWERED = "answered", "已按键"
    UNANSWERED = "unanswered", "未按键"
    FAILED = "failed", "失败"
    SUPERSEDED = "superseded", "已作废"


class VoiceCall(models.Model):
    """One voice call asking a question answered with a key (notifications/voice_outbox.py).
    Busy and no-answer are retried up to VOICE_MAX_ATTEMPTS; a call picked up where nobody
    pressed a key is UNANSWERED (not an answer)."""

    idempotency_key = models.CharField(max_length=255, unique=True)
    phone = models.CharField(max_length=20, help_text="E.164")
    route = models.CharField(max_length=16, help_text="domestic or international (notifications.voice.voice_route)")
    purpose = models.CharField(max_length=64)
    script = models.CharField(max_length=100)
    params = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=10, default="zh-hans")
    is_drill = models.BooleanField(default=False)
    is_vulnerable = models.BooleanField(default=False)
    related_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    related_id = models.CharField(max_length=64, blank=True)
    related = GenericForeignKey("related_type", "related_id")

    status = models.CharField(max_length=16, choices=CallStatus.choices, default=CallStatus.QUEUED)
    provider_sid = models.CharField(max_length=128, blank=True)
    provider_status = models.CharField(max_length=32, blank=True)
    digits = models.CharField(max_length=8, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    placed_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["route", "-is_vulnerable", "id"], name="call_claim_order_idx",
                         condition=Q(status="queued")),
            models.Index(fields=["related_type", "related_id"], name="call_related_idx"),
            models.Index(fields=["status", "claimed_at"], name="call_claimed_idx"),
        ]

    def __str__(self) -> str:
        return f"call {self.pk} {self.purpose} to {mask_phone(self.phone)} [{self.status}]"
