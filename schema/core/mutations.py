"""BaseMutation: login by default, ValidationError -> typed errors, idempotency keys.

A mutation subclass declares its arguments and implements `perform_mutation`, which resolves
IDs (schema.core.lookup.get_node_or_error), checks permission (schema.core.permissions.require),
calls one service and returns the payload. Services raise django ValidationError(code=...); this base turns it into
`errors: [Error!]!` and rolls the transaction back, so a failed mutation changes nothing.

With `idempotent = True` in Meta the mutation takes `idempotencyKey`; the first successful
result is stored (model references by primary key, plain values as they are) and a replay
returns it instead of acting twice. A perform_mutation that names an `idempotency_key`
parameter receives the key too (a service that deduplicates by its own client key); with
`own_idempotency = True` as well, no record is kept: the service's own deduplication is the
only one (the hot path of a safety-check answer saves three statements that way).
"""

from __future__ import annotations

import hashlib
import inspect
import json

import graphene
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from graphene.types.mutation import MutationOptions

from community.models import IdempotencyRecord
from core.errors import ValidationError as CodedValidationError

from .errors import CommonErrorCode, Error, validation_error_to_list
from .permissions import current_user
from .throttle import Throttle, check_throttle


class BaseMutationOptions(MutationOptions):
    login_required = True
    idempotent = False
    # A payload returned with errors rolls back what the mutation wrote, unless the write
    # is the point (a counted failed login attempt must stick). Raised errors always roll back.
    commit_returned_errors = False
    throttle: Throttle | None = None
    wants_key = False
    # The service deduplicates by the key itself (its own client-key record, e.g. a safety
    # answer's): no IdempotencyRecord is written, the key is passed to perform_mutation.
    own_idempotency = False


class BaseMutation(graphene.Mutation):
    errors = graphene.List(graphene.NonNull(Error), required=True)

    class Meta:
        abstract = True

    @classmethod
    def __init_subclass_with_meta__(
        cls, login_required=True, idempotent=False, commit_returned_errors=False, throttle=None,
        own_idempotency=False, arguments=None, _meta=None, **options
    ):
        if not _meta:
            _meta = BaseMutationOptions(cls)
        _meta.login_required = login_required
        _meta.idempotent = idempotent
        _meta.commit_returned_errors = commit_returned_errors
        _meta.throttle = throttle
        _meta.own_idempotency = own_idempotency
        _meta.wants_key = "idempotency_key" in inspect.signature(cls.perform_mutation).parameters
        if idempotent:
            input_class = getattr(cls, "Arguments", None)
            arguments = dict(arguments or {})
            if input_class is not None:
                arguments.update(
                    {k: v for k, v in vars(input_class).items() if not k.startswith("_")}
                )
            arguments["idempotency_key"] = graphene.String(
                description="Client-generated key (a UUID); a replay returns the first result."
            )
        super().__init_subclass_with_meta__(arguments=arguments, _meta=_meta, **options)

    @classmethod
    def perform_mutation(cls, root, info, **data):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def mutate(cls, root, info, **data):
        if cls._meta.login_required:
            current_user(info)
        if cls._meta.throttle is not None:
            check_throttle(cls._meta.throttle, info, getattr(info.context, "user", None))
        key = data.pop("idempotency_key", None) if cls._meta.idempotent else None
        if cls._meta.wants_key:
            data["idempotency_key"] = key or ""
        try:
            if key and cls._meta.own_idempotency:
                try:
                    return cls._mutate_atomically(root, info, data)
                except IntegrityError:  # a concurrent twin with the same key committed first: replay it
                    return cls._mutate_atomically(root, info, data)
            if key:
                return cls._mutate_idempotent(root, info, key, data)
            return cls._mutate_atomically(root, info, data)
        except ValidationError as exc:
            return cls(errors=validation_error_to_list(exc))

    @classmethod
    def _mutate_atomically(cls, root, info, data: dict):
        """Each mutation is its own transaction (a savepoint when inside one): a payload with
        errors, a ValidationError or any other exception rolls back what it wrote — and only
        that, so the next mutation of the same document starts clean."""
        try:
            with transaction.atomic():
                payload = cls.perform_mutation(root, info, **data)
                if payload.errors and not cls._meta.commit_returned_errors:
                    raise _RollbackWithPayload(payload)
                return payload
        except _RollbackWithPayload as rollback:
            return rollback.payload

    # --- idempotency ---------------------------------------------------------------------
    @classmethod
    def _fingerprint(cls, data: dict) -> str:
        canonical = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(f"{cls.__name__}:{canonical}".encode()).hexdigest()

    @classmethod
    def _mutate_idempotent(cls, root, info, key: str, data: dict):
        if len(key) > 255:
            raise CodedValidationError({"idempotency_key": "At most 255 characters."}, code=CommonErrorCode.INVALID)
        user = current_user(info)
        fingerprint = cls._fingerprint(data)
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is not None:
            return cls._replay(existing, fingerprint)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user, key=key, operation=cls.__name__, fingerprint=fingerprint
                )
                payload = cls.perform_mutation(root, info, **data)
                if payload.errors:
                    # Validation failures are not remembered: the client may fix and resend.
                    raise _RollbackWithPayload(payload)
                record.result = cls._serialize_payload(payload)
                record.save(update_fields=["result"])
                return payload
        except _RollbackWithPayload as rollback:
            return rollback.payload
        except IntegrityError:
            # A concurrent request with the same key committed first.
            existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
            if existing is None:
                raise
            return cls._replay(existing, fingerprint)

    @classmethod
    def _replay(cls, record: IdempotencyRecord, fingerprint: str):
        if record.fingerprint != fingerprint or record.operation != cls.__name__:
            raise CodedValidationError(
                {"idempotency_key": "This key was already used for a different request."},
                code=CommonErrorCode.IDEMPOTENCY_KEY_REUSED,
            )
        if record.result is None:
            raise CodedValidationError(
                {"idempotency_key": "The first request with this key is still in progress; retry."},
                code=CommonErrorCode.IDEMPOTENCY_IN_PROGRESS,
            )
        return cls._deserialize_payload(record.result)

    @classmethod
    def _serialize_payload(cls, payload) -> dict:
        out: dict = {}
        for name in cls._meta.fields:
            if name == "errors":
                continue
            value = getattr(payload, name, None)
            if isinstance(value, models.Model):
                out[name] = _model_ref(value)
            elif isinstance(value, list | tuple) and value and all(isinstance(v, models.Model) for v in value):
                out[name] = [_model_ref(v) for v in value]
            else:
                out[name] = value
        return out

    @classmethod
    def _deserialize_payload(cls, stored: dict):
        values = {}
        for name, value in stored.items():
            if isinstance(value, dict) and "$model" in value:
                value = _from_ref(value)
            elif isinstance(value, list) and value and all(isinstance(v, dict) and "$model" in v for v in value):
                value = [row for row in (_from_ref(v) for v in value) if row is not None]
            values[name] = value
        return cls(errors=[], **values)


def _model_ref(row: models.Model) -> dict:
    return {"$model": row._meta.label, "pk": row.pk}


def _from_ref(ref: dict):
    return apps.get_model(ref["$model"]).objects.filter(pk=ref["pk"]).first()


class _RollbackWithPayload(Exception):
    def __init__(self, payload):
        self.payload = payload
