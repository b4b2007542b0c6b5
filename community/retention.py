"""What community keeps and for how long (privacy.retention; settings.RETENTION_DAYS):
idempotency records (a mutation's stored answer, often with personal data) and codes texted
to prove a new phone number are deleted once expired."""

from __future__ import annotations

from datetime import datetime

from privacy.retention import in_batches, register

from .models import IdempotencyRecord, PhoneVerification


def delete_idempotency_records(cutoff: datetime) -> int:
    return in_batches(IdempotencyRecord.objects.filter(created_at__lt=cutoff), lambda rows: rows.delete()[0])


def delete_phone_verifications(cutoff: datetime) -> int:
    return in_batches(PhoneVerification.objects.filter(created_at__lt=cutoff), lambda rows: rows.delete()[0])


def register_all() -> None:
    register("idempotency_records", delete_idempotency_records)
    register("login_codes", delete_phone_verifications)
