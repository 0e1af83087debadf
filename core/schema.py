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

from .error_catalogue import codes_raised_by


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


# A DRF mixin's action runs the project's code through these hooks.
_ACTION_HOOKS = {
    "create": ("perform_create",),
    "update": ("perform_update",),
    "partial_update": ("perform_update",),
    "destroy": ("perform_destroy",),
}
_WRITING_SERIALIZER_METHODS = ("validate", "create", "update", "save")
_DOMAIN_ERROR_BODIES = {
    "403": None,  # drf-standardized-errors' own 403 body
    "409": ConflictErrorResponseSerializer,
    "422": UnprocessableErrorResponseSerializer,
}


class AutoSchema(StandardizedErrorsAutoSchema):
    def _domain_error_codes(self) -> dict[str, list[str]]:
        """The domain error codes this operation's code can raise, by HTTP status
        (core.error_catalogue reads them from the view's handler and what it calls)."""
        view_class = type(self.view)
        action = getattr(self.view, "action", None) or self.method.lower()
        found = set()
        for name in (action, *_ACTION_HOOKS.get(action, ())):
            handler = getattr(view_class, name, None)
            if handler is not None:
                found |= codes_raised_by(handler, view_class)
        if self.method in ("POST", "PUT", "PATCH"):
            request_serializer = self.get_request_serializer()
            serializer_class = (
                request_serializer
                if isinstance(request_serializer, type)
                else type(request_serializer)
            )
            for name in _WRITING_SERIALIZER_METHODS:
                method = getattr(serializer_class, name, None)
                if method is not None:
                    found |= codes_raised_by(method, serializer_class)
        by_status: dict[str, list[str]] = {}
        for raised in sorted(found, key=lambda r: (r.status, r.code)):
            by_status.setdefault(str(raised.status), []).append(raised.code)
        return by_status

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        if direction != "response":
            return responses
        for status, codes in self._domain_error_codes().items():
            if status not in responses:
                body = _DOMAIN_ERROR_BODIES.get(status, False)
                if body is False:
                    continue  # 400 and 429 are always declared where they can occur
                serializer = body or self._get_error_response_serializer(status)
                responses[status] = self._get_response_for_code(serializer, status)
            response = responses[status]
            listed = ", ".join(f"`{code}`" for code in codes)
            response["description"] = (
                f"{response.get('description') or ''}\n\nDomain error codes: {listed}."
            ).strip()
            response["x-error-codes"] = codes
        return responses

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
