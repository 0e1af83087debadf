"""Domain errors. Services raise these; one handler maps them to HTTP (core.api).

Every error carries a code from an enumeration: the generic ones below, or an app's own
(`orders.error_codes`, …) for a rule a partner's program may want to tell apart. The API
returns it as `errors[].code`; the OpenAPI schema lists each operation's possible codes
(core.error_catalogue reads them from the code)."""

from enum import StrEnum


class ErrorCode(StrEnum):
    """The generic codes, one per kind of domain error."""

    RULE_VIOLATION = "rule_violation"  # 400
    PERMISSION_DENIED = "permission_denied"  # 403
    INVALID_TRANSITION = "invalid_transition"  # 409
    CONFLICT = "conflict"  # 409
    TOO_MANY_REQUESTS = "too_many_requests"  # 429
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"  # 422
    REQUEST_IN_PROGRESS = "request_in_progress"  # 409


class BrokerageError(Exception):
    """A business rule was broken. `field` names the input at fault, when there is one."""

    status_code = 400
    code = ErrorCode.RULE_VIOLATION

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotAllowed(BrokerageError):
    """The actor may not do this (403). Objects the actor may not see are 404 instead."""

    status_code = 403
    code = ErrorCode.PERMISSION_DENIED


class InvalidTransition(BrokerageError):
    """The object is not in a state that allows this move (409)."""

    status_code = 409
    code = ErrorCode.INVALID_TRANSITION


class Conflict(BrokerageError):
    """The change collides with existing data, e.g. a duplicate (409)."""

    status_code = 409
    code = ErrorCode.CONFLICT


class TooManyRequests(BrokerageError):
    """A limit per hour (or minute) is used up; the caller may try again later (429)."""

    status_code = 429
    code = ErrorCode.TOO_MANY_REQUESTS


class IdempotencyKeyReused(BrokerageError):
    """An `Idempotency-Key` sent again with another request body (422): the first request's
    result is never returned for a different request."""

    status_code = 422
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED


class RequestInProgress(Conflict):
    """The first request with this `Idempotency-Key` is still running (409); retry later."""

    code = ErrorCode.REQUEST_IN_PROGRESS
