"""What community holds about a person, for their export (privacy.my_data): the account, the
resident profile (not staff's care notes, which are staff's working notes — see
community.privacy), emergency contacts, consents, reports, and who read their record."""

from __future__ import annotations

from typing import Any

from privacy.models import AccessLog, SubjectKind
from privacy.my_data import Row, register_section, rows

from .models import (
    VULNERABILITY_FLAGS,
    ConsentRecord,
    EmergencyContact,
    Resident,
    ResidentReport,
    User,
)


def account(user: User) -> list[Row]:
    return rows(User.objects.filter(pk=user.pk), ["username", "display_name", "phone", "email", "preferred_language",
                                                  "date_joined", "last_login"])


def _residents(user: User) -> Any:
    return Resident.objects.filter(user=user)


def resident(user: User) -> list[Row]:
    return rows(_residents(user), ["id", "display_name", "phone", "address", "lat", "lng", "grid__name", "household__label",
                                   "languages", "preferred_language", "consent_to_contact", "consent_recorded_at",
                                   "sensitive_basis", "sensitive_basis_at", *VULNERABILITY_FLAGS, "created_at", "updated_at"])


def contacts(user: User) -> list[Row]:
    return rows(EmergencyContact.objects.filter(resident__user=user), ["name", "phone", "relation", "created_at"])


def consents(user: User) -> list[Row]:
    return rows(ConsentRecord.objects.filter(resident__user=user).order_by("at", "id"),
                ["kind", "granted", "text_version", "channel", "legal_basis", "at"])


def reports(user: User) -> list[Row]:
    return rows(ResidentReport.objects.filter(reporter=user).order_by("created_at", "id"),
                ["kind", "description", "status", "status_note", "created_at"])


def record_reads(user: User) -> list[Row]:
    mine = list(_residents(user).values_list("pk", flat=True))
    reads = AccessLog.objects.filter(subject_kind=SubjectKind.RESIDENT, subject_id__in=mine).exclude(actor_id=user.pk)
    return rows(reads.order_by("at", "id"), ["at", "actor_name", "role", "channel", "operation", "fields"])


def register_all() -> None:
    for name, section in (("account", account), ("resident", resident), ("emergency_contacts", contacts),
                          ("consents", consents), ("reports", reports), ("who_read_my_record", record_reads)):
        register_section(name, section)
