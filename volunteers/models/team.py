"""Emergency teams (应急队伍): professional rescue teams, property-management staff, militia and
volunteer teams kept ready as units — a leader, members, skills and a duty status.

A task can be offered to a team as a whole: the offer goes to the leader, who accepts for a
number of people (volunteers.services.teams). Members need no account (militia and property
staff are often reached only through their leader); a member who has one is linked.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from community.models import Area


class TeamKind(models.TextChoices):
    RESCUE = "RESCUE", "专业救援队"
    PROPERTY = "PROPERTY", "物业人员"
    MILITIA = "MILITIA", "民兵"
    VOLUNTEER = "VOLUNTEER", "志愿者队伍"


class TeamDutyStatus(models.TextChoices):
    ON_DUTY = "ON_DUTY", "在岗待命"
    OFF_DUTY = "OFF_DUTY", "休整"
    DEPLOYED = "DEPLOYED", "执行任务中"


class Team(models.Model):
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="teams", help_text="Where the team serves.")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=TeamKind.choices)
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="led_teams")
    skills = models.ManyToManyField("volunteers.Skill", blank=True, related_name="+")
    duty_status = models.CharField(max_length=16, choices=TeamDutyStatus.choices, default=TeamDutyStatus.ON_DUTY)
    duty_changed_at = models.DateTimeField(default=timezone.now)
    notes = models.CharField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["area_id", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["area", "name"], name="unique_team_name_per_area")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def size(self) -> int:
        """People the leader can send: the members, the leader among them or not."""
        members = self.members.all()
        linked_leader = any(m.user_id == self.leader_id for m in members)
        return len(members) + (0 if linked_leader else 1)


class TeamMember(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="team_memberships")
    name = models.CharField(max_length=100)
    phone = PhoneNumberField(null=True, blank=True)
    role = models.CharField(max_length=50, blank=True, help_text="e.g. 副队长, 驾驶员, 医护")
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], condition=Q(user__isnull=False), name="unique_team_member_user"),
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.team_id}"
