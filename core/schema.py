"""OpenAPI: the project's authentication class and the shape of its domain errors.

drf-standardized-errors documents 400 errors with enums of the request serializer's fields
and codes. Services add rule violations that name other fields and codes
(`rule_violation`, `invalid_transition`, …) and answer conflicts with 409, so the documented
400/409 bodies are the general shape: a list of {code, detail, attr}.
"""

from drf_spectacular.authentication import BasicScheme
from drf_spectacular.utils import OpenApiResponse
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ValidationErrorEnum
from rest_framework import serializers


class LockoutAwareBasicScheme(BasicScheme):
    target_class = "core.auth.LockoutAwareBasicAuthentication"
    match_subclasses = True  # members.auth.BasicAuthentication refines it


class ErrorItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ValidationErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ValidationErrorEnum.choices)
    errors = ErrorItemSerializer(many=True)


class ConflictErrorResponseSerializer(serializers.Serializer):
    """409: a duplicate, or a state that does not allow the move (code
    `invalid_transition`), or the same `Idempotency-Key` while its first request still runs
    (`request_in_progress`); typed `client_error`, `attr` names the field when there is one."""

    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = ErrorItemSerializer(many=True)


class UnprocessableErrorResponseSerializer(ConflictErrorResponseSerializer):
    """422: the request cannot be carried out as sent (code `idempotency_key_reused`: the
    `Idempotency-Key` was used with another body); typed `client_error`."""


# The error answers of a create taking an `Idempotency-Key` (core.idempotency).
IDEMPOTENCY_ERROR_RESPONSES = {
    409: OpenApiResponse(
        ConflictErrorResponseSerializer,
        description="`request_in_progress`: the first request with this Idempotency-Key is "
        "still running; retry to get its result. (Also the create's other conflicts.)",
    ),
    422: OpenApiResponse(
        UnprocessableErrorResponseSerializer,
        description="`idempotency_key_reused`: the key was used with a different body.",
    ),
}


class AutoSchema(StandardizedErrorsAutoSchema):
    def _get_serializer_for_validation_error_response(self):
        return ValidationErrorResponseSerializer

    def _should_add_validation_error_response(self) -> bool:
        # Every writing call, every filtered list and every read taking declared query
        # parameters can answer 400 naming the bad one.
        return (
            self.method in ("POST", "PUT", "PATCH", "DELETE")
            or bool(self.get_override_parameters())
            or bool(super()._should_add_validation_error_response())
        )

    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code == "422":
            return False  # only where an endpoint declares it (Idempotency-Key creates)
        if status_code == "409":
            return status_code not in responses and self.method in (
                "POST",
                "PUT",
                "PATCH",
                "DELETE",
            )
        return super()._should_add_error_response(responses, status_code)
