"""`Idempotency-Key` on creating API calls: a retry gets the first result, never a second
object; the same key with another body is refused (422); while the first request runs, a
second one is refused (409) instead of waiting for it or racing it.

How: the key is claimed by inserting an `IdempotencyRecord` (caller, operation, key, hash
of the canonical body) in a transaction of its own, committed before the work starts. A
second request with the key then meets a committed row at once. (Relying on the created
object's own unique key instead would make the second request's insert wait on PostgreSQL
until the first one's transaction ends, and then either fail or answer with a result it
cannot tell apart from its own.) The work runs in its own transaction; the record is then
marked done with the object's id, or deleted if the work was refused, so the caller can
correct the request and send it again with the same key. A request that died between its
work and the record (a killed worker) is recognised by `find_result`, and one that died
before finishing its work is taken over by a retry after `IN_PROGRESS_TIMEOUT`.
"""

import datetime
import hashlib
import json
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import BrokerageError, IdempotencyKeyReused, RequestInProgress
from .models import IdempotencyRecord

T = TypeVar("T")

# Well above the longest a create may run (gunicorn's worker timeout is 30 s).
IN_PROGRESS_TIMEOUT = datetime.timedelta(minutes=5)
MAX_KEY_LENGTH = 100


def request_key(request) -> str:
    """The request's `Idempotency-Key` ("" when none); a longer one than 100 characters is
    refused (400) rather than cut, which could make two keys one."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_KEY_LENGTH:
        raise BrokerageError(
            _("An Idempotency-Key has at most 100 characters."), field="Idempotency-Key"
        )
    return key


def request_body_hash(request) -> str:
    """SHA-256 of the request's method, path and body in a canonical form: JSON keys sorted
    and without whitespace, form fields as lists, uploaded files by their content."""
    data = request.data
    plain = dict(data.lists()) if hasattr(data, "lists") else data
    body = json.dumps(
        plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_file_digest
    )
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _file_digest(value) -> str:
    if not hasattr(value, "chunks"):
        return str(value)
    digest = hashlib.sha256()
    for chunk in value.chunks():
        digest.update(chunk)
    value.seek(0)
    return f"file:{value.name}:{digest.hexdigest()}"


def run_once(
    request,
    *,
    scope: str,
    find_result: Callable[[str], int | None],
    work: Callable[[str], T],
    result_id: Callable[[T], int],
) -> tuple[T | None, int | None]:
    """Runs `work(key)` at most once per caller, `scope` and `Idempotency-Key` header (no
    header: just runs it, with key ""). Returns `(made, None)` when this request did the
    work, `(None, first_id)` for a retry of a finished request. `find_result(key)` finds an
    object already made under the key. Raises 400 (key too long), 409 (first request still
    running) or 422 (same key, other body) before any work. Outside a transaction only."""
    key = request_key(request)
    if not key:
        return work(key), None
    claim = idempotency_claim(
        user=request.user,
        scope=scope,
        key=key,
        body_hash=request_body_hash(request),
        find_result=lambda: find_result(key),
    )
    if claim.result_id is not None:
        return None, claim.result_id
    try:
        made = work(key)
    except BaseException:
        idempotency_release(claim)
        raise
    idempotency_complete(claim, result_id=result_id(made))
    return made, None


def idempotency_claim(
    *, user, scope: str, key: str, body_hash: str, find_result: Callable[[], int | None]
) -> IdempotencyRecord:
    """Claims `key` for this request, or says what the first request with it came to.

    Returns the record: `result_id` set means the first request finished and made that
    object (answer with it, do nothing); otherwise this request owns the key and must call
    `idempotency_complete` or `idempotency_release`. `find_result` looks for an object the
    operation already made under the key (made before the record existed, or by a request
    that died before marking it). Raises `IdempotencyKeyReused` (422) for another body,
    `RequestInProgress` (409) while the first request runs. Must not run inside a
    transaction: the claim has to be visible to other requests at once.
    """
    for _attempt in range(3):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user, scope=scope, key=key, body_hash=body_hash
                )
        except IntegrityError:
            pass
        else:
            made = find_result()
            if made is not None:  # made before keys were recorded: that is the answer
                idempotency_complete(record, result_id=made)
            return record
        with transaction.atomic():
            record = (
                IdempotencyRecord.objects.select_for_update()
                .filter(user=user, scope=scope, key=key)
                .first()
            )
            if record is None:  # the first request was refused and let go of the key
                continue
            if record.body_hash != body_hash:
                raise IdempotencyKeyReused(
                    _(
                        "This Idempotency-Key was already used with a different request. "
                        "Send a new key for a new request."
                    ),
                    field="Idempotency-Key",
                )
            if record.status == IdempotencyRecord.Status.DONE:
                return record
            made = find_result()
            if made is not None:  # the first request's work committed; it died before this
                _mark_done(record, made)
                return record
            if timezone.now() - record.started_at < IN_PROGRESS_TIMEOUT:
                raise RequestInProgress(
                    _(
                        "A request with this Idempotency-Key is still being processed. "
                        "Try again in a moment to get its result."
                    ),
                    field="Idempotency-Key",
                )
            # The first request died before doing its work: this one takes the key over.
            record.started_at = timezone.now()
            record.save(update_fields=["started_at"])
            return record
    raise RequestInProgress(_("The Idempotency-Key is busy; try again."), field="Idempotency-Key")


def idempotency_complete(record: IdempotencyRecord, *, result_id: int) -> None:
    """The work under the claimed key committed and made `result_id`."""
    _mark_done(record, result_id)


def idempotency_release(record: IdempotencyRecord) -> None:
    """The work under the claimed key was refused or failed: nothing was made, the key is
    free again (the corrected request may be sent with it)."""
    IdempotencyRecord.objects.filter(
        pk=record.pk, status=IdempotencyRecord.Status.IN_PROGRESS
    ).delete()


def _mark_done(record: IdempotencyRecord, result_id: int) -> None:
    record.status = IdempotencyRecord.Status.DONE
    record.result_id = result_id
    record.completed_at = timezone.now()
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status=record.status, result_id=result_id, completed_at=record.completed_at
    )
