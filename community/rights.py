"""A person's requests about their own data (PIPL art. 46, 47), tracked to an answer.

    request_correction(user, field="address", value="...", reason="")   -> RightsRequest
    request_erasure(user, reason="")                                     -> RightsRequest
    answer_request(request, by=staff, done=True, answer="...")           # staff of the grid

Answering an erasure with done=True erases the person (erase_person): the account is
closed and stripped, the resident record anonymised, contacts and notification history
deleted, and every app's registered eraser run (privacy.erasure: devices, pushes, calls and
SMS to the person's numbers). What a legal duty keeps (service hours, safety-check figures,
the access log, consent history) stays, pseudonymous; staff refuse (done=False) with the
reason when the duty keeps more. A correction is made by staff (updateResident) and then answered.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import field_error
from core.text import clean_text
from privacy.erasure import erase_registered

from .error_codes import CommunityErrorCode
from .models import (
    VULNERABILITY_FLAGS,
    EmergencyContact,
    Resident,
    RightsRequest,
    RightsRequestKind,
    RightsRequestStatus,
    User,
)
from .privacy import forget_cached_home

CORRECTABLE = ("display_name", "phone", "address", "location", "languages", "vulnerability", "emergency_contacts",
               "household", "other")
ERASED_NAME = "已注销居民"


def _new(user: User, kind: str, **fields: str) -> RightsRequest:
    resident = Resident.objects.filter(user=user).select_related("grid").first()
    try:
        with transaction.atomic():
            return RightsRequest.objects.create(kind=kind, requester=user, resident=resident,
                                                grid=resident.grid if resident else None, **fields)
    except IntegrityError as exc:
        raise field_error(None, "The same request is already waiting for an answer.",
                          CommunityErrorCode.ALREADY_REQUESTED) from exc


def request_correction(user: User, *, field: str, value: str, reason: str = "") -> RightsRequest:
    if field not in CORRECTABLE:
        raise field_error("field", f"One of: {', '.join(CORRECTABLE)}.", CommunityErrorCode.INVALID)
    value = clean_text(value, "value", 2000, required=True)
    return _new(user, RightsRequestKind.CORRECTION, field=field, requested_value=value,
                reason=clean_text(reason, "reason", 2000))


def request_erasure(user: User, *, reason: str = "") -> RightsRequest:
    return _new(user, RightsRequestKind.ERASURE, reason=clean_text(reason, "reason", 2000))


def answer_request(request: RightsRequest, *, by: User, done: bool, answer: str) -> RightsRequest:
    """Close an open request (exactly once: two staff answering at once, one wins)."""
    answer = clean_text(answer, "answer", 2000, required=True)
    with transaction.atomic():
        status = RightsRequestStatus.DONE if done else RightsRequestStatus.REFUSED
        now = timezone.now()
        if not RightsRequest.objects.filter(pk=request.pk, status=RightsRequestStatus.OPEN).update(
                status=status, answer=answer, handled_by=by, answered_at=now):
            raise field_error("id", "This request has already been answered.", CommunityErrorCode.ALREADY_ANSWERED)
        if done and request.kind == RightsRequestKind.ERASURE:
            erase_person(request.requester)
    request.refresh_from_db()
    return request


def erase_person(user: User) -> None:
    """Close the account and strip what identifies the person (in the caller's transaction)."""
    # First, while the numbers are still on record: what other apps hold about the person
    # (devices, pushes, calls and SMS to their numbers: privacy.erasure).
    erase_registered(user)
    for resident in Resident.objects.select_for_update().filter(user=user):
        EmergencyContact.objects.filter(resident=resident).delete()
        resident.display_name, resident.phone, resident.address = ERASED_NAME, None, ""
        resident.set_location(None, None)
        resident.household, resident.languages, resident.care_notes = None, [], ""
        for flag in VULNERABILITY_FLAGS:
            setattr(resident, flag, False)
        resident.consent_to_contact, resident.sensitive_basis, resident.user = False, "", None
        resident.save()
    user.notifications.all().delete()
    refresh_tokens = getattr(user, "refresh_tokens", None)  # graphql_jwt's: no session survives
    if refresh_tokens is not None:
        refresh_tokens.all().delete()
    user.username = f"erased-{user.pk}"
    user.phone, user.display_name, user.email, user.first_name, user.last_name = None, "", "", "", ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    forget_cached_home(user)
