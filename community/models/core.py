"""Accounts, the area hierarchy, staff roles, mode switches and idempotency records.

The user model lives here because the community is where people belong; every other app
refers to it through settings.AUTH_USER_MODEL.
"""

from __future__ import annotations

import re
import secrets
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField
from treebeard.mp_tree import MP_Node

from core.masking import mask_phone


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


class LinliUserManager(UserManager["User"]):
    def get_by_phone(self, phone: str) -> User | None:
        return self.filter(phone=phone).first()


class User(AbstractUser):
    """A person who can log in: staff by username/password, residents and volunteers by phone."""

    phone = PhoneNumberField(unique=True, null=True, blank=True, help_text="E.164, e.g. +8613800138000")
    display_name = models.CharField(max_length=100, blank=True)
    preferred_language = models.CharField(
        max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )

    objects: ClassVar[LinliUserManager] = LinliUserManager()

    def __str__(self) -> str:
        return self.public_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # An account made for a phone login gets an opaque username: it travels in every
        # access token and must not be the number.
        if not self.username:
            self.username = generated_username()
        super().save(*args, **kwargs)

    @property
    def masked_phone(self) -> str:
        return mask_phone(str(self.phone)) if self.phone else ""

    @property
    def public_name(self) -> str:
        """What others are shown: the display name; else the username a person chose (staff);
        never a username the system made for a phone login (older ones hold the number)."""
        if self.display_name:
            return self.display_name
        if self.username and not GENERATED_USERNAME.match(self.username):
            return self.username
        return self.masked_phone or f"用户{self.pk}"


# Usernames made for phone logins: "u-<hex>" now; "p<digits>" (the phone number) before.
GENERATED_USERNAME = re.compile(r"^(u-[0-9a-f]+|p\d{6,}(-[0-9a-f]+)?)$")


def generated_username() -> str:
    return f"u-{secrets.token_hex(8)}"


class AreaKind(models.TextChoices):
    CITY = "city", "市"
    DISTRICT = "district", "区"
    SUBDISTRICT = "subdistrict", "街道"
    COMMUNITY = "community", "社区"
    GRID = "grid", "网格"


AREA_KIND_DEPTH = {
    AreaKind.CITY: 1,
    AreaKind.DISTRICT: 2,
    AreaKind.SUBDISTRICT: 3,
    AreaKind.COMMUNITY: 4,
    AreaKind.GRID: 5,
}


class Mode(models.TextChoices):
    NORMAL = "NORMAL", "平时"
    STANDBY = "STANDBY", "预警"
    EMERGENCY = "EMERGENCY", "应急"
    RECOVERY = "RECOVERY", "恢复"


# Severity decides the effective mode: the most severe of an area's own and its ancestors'.
MODE_SEVERITY = {Mode.NORMAL: 0, Mode.RECOVERY: 1, Mode.STANDBY: 2, Mode.EMERGENCY: 3}


class Area(MP_Node):
    """A node of city › district › subdistrict › community › grid (materialised path).

    Subtree = path prefix; ancestors = the path's prefixes. Both are one indexed query.
    """

    name = models.CharField(max_length=100)
    code = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=AreaKind.choices)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.NORMAL)
    mode_changed_at = models.DateTimeField(default=timezone.now)
    center_lat = models.FloatField(null=True, blank=True)
    center_lng = models.FloatField(null=True, blank=True)
    # The area's shape: a GeoJSON MultiPolygon in WGS-84 ([lng, lat] pairs), validated and
    # written only by community.boundaries; null: no shape of its own (a community may be
    # the union of its grids; a grid without one falls back to its nearest centre).
    boundary = models.JSONField(null=True, blank=True, editable=False)
    boundary_updated_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)

    node_order_by = ["code"]

    class Meta:
        indexes = [models.Index(fields=["kind"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def ancestor_paths(self) -> list[str]:
        """Paths of this area and all its ancestors, root first."""
        return [self.path[: i] for i in range(self.steplen, len(self.path) + 1, self.steplen)]

    def ancestors_and_self(self) -> models.QuerySet[Area]:
        return Area.objects.filter(path__in=self.ancestor_paths()).order_by("depth")

    def subtree(self) -> models.QuerySet[Area]:
        return Area.objects.filter(path__startswith=self.path)

    def effective_mode(self) -> str:
        modes = self.ancestors_and_self().values_list("mode", flat=True)
        return max(modes, key=lambda m: MODE_SEVERITY[Mode(m)], default=Mode.NORMAL)

    def contains(self, other: Area) -> bool:
        return other.path.startswith(self.path)


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", "网格员"
    COMMUNITY_ADMIN = "community_admin", "社区管理员"
    DISTRICT_COMMANDER = "district_commander", "区/街道指挥"
    # Reads the access log of its subtree (PIPL art. 54 compliance audits); sees no one.
    AUDITOR = "auditor", "个人信息审计员"


# Which kinds of area each role may be assigned to.
ROLE_AREA_KINDS = {
    Role.GRID_WORKER: {AreaKind.GRID},
    Role.COMMUNITY_ADMIN: {AreaKind.COMMUNITY},
    Role.DISTRICT_COMMANDER: {AreaKind.CITY, AreaKind.DISTRICT, AreaKind.SUBDISTRICT},
    Role.AUDITOR: {AreaKind.CITY, AreaKind.DISTRICT, AreaKind.SUBDISTRICT, AreaKind.COMMUNITY},
}


class RoleAssignment(models.Model):
    """A staff role held over an area's subtree."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "area", "role"], name="unique_role_per_area")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()} @ {self.area.name}"

    def clean(self) -> None:
        if self.area_id and self.area.kind not in ROLE_AREA_KINDS[Role(self.role)]:
            raise ValidationError({"area": f"A {self.role} is assigned to a {' or '.join(ROLE_AREA_KINDS[Role(self.role)])}."})


class ModeSwitch(models.Model):
    """Every mode switch, as it happened: who, when, why, drill or not."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="mode_switches")
    from_mode = models.CharField(max_length=16, choices=Mode.choices)
    to_mode = models.CharField(max_length=16, choices=Mode.choices)
    reason = models.TextField(blank=True)
    is_drill = models.BooleanField(default=False)
    switched_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    switched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "mode switches"
        indexes = [models.Index(fields=["area", "switched_at"])]
        ordering = ["switched_at", "id"]

    def __str__(self) -> str:
        return f"{self.area.name}: {self.from_mode} -> {self.to_mode}"


class IdempotencyRecord(models.Model):
    """The first result of a mutation sent with a client idempotency key (principle 3).

    A replay with the same key and the same input returns the stored result; the same key
    with a different input is refused. Kept at least 72 hours (see mobile_api_docs).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    operation = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    result = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="unique_idempotency_key_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.key}"
