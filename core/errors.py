"""Domain errors. Services raise these; one handler maps them to HTTP (core.api)."""


class BrokerageError(Exception):
    """A business rule was broken. `field` names the input at fault, when there is one."""

    status_code = 400
    code = "rule_violation"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotAllowed(BrokerageError):
    """The actor may not do this (403). Objects the actor may not see are 404 instead."""

    status_code = 403
    code = "permission_denied"


class InvalidTransition(BrokerageError):
    """The object is not in a state that allows this move (409)."""

    status_code = 409
    code = "invalid_transition"


class Conflict(BrokerageError):
    """The change collides with existing data, e.g. a duplicate (409)."""

    status_code = 409
    code = "conflict"


class TooManyRequests(BrokerageError):
    """A limit per hour (or minute) is used up; the caller may try again later (429)."""

    status_code = 429
    code = "too_many_requests"


class IdempotencyKeyReused(BrokerageError):
    """An `Idempotency-Key` sent again with another request body (422): the first request's
    result is never returned for a different request."""

    status_code = 422
    code = "idempotency_key_reused"


class RequestInProgress(Conflict):
    """The first request with this `Idempotency-Key` is still running (409); retry later."""

    code = "request_in_progress"
