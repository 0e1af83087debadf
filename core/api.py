"""What every API view shares: the error format, pagination and the scoped base view."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions, permissions, viewsets
from rest_framework.fields import get_error_detail

from .errors import BrokerageError


class ConflictError(exceptions.ValidationError):
    """A 409 that still names the field at fault, in the validation-error format."""

    status_code = 409
    default_code = "conflict"


class DomainExceptionHandler(ExceptionHandler):
    """Maps domain errors to HTTP: rule → 400, not allowed → 403, state or duplicate → 409.

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
    selector = None
    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular builds with no user
            return self.model.objects.none()
        return type(self).selector(viewer=self.request.user)
