"""Residents, their households and emergency contacts (the risk census of who lives where).

A resident is a person living in a grid. Many have no phone or app (elderly people are often
registered by their grid worker), so `user` is optional and `phone` is the SMS number even
without an account. Vulnerability is six separate flags plus a stored `is_vulnerable` kept in
step by `refresh_vulnerability()` (called by save() and by every bulk path), so lists can put
vulnerable people first from an index.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from privacy.crypto import BlindIndexField, EncryptedTextField

from ..geo import Located
from .core import Area, Language, User

VULNERABILITY_FLAGS: tuple[str, ...] = (
    "elderly_living_alone",
    "disabled",
    "reduced_mobility",
    "needs_power_or_medicine",
    "pregnant",
    "young_children",
)


class GeocodeStatus(models.TextChoices):
    NOT_NEEDED = "not_needed", "无需"  # has a location from the app, staff or import
    PENDING = "pending", "待解析"  # waiting for (or retrying) the geocoder
    DONE = "done", "已解析"
    FAILED = "failed", "无法解析"  # the geocoder found nothing: place it by hand


class LocationSource(models.TextChoices):
    NONE = "", "无"
    APP = "app", "居民定位"
    STAFF = "staff", "工作人员"
    GEOCODER = "geocoder", "地址解析"


class ConsentKind(models.TextChoices):
    CONTACT = "contact", "联系同意"  # non-emergency messages (SMS, voice)
    SENSITIVE_INFORMATION = "sensitive_information", "敏感个人信息单独同意"  # PIPL art. 29


class ConsentChannel(models.TextChoices):
    APP = "app", "应用内"
    PAPER = "paper", "纸质签字"
    PHONE_CALL = "phone_call", "电话"
    IN_PERSON = "in_person", "当面"
    STAFF = "staff", "工作人员登记（依法定事由）"  # a legal basis recorded by staff, not a consent


class LegalBasis(models.TextChoices):
    """Why sensitive information of a resident is held (PIPL art. 13, 28)."""

    CONSENT = "consent", "本人单独同意"
    STATUTORY_DUTY = "statutory_duty", "履行法定职责"
    EMERGENCY = "emergency", "紧急情况下保护生命健康"


class Household(models.Model):
    """A household (户): people at one address who are checked on together."""

    grid = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="households")
    label = models.CharField(max_length=100, help_text="e.g. 3幢2单元301")
    address = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grid", "label"], name="unique_household_label_per_grid")
        ]

    def __str__(self) -> str:
        return self.label


class ResidentQuerySet(models.QuerySet["Resident"]):
    def in_area(self, area: Area) -> ResidentQuerySet:
        """Residents of `area`'s subtree (one indexed path-prefix filter)."""
        return self.filter(grid__path__startswith=area.path)

    def vulnerable(self) -> ResidentQuerySet:
        return self.filter(is_vulnerable=True)

    def using_app(self) -> ResidentQuerySet:
        return self.filter(user__isnull=False, user__is_active=True)

    def vulnerable_first(self) -> ResidentQuerySet:
        return self.order_by("-is_vulnerable", "display_name", "id")


