"""What every API view shares: the error format, pagination and the scoped base view."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions, permissions, viewsets
from rest_framework.fields import get_error_detail

from .errors import BrokerageError


class ConflictError(exceptions.APIException):
    """409: the request is valid but collides with the state of the data (a duplicate, a
    move the object's state does not allow, a request still running). Typed as a client
    error, not a validation error, with the code and, where there is one, the field at
    fault: `{"type": "client_error", "errors": [{"code", "detail", "attr"}]}`."""

    status_code = 409
    default_code = "conflict"
    default_detail = "This change conflicts with the current state."


class UnprocessableError(exceptions.APIException):
    """422: a well-formed request that cannot be carried out as sent (an `Idempotency-Key`
    reused with another body); typed as a client error, like the 409s."""

    status_code = 422
    default_code = "unprocessable"
    default_detail = "This request cannot be processed."


class DomainExceptionHandler(ExceptionHandler):
    """Maps domain errors to HTTP: rule → 400, not allowed → 403, state or duplicate → 409,
    a reused idempotency key → 422.

    Objects the caller may not see never reach a service: the scoped queryset answers 404.
    """

    def convert_known_exceptions(self, exc):
        if isinstance(exc, BrokerageError):
            field = exc.field or "non_field_errors"
            detail = {field: [exceptions.ErrorDetail(exc.message, code=exc.code)]}
            if exc.status_code == 403:
                return exceptions.PermissionDenied(exc.message, code=exc.code)
            if exc.status_code == 409:
                return ConflictError(detail)
            if exc.status_code == 422:
                return UnprocessableError(detail)
            if exc.status_code == 429:
                return exceptions.Throttled(detail=exc.message, code=exc.code)
            return exceptions.ValidationError(detail)
        if isinstance(exc, DjangoValidationError):
            return exceptions.ValidationError(get_error_detail(exc))
        if isinstance(exc, IntegrityError):
            return ConflictError(
                {"non_field_errors": ["This change conflicts with existing data."]}
            )
        return super().convert_known_exceptions(exc)


class ScopedViewSet(viewsets.GenericViewSet):
    """Base of every API view: authenticated, and the queryset always comes from a selector
    scoped to the viewer, so no endpoint can list or fetch what its caller may not see.

    Subclasses set `selector` (a function taking `viewer=`) and `model` (for schema builds).
    """

    permission_classes = [permissions.IsAuthenticated]
    lookup_value_regex = r"[0-9]+"
    selector = None
    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular builds with no user
            return self.model.objects.none()
        return type(self).selector(viewer=self.request.user)


def _api_error(request, status: int, code: str, detail: str):
    from django.http import JsonResponse

    body = {
        "type": "client_error" if status < 500 else "server_error",
        "errors": [{"code": code, "detail": detail, "attr": None}],
    }
    return JsonResponse(body, status=status)


def not_found(request, exception=None):
    """404 for a URL no view matched: JSON under /api/, the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return _api_error(request, 404, "not_found", "Not found.")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return _api_error(request, 500, "error", "A server error occurred.")
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)
