"""Outgoing webhooks with the Standard Webhooks scheme.

Each delivery is one event to one endpoint. It is created with the event's dispatch (in its
transaction) and sent by `webhook_deliver_task` after commit. Every attempt carries

    webhook-id:        msg_<delivery id>   (the same on every attempt: the receiver dedupes)
    webhook-timestamp: seconds since the epoch, at this attempt
    webhook-signature: v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>

An attempt never holds a row lock while the request runs: it claims the delivery by moving
`next_attempt_at` a lease ahead and commits, sends with a short timeout, then records the
outcome. A task that runs twice finds the claim and does nothing; a worker that dies
mid-attempt leaves a claim that expires, and the relay job queues the delivery again.
Transient failures (timeouts, connection errors, 408/425/429/5xx) are retried with
exponential backoff and jitter, capped well below Redis' visibility timeout; any other answer,
or the last attempt, ends the delivery as failed.
"""

import base64
import datetime
import ipaddress
import json
import logging
import random
import secrets
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError
from standardwebhooks import Webhook

from core.models import DomainEvent

from .feed import event_body, inquiry_id_of
from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 15 * 60  # far below Redis' visibility timeout (1 h)
# One socket timeout for connecting and for each read: a hanging receiver costs 5 s.
TIMEOUT_SECONDS = 5.0
# An attempt in flight: nobody else sends the delivery before this has passed.
CLAIM_LEASE_SECONDS = 60
RELAY_BATCH = 500
RETRYABLE_STATUS = frozenset({408, 425, 429})
USER_AGENT = "joint-order-brokerage-webhooks/1"


