"""Staff set up an authenticator app (TOTP) and keep recovery codes (community/otp.py).

Logged in, or — when the password login answered OTP_ENROLMENT_REQUIRED — with the
`enrolmentToken` it gave: beginTotpEnrolment returns the secret and an otpauth:// URI (show
it as a QR code); confirmTotpEnrolment takes the app's first code and returns the recovery
codes (shown once) and, when it completes a login, the tokens.
"""

import graphene

from community.login import known_device_token
from community.otp import (
    SecondFactorError,
    begin_enrolment,
    confirm_enrolment,
    regenerate_recovery_codes,
    user_for_enrolment,
)
from core.errors import field_error, rate_limited

from ...core.auth import issue_tokens
from ...core.errors import NotAuthenticated
from ...core.mutations import BaseMutation
from ...core.permissions import current_user


def _enrolling_user(info, token: str | None):
    user = getattr(info.context, "user", None)
    if user is not None and user.is_authenticated:
        return user, False
    user = user_for_enrolment(token)
    if user is None:
        raise NotAuthenticated("Log in, or send the enrolmentToken of your password login (it lasts 10 minutes).")
    return user, True


def _error(exc: SecondFactorError, field: str | None = "code"):
    if exc.retry_after is not None:
        return rate_limited(field, exc.retry_after, exc.code)
    return field_error(field, exc.message, exc.code)


class BeginTotpEnrolment(BaseMutation):
    """A new secret for your authenticator app; nothing changes until confirmTotpEnrolment."""

    secret = graphene.String(description="Base32, for typing into the app by hand.")
    otpauth_uri = graphene.String(description="otpauth://totp/... — show it as a QR code for the app to scan.")

    class Arguments:
        enrolment_token = graphene.String(description="From tokenAuth's OTP_ENROLMENT_REQUIRED error, when not logged in.")

    class Meta:
        login_required = False

    @classmethod
    def perform_mutation(cls, root, info, enrolment_token=None):
        user, _ = _enrolling_user(info, enrolment_token)
        try:
            enrolment = begin_enrolment(user)
        except SecondFactorError as exc:
            raise _error(exc, None)
        return cls(errors=[], secret=enrolment.secret, otpauth_uri=enrolment.uri)


class ConfirmTotpEnrolment(BaseMutation):
    """The app's current code: the app is set up. The recovery codes are shown this once —
    keep them somewhere safe. With an enrolmentToken this completes the login (tokens)."""

    checks_secret = True  # one per document (schema.core.validation)
    recovery_codes = graphene.List(graphene.NonNull(graphene.String))
    token = graphene.String()
    refresh_token = graphene.String()
    device_token = graphene.String(description="As tokenAuth's: send it with the next login from this device.")

    class Arguments:
        code = graphene.String(required=True)
        enrolment_token = graphene.String()

    class Meta:
        login_required = False

    @classmethod
    def perform_mutation(cls, root, info, code, enrolment_token=None):
        user, logging_in = _enrolling_user(info, enrolment_token)
        try:
            codes = confirm_enrolment(user, code)
        except SecondFactorError as exc:
            raise _error(exc)
        if not logging_in:
            return cls(errors=[], recovery_codes=codes)
        info.context.user = user
        tokens = issue_tokens(user)
        return cls(errors=[], recovery_codes=codes, token=tokens["token"], refresh_token=tokens["refresh_token"],
                   device_token=known_device_token(user))


class RegenerateRecoveryCodes(BaseMutation):
    """New recovery codes (the old ones stop working), for a code of your authenticator app."""

    checks_secret = True  # one per document (schema.core.validation)
    recovery_codes = graphene.List(graphene.NonNull(graphene.String))

    class Arguments:
        otp = graphene.String(required=True)

    @classmethod
    def perform_mutation(cls, root, info, otp):
        try:
            codes = regenerate_recovery_codes(current_user(info), otp)
        except SecondFactorError as exc:
            raise _error(exc, "otp")
        return cls(errors=[], recovery_codes=codes)
