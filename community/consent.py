"""Consent (PIPL art. 14, 29): to be contacted, and separately to sensitive information.

    record_consent(resident, kind=ConsentKind.CONTACT, granted=True, text_version="2026-12",
                   channel=ConsentChannel.APP, by=user)
    check_sensitive_basis(resident, values, legal_basis, by_staff=True)  # before staff save

- consent_to_contact governs non-emergency messages: may_contact(resident, emergency=False).
  Emergency messages (life-safety alerts, safety checks, welfare visits) go regardless.
- Sensitive information (vulnerability flags, care notes) is held under the resident's
  separate consent or a legal basis staff give when they record it without consent
  (statutory duty, emergency); the basis is kept on the resident and in the history.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import field_error

from .error_codes import CommunityErrorCode
from .models import (
    VULNERABILITY_FLAGS,
    ConsentChannel,
    ConsentKind,
    ConsentRecord,
    LegalBasis,
    Resident,
    User,
)

# What staff may give as the basis of recording without consent.
STAFF_BASES = (LegalBasis.STATUTORY_DUTY, LegalBasis.EMERGENCY)

TEXTS = {
    ConsentKind.CONTACT: {
        "zh-hans": "我同意社区通过短信、电话联系我，告知预警以外的社区通知、演练和服务信息。我可以随时撤回。",
        "en": "I agree that the community may contact me by SMS or phone with notices, drills and services other "
              "than emergency warnings. I may withdraw at any time.",
    },
    ConsentKind.SENSITIVE_INFORMATION: {
        "zh-hans": "我单独同意社区处理我的敏感个人信息（独居、残疾、行动不便、用电或用药需要、孕期、照护备注），"
                   "仅用于紧急情况下优先联系和救助；只有负责本网格的工作人员可以查看，每次查看都有记录。我可以随时撤回。",
        "en": "I separately agree that the community processes my sensitive personal information (living alone, "
              "disability, reduced mobility, power or medicine needs, pregnancy, care notes) only to reach and help me "
              "first in an emergency; only the staff of my grid can see it, and every look is recorded. I may withdraw "
              "at any time.",
    },
}


def current_version(kind: str) -> str:
    return str(settings.CONSENT_TEXT_VERSIONS[kind])


def consent_text(kind: str, language: str) -> str:
    texts = TEXTS[ConsentKind(kind)]
    return texts["en"] if language == "en" else texts["zh-hans"]


def has_sensitive_values(values: dict[str, Any]) -> bool:
    return any(values.get(flag) for flag in VULNERABILITY_FLAGS) or bool(values.get("care_notes"))


def may_contact(resident: Resident, *, emergency: bool) -> bool:
    """May a message be sent to this resident? Emergencies always; anything else with consent."""
    return emergency or resident.consent_to_contact


def check_sensitive_basis(resident: Resident | None, values: dict[str, Any], legal_basis: str | None) -> str | None:
    """Staff are about to record `values`. The basis to keep, or None when none is needed
    (nothing sensitive, or the resident already consented or has a basis on record).
    Raises LEGAL_BASIS_REQUIRED when sensitive values come without one."""
    if legal_basis:
        if legal_basis not in STAFF_BASES:
            raise field_error("legal_basis", "Choose statutory_duty or emergency.", CommunityErrorCode.INVALID)
    if not has_sensitive_values(values):
        return legal_basis or None
    if resident is not None and resident.sensitive_basis and not legal_basis:
        return None
    if not legal_basis:
        raise field_error("legal_basis", "The resident has not consented to sensitive information: give the legal basis.",
                          CommunityErrorCode.LEGAL_BASIS_REQUIRED)
    return legal_basis


def keep_basis(resident: Resident, basis: str | None, *, by: User | None) -> None:
    """Keep a basis staff gave with the record (after the resident is saved, same transaction)."""
    if not basis or resident.sensitive_basis == LegalBasis.CONSENT:
        return
    now = timezone.now()
    Resident.objects.filter(pk=resident.pk).update(sensitive_basis=basis, sensitive_basis_at=now)
    resident.sensitive_basis, resident.sensitive_basis_at = basis, now
    ConsentRecord.objects.create(resident=resident, kind=ConsentKind.SENSITIVE_INFORMATION, granted=False,
                                 channel=ConsentChannel.STAFF, legal_basis=basis, recorded_by=by, at=now)


def record_consent(resident: Resident, *, kind: str, granted: bool, text_version: str, channel: str,
                   by: User) -> ConsentRecord:
    """A consent given or withdrawn (by the resident in the app, or by staff from paper, a call
    or a visit). The text version must be the one in force."""
    try:
        kind, channel = ConsentKind(kind), ConsentChannel(channel)
    except ValueError as exc:
        raise field_error(None, "Unknown consent kind or channel.", CommunityErrorCode.INVALID) from exc
    if channel == ConsentChannel.STAFF:
        raise field_error("channel", "A consent comes from the resident: app, paper, phone_call or in_person.",
                          CommunityErrorCode.INVALID)
    if text_version != current_version(kind):
        raise field_error("text_version", f"The consent text in force is version {current_version(kind)}.",
                          CommunityErrorCode.CONSENT_TEXT_OUTDATED)
    now = timezone.now()
    with transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=resident.pk)
        record = ConsentRecord.objects.create(resident=locked, kind=kind, granted=granted, text_version=text_version,
                                              channel=channel, legal_basis=LegalBasis.CONSENT if granted else "",
                                              recorded_by=by, at=now)
        if kind == ConsentKind.CONTACT:
            locked.consent_to_contact, locked.consent_recorded_at = granted, now
            locked.save(update_fields=["consent_to_contact", "consent_recorded_at", "updated_at"])
        else:
            if granted:
                locked.sensitive_basis, locked.sensitive_basis_at = LegalBasis.CONSENT, now
            elif locked.sensitive_basis == LegalBasis.CONSENT:  # withdrawn: staff need a basis from now on
                locked.sensitive_basis, locked.sensitive_basis_at = "", now
            locked.save(update_fields=["sensitive_basis", "sensitive_basis_at", "updated_at"])
    return record
