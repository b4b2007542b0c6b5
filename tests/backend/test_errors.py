"""Errors as data: a field error keeps its code all the way to the mobile app."""

from core.errors import ValidationError
from schema.core.errors import validation_error_to_list


def test_dict_validation_error_keeps_its_code_for_each_field():
    exc = ValidationError({"phone_number": "Not a valid phone number.", "name": "Required."}, code="invalid_location")
    assert validation_error_to_list(exc) == [
        {"field": "phoneNumber", "message": "Not a valid phone number.", "code": "invalid_location"},
        {"field": "name", "message": "Required.", "code": "invalid_location"},
    ]


def test_plain_django_validation_error_without_code_is_invalid():
    from django.core.exceptions import ValidationError as DjangoValidationError

    assert validation_error_to_list(DjangoValidationError({"__all__": "Broken."})) == [
        {"field": None, "message": "Broken.", "code": "invalid"}
    ]


def test_unknown_codes_are_reported_as_invalid():
    exc = ValidationError("Nope.", code="no_such_code_anywhere")
    assert validation_error_to_list(exc)[0]["code"] == "invalid"


def test_it_is_still_a_django_validation_error():
    from django.core.exceptions import ValidationError as DjangoValidationError

    assert isinstance(ValidationError({"a": "b"}, code="invalid"), DjangoValidationError)