def new_secret() -> str:
    """A signing secret in the Standard Webhooks form: whsec_ + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def backoff_seconds(attempt: int) -> int:
    """Wait after failed attempt `attempt` (1-based): 30 s, 1, 2, 4, 8 min, then 15 min,
    each with up to 10 % jitter."""
    delay = min(BACKOFF_BASE_SECONDS * 2 ** (attempt - 1), BACKOFF_CAP_SECONDS)
    return int(delay + random.uniform(0, delay / 10))


def sign(*, secret: str, message_id: str, timestamp: datetime.datetime, body: str) -> str:
    # standardwebhooks reads the datetime as UTC: hand it one.
    utc = timestamp.astimezone(datetime.UTC)
    return Webhook(secret).sign(msg_id=message_id, timestamp=utc, data=body)


def body_for(delivery: WebhookDelivery) -> str:
    """The JSON body, identical on every attempt (only the timestamp header changes)."""
    from orders.models import Inquiry

    event = delivery.event
    reference = (
        Inquiry.objects.filter(pk=inquiry_id_of(event)).values_list("reference", flat=True).first()
    )
    return json.dumps(
        event_body(event, inquiry_reference=reference), ensure_ascii=False, sort_keys=True
    )


# ---------------------------------------------------------------------------------------
# Creating deliveries (inside the dispatch transaction)


def deliveries_create(*, event: DomainEvent, organisations) -> list[int]:
    """One pending delivery per active endpoint of `organisations` subscribed to the event's
    kind; existing ones are kept. Queues the new ones after commit; returns their ids."""
    if not organisations:
        return []
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            organisation__in=organisations, is_active=True
        )
        if endpoint.wants(event.kind)
    ]
    if not endpoints:
        return []
    existing = set(
        WebhookDelivery.objects.filter(event=event, endpoint__in=endpoints).values_list(
            "endpoint_id", flat=True
        )
    )
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now)
            for endpoint in endpoints
            if endpoint.pk not in existing
        ],
        ignore_conflicts=True,
    )
    created = list(
        WebhookDelivery.objects.filter(event=event, endpoint__in=endpoints)
        .exclude(endpoint_id__in=existing)
        .values_list("pk", flat=True)
    )
    if created:
        transaction.on_commit(lambda: enqueue_deliveries(created))
    return created


def enqueue_deliveries(delivery_ids) -> int:
    """Queue deliveries. A broker outage is logged, not raised: the relay job retries."""
    from .tasks import webhook_deliver_task

    queued = 0
    for pk in delivery_ids:
        try:
            webhook_deliver_task.delay(pk)
            queued += 1
        except OperationalError:
            logger.warning("Broker unavailable; webhook delivery %s left for the relay", pk)
            break
    return queued


# ---------------------------------------------------------------------------------------
# Sending


@dataclass
class AttemptResult:
    sent: bool  # an attempt was made
    succeeded: bool = False
    retry_in: int | None = None  # seconds until the next attempt, when one is due


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other non-2xx: never follow it elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class UnsafeTarget(Exception):
    pass


def check_target(url: str) -> None:
    """Refuse non-HTTP(S) URLs, and in production hosts that resolve to private, loopback or
    link-local addresses (a partner's URL must not reach into our own network)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("only http(s) URLs are delivered to")
    if settings.PARTNER_WEBHOOKS_ALLOW_PRIVATE_TARGETS:
        return
    if parts.scheme != "https":
        raise UnsafeTarget("only https URLs are delivered to")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise UnsafeTarget(f"cannot resolve {parts.hostname}") from exc
    for info in infos:
        if not ipaddress.ip_address(info[4][0]).is_global:
            raise UnsafeTarget(f"{parts.hostname} resolves to a non-public address")


def _post(url: str, *, body: bytes, headers: dict) -> tuple[int | None, str]:
    """POST and return (status code or None, error text). Never raises for network trouble."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        snippet = exc.read(500).decode("utf-8", "replace") if exc.fp else ""
        return exc.code, snippet
    except TimeoutError as exc:
        return None, f"timeout: {exc}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            return None, f"timeout: {reason}"
        return None, f"connection error: {reason}"


def webhook_deliver(*, delivery_id: int) -> AttemptResult:
    """Make one attempt at a pending delivery whose time has come.

    Claims it (commit), sends it signed, records the status code or error, and either ends it
    (delivered, or failed for good) or sets the next attempt after a backoff. Returns what
    happened; the task schedules the retry from `retry_in`.
    """
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint", "event")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return AttemptResult(sent=False)
        if delivery.next_attempt_at and delivery.next_attempt_at > now:
            return AttemptResult(sent=False)  # not due, or claimed by an attempt in flight
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.next_attempt_at = now + datetime.timedelta(seconds=CLAIM_LEASE_SECONDS)
        delivery.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at"])
    endpoint = delivery.endpoint

    status_code, error = None, ""
    if not endpoint.is_active:
        error = "endpoint deactivated"
    else:
        try:
            check_target(endpoint.url)
        except UnsafeTarget as exc:
            error = f"refused: {exc}"
        else:
            body = body_for(delivery)
            timestamp = timezone.now()
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "webhook-id": delivery.message_id,
                "webhook-timestamp": str(int(timestamp.timestamp())),
                "webhook-signature": sign(
                    secret=endpoint.secret,
                    message_id=delivery.message_id,
                    timestamp=timestamp,
                    body=body,
                ),
            }
            status_code, error = _post(endpoint.url, body=body.encode(), headers=headers)
    return _record_attempt(delivery, status_code=status_code, error=error)


def _record_attempt(delivery: WebhookDelivery, *, status_code: int | None, error: str):
    now = timezone.now()
    succeeded = status_code is not None and 200 <= status_code < 300
    transient = status_code is None or status_code in RETRYABLE_STATUS or status_code >= 500
    if error.startswith(("refused:", "endpoint deactivated")):
        transient = False
    retry_in = None
    fields = {"last_status_code": status_code, "last_error": error[:2000]}
    if succeeded:
        fields.update(status=DeliveryStatus.SUCCEEDED, delivered_at=now, next_attempt_at=None)
    elif transient and delivery.attempts < MAX_ATTEMPTS:
        retry_in = backoff_seconds(delivery.attempts)
        fields.update(next_attempt_at=now + datetime.timedelta(seconds=retry_in))
    else:
        fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
        logger.warning(
            "Webhook delivery %s failed for good after %s attempts: %s %s",
            delivery.pk,
            delivery.attempts,
            status_code,
            error[:200],
        )
    # Only while still pending: a re-send by hand in between keeps its own state.
    WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(**fields)
    return AttemptResult(sent=True, succeeded=succeeded, retry_in=retry_in)


def webhook_deliveries_relay() -> int:
    """Queue pending deliveries that are due and were not queued (a broker outage, a dead
    worker's expired claim, a retry whose publish failed). Returns how many were queued."""
    cutoff = timezone.now() - datetime.timedelta(seconds=30)
    ids = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lt=cutoff)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:RELAY_BATCH]
    )
    return enqueue_deliveries(ids)