class Resident(Located):
    """A person living in a grid, with or without a phone or the app."""

    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="resident"
    )
    display_name = models.CharField(max_length=100)
    phone = PhoneNumberField(null=True, blank=True, help_text="SMS number, even without an account")
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    address = models.CharField(max_length=255, blank=True)
    grid = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="residents")
    grid_overridden = models.BooleanField(
        default=False, help_text="Staff chose the grid: a new location does not re-derive it."
    )
    languages = models.JSONField(default=list, blank=True, help_text="Spoken languages/dialects")
    preferred_language = models.CharField(
        max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )
    consent_to_contact = models.BooleanField(default=False, help_text="Non-emergency messages may be sent.")
    consent_recorded_at = models.DateTimeField(null=True, blank=True)
    # Sensitive information (vulnerability, care notes): held under the resident's separate
    # consent or a legal basis staff gave when recording it (ConsentRecord keeps the history).
    sensitive_basis = models.CharField(max_length=16, choices=LegalBasis.choices, blank=True)
    sensitive_basis_at = models.DateTimeField(null=True, blank=True)

    elderly_living_alone = models.BooleanField(default=False)
    disabled = models.BooleanField(default=False)
    reduced_mobility = models.BooleanField(default=False, help_text="bedridden or reduced mobility")
    needs_power_or_medicine = models.BooleanField(default=False)
    pregnant = models.BooleanField(default=False)
    young_children = models.BooleanField(default=False)
    is_vulnerable = models.BooleanField(default=False, db_index=True, editable=False)
    # Cannot read or answer an SMS (poor sight, cannot read, elderly living alone who never
    # texts): safety checks call them at once (a voice question answered with a key) instead
    # of texting them (notifications/ladder.py).
    prefers_voice = models.BooleanField(default=False, help_text="Called instead of texted (cannot read SMS).")
    # Encrypted at rest (privacy/crypto.py): never filtered or searched in SQL.
    care_notes = EncryptedTextField(blank=True, help_text="Staff of the resident's area only")

    location_source = models.CharField(
        max_length=16, choices=LocationSource.choices, default=LocationSource.NONE, blank=True
    )
    geocode_status = models.CharField(
        max_length=16, choices=GeocodeStatus.choices, default=GeocodeStatus.NOT_NEEDED
    )
    geocode_attempts = models.PositiveIntegerField(default=0)
    geocode_next_attempt_at = models.DateTimeField(null=True, blank=True)
    geocode_error = models.CharField(max_length=255, blank=True)

    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ResidentQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["grid", "is_vulnerable"]),
            models.Index(fields=["geocode_status", "geocode_next_attempt_at"]),
        ]
        constraints = [
            # One resident per phone: the natural key of roster imports and SMS replies.
            models.UniqueConstraint(
                fields=["phone"], condition=Q(phone__isnull=False), name="unique_resident_phone"
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_vulnerability()
        if not self.phone:
            self.phone = None  # empty input must not collide on the unique constraint
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and set(update_fields) & set(VULNERABILITY_FLAGS):
            kwargs["update_fields"] = set(update_fields) | {"is_vulnerable"}
        super().save(*args, **kwargs)

    def refresh_vulnerability(self) -> bool:
        self.is_vulnerable = any(getattr(self, flag) for flag in VULNERABILITY_FLAGS)
        return self.is_vulnerable

    @property
    def vulnerability_flags(self) -> list[str]:
        return [flag for flag in VULNERABILITY_FLAGS if getattr(self, flag)]

    @property
    def sms_phone(self) -> str | None:
        """The number to text: the resident's own, else their account's."""
        if self.phone:
            return str(self.phone)
        if self.user is not None and self.user.phone:
            return str(self.user.phone)
        return None

    @property
    def uses_app(self) -> bool:
        """Linked to an active account. Accounts of residents are created by phone login from
        the app and linked by registerMyResidentProfile, so a link means the app is in use;
        residents registered by staff have none and are reached by SMS or in person."""
        return self.user is not None and self.user.is_active

    @property
    def language(self) -> str:
        return self.preferred_language or Language.ZH_HANS


class ConsentRecord(models.Model):
    """Every consent given or withdrawn, and every legal basis staff gave, as it happened:
    which text (version) the person agreed to, when, through which channel, who recorded it."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=24, choices=ConsentKind.choices)
    granted = models.BooleanField(help_text="Given (true) or withdrawn (false); false with a legal basis for staff records.")
    text_version = models.CharField(max_length=32, blank=True, help_text="The consent text shown (settings.CONSENT_TEXT_VERSIONS).")
    channel = models.CharField(max_length=16, choices=ConsentChannel.choices)
    legal_basis = models.CharField(max_length=16, choices=LegalBasis.choices, blank=True)
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["resident", "kind", "-at"], name="consent_resident_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {'granted' if self.granted else 'withdrawn'} for resident {self.resident_id}"


class EmergencyContact(models.Model):
    """Someone who may answer for a resident: a household member, a neighbour, a relative."""

    class Relation(models.TextChoices):
        FAMILY = "family", "家人"
        NEIGHBOUR = "neighbour", "邻居"
        FRIEND = "friend", "朋友"
        CARER = "carer", "护工"
        OTHER = "other", "其他"

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="emergency_contacts")
    name = models.CharField(max_length=100)
    # A third party's number (PIPL: they never gave it to us): encrypted at rest, found by its
    # keyed hash (privacy/crypto.py). E.164, validated by the services before it is stored.
    phone = EncryptedTextField(null=True, blank=True)
    phone_hash = BlindIndexField(source="phone")
    relation = models.CharField(max_length=16, choices=Relation.choices, default=Relation.OTHER)
    linked_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.SET_NULL, related_name="contact_for"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relation_display()})"

    @property
    def sms_phone(self) -> str | None:
        if self.phone:
            return str(self.phone)
        if self.linked_resident is not None:
            return self.linked_resident.sms_phone
        if self.linked_user is not None and self.linked_user.phone:
            return str(self.linked_user.phone)
        return None


class GeocodeCacheEntry(models.Model):
    """A geocoder answer for a normalised address (Nominatim's policy requires caching).

    `found` False records "the provider knows no such address", so it is not asked again.
    """

    key = models.CharField(max_length=64, unique=True, help_text="sha256(provider + address)")
    provider = models.CharField(max_length=32)
    address = models.CharField(max_length=255)
    found = models.BooleanField()
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "geocode cache entries"

    def __str__(self) -> str:
        return f"{self.provider}: {self.address}"
