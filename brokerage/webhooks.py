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
Every attempt resolves the URL's host once, refuses it when any address is not public
(`resolve_target`: private, loopback, link-local, multicast, unspecified, reserved, and the
same inside IPv4-mapped, NAT64, 6to4 and Teredo addresses; IPv4 read as a resolver reads
`127.1` or `2130706433`), and connects to those addresses only, with the URL's host in the
Host header and as TLS server name (no second lookup, so DNS cannot change in between).
Redirects are answers, never followed. During a secret rotation's overlap every attempt is
signed with both secrets (two space-separated `v1,` signatures).
Transient failures (timeouts, connection errors, 408/425/429/5xx) are retried with
exponential backoff and jitter, capped well below Redis' visibility timeout; any other answer,
or the last attempt, ends the delivery as failed.
"""

import base64
import datetime
import http.client
import ipaddress
import json
import logging
import random
import re
import secrets
import socket
import ssl
import urllib.parse
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from standardwebhooks import Webhook

from core.models import DomainEvent
from core.queueing import enqueue_each

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
    return enqueue_each("brokerage.webhook_deliver_task", delivery_ids)


# ---------------------------------------------------------------------------------------
# Sending


@dataclass
class AttemptResult:
    sent: bool  # an attempt was made
    succeeded: bool = False
    retry_in: int | None = None  # seconds until the next attempt, when one is due


class UnsafeTarget(Exception):
    """A target URL the platform will not connect to; the message is the reason."""


# Addresses that carry an IPv4 address inside an IPv6 one: judged by the IPv4 address.
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: a private translator
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # RFC 4291, deprecated
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")
IPV4_SPELLING = re.compile(r"[0-9a-fx.]+")


def _kind_of(address) -> str | None:
    """Why an address may not be connected to, or None for a public one."""
    if address.is_unspecified:
        return pgettext("address", "unspecified")
    if address.is_loopback:
        return pgettext("address", "loopback")
    if address.is_link_local:
        return pgettext("address", "link-local")
    if address.is_multicast:
        return pgettext("address", "multicast")
    if address.is_reserved:
        return pgettext("address", "reserved")
    if address.is_private:
        return pgettext("address", "private")
    if not address.is_global:
        return pgettext("address", "non-public")
    return None


def _plain_refusal(address) -> str | None:
    kind = _kind_of(address)
    if kind is None:
        return None
    return _("%(address)s is not public (%(kind)s)") % {"address": address, "kind": kind}


def address_refusal(address) -> str | None:
    """The reason `address` is refused as a webhook target, or None.

    Private, loopback, link-local, multicast, unspecified, reserved and other non-global
    addresses are refused; an IPv6 address that carries an IPv4 one (IPv4-mapped, NAT64,
    6to4, Teredo) is refused when the IPv4 address would be; local-use NAT64, Teredo and the
    deprecated IPv4-compatible form are refused whatever they carry."""
    if address.version == 4:
        return _plain_refusal(address)
    if address in NAT64_LOCAL_USE:
        return _("%(address)s is not public (local-use NAT64)") % {"address": address}
    if address in IPV4_COMPATIBLE and int(address) > 1:  # :: and ::1 are judged below
        return _("%(address)s is not public (deprecated IPv4-compatible)") % {"address": address}
    if address.ipv4_mapped:
        inner, form = address.ipv4_mapped, "IPv4-mapped"
    elif address in NAT64_WELL_KNOWN:
        inner, form = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), "NAT64"
    elif address.sixtofour:
        inner, form = address.sixtofour, "6to4"
    elif address.teredo:
        # The Teredo client is the inverted last 32 bits (ipaddress undoes the inversion).
        inner, form = address.teredo[1], "Teredo"
    else:
        return _plain_refusal(address)
    # 2001::/32 is not a global range, whatever client it carries.
    kind = _kind_of(inner) or (pgettext("address", "tunnelled") if form == "Teredo" else None)
    if kind is None:
        return None
    return _("%(address)s carries %(inner)s (%(form)s), which is not public (%(kind)s)") % {
        "address": address,
        "inner": inner,
        "form": form,
        "kind": kind,
    }


def _literal_address(host: str):
    """The IP address a host literal means to a resolver, or None for a name. IPv4 is read as
    inet_aton reads it, so `127.1`, `0x7f.1`, `0177.0.0.1` and `2130706433` are 127.0.0.1."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if IPV4_SPELLING.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


@dataclass(frozen=True)
class Target:
    """A checked target: connect only to `addresses`; `host` goes in Host and TLS SNI."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple


def resolve_target(url: str, *, resolve: bool = True) -> Target:
    """Parse `url`, resolve its host once and check every address; raise UnsafeTarget with
    the reason. The caller connects to these addresses only (no second lookup).

    Outside production (`PARTNER_WEBHOOKS_ALLOW_PRIVATE_TARGETS`) plain http and private
    addresses are allowed; the resolution and the pinned connection are the same."""
    allow_private = settings.PARTNER_WEBHOOKS_ALLOW_PRIVATE_TARGETS
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget(_("Only http(s) URLs receive webhooks."))
    if parts.scheme != "https" and not allow_private:
        raise UnsafeTarget(_("Only https URLs receive webhooks."))
    if parts.username or parts.password:
        raise UnsafeTarget(_("A webhook URL may not carry a user name or password."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeTarget(_("The port is not valid.")) from exc
    try:
        # IDNA maps full-width digits and dots (１２７．０．０．１) as a resolver would.
        host = parts.hostname.encode("idna").decode("ascii").lower().rstrip(".")
    except (ValueError, UnicodeError) as exc:
        raise UnsafeTarget(_("%(host)s is not a valid host") % {"host": parts.hostname}) from exc
    literal = _literal_address(host)
    if literal is not None:
        addresses = [literal]
    else:
        if not HOST_NAME.fullmatch(host):
            raise UnsafeTarget(_("%(host)s is not a valid host") % {"host": host})
        if not allow_private and (host in LOCAL_NAMES or host.endswith(".localhost")):
            raise UnsafeTarget(_("%(host)s is a local name") % {"host": host})
        if not resolve:
            return Target(parts.scheme, host, port, "/", ())
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise UnsafeTarget(_("%(host)s cannot be resolved") % {"host": host}) from exc
        addresses = []
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split("%")[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise UnsafeTarget(_("%(host)s cannot be resolved") % {"host": host})
    if not allow_private:
        for address in addresses:
            reason = address_refusal(address)
            if reason:
                raise UnsafeTarget(
                    _("%(host)s resolves to a refused address: %(reason)s")
                    % {"host": host, "reason": reason}
                )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, tuple(addresses))


def check_target(url: str) -> None:
    """Raise UnsafeTarget when `url` may not receive webhooks (see resolve_target). Outside
    production a name is not looked up here (a test receiver need not exist yet); every
    delivery resolves and checks again anyway."""
    resolve_target(url, resolve=not settings.PARTNER_WEBHOOKS_ALLOW_PRIVATE_TARGETS)


def _tls_context() -> ssl.SSLContext:
    """Certificate and host name verified against the URL's host (tests trust their own CA)."""
    return ssl.create_default_context()


class _Pinned:
    """An http.client connection to the checked addresses only: the Host header and TLS
    server name stay the URL's host; no proxy, no lookup, no redirect is ever followed."""

    def __init__(self, target: Target, **kwargs):
        super().__init__(target.host, target.port, timeout=TIMEOUT_SECONDS, **kwargs)
        self._addresses = target.addresses
        self._create_connection = self._connect_checked

    def _connect_checked(self, _address, timeout, source_address=None):
        error = None
        for address in self._addresses:
            try:
                return socket.create_connection((str(address), self.port), timeout, source_address)
            except OSError as exc:
                error = exc
        raise error


class _PinnedHTTP(_Pinned, http.client.HTTPConnection):
    pass


class _PinnedHTTPS(_Pinned, http.client.HTTPSConnection):
    pass


def _post(target: Target, *, body: bytes, headers: dict) -> tuple[int | None, str]:
    """POST and return (status code or None, error text). Never raises for network trouble.
    A redirect is an answer like any other non-2xx: it is returned, never followed."""
    if target.scheme == "https":
        connection = _PinnedHTTPS(target, context=_tls_context())
    else:
        connection = _PinnedHTTP(target)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        snippet = "" if 200 <= response.status < 300 else response.read(500)
        return response.status, snippet.decode("utf-8", "replace") if snippet else ""
    except TimeoutError as exc:
        return None, f"timeout: {exc}"
    except ssl.SSLError as exc:
        return None, f"connection error: TLS: {exc}"
    except (OSError, http.client.HTTPException) as exc:
        return None, f"connection error: {exc!r}"
    finally:
        connection.close()


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
            target = resolve_target(endpoint.url)  # the one lookup; we connect to its answer
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
                # During a rotation's overlap: one signature per valid secret, space-separated.
                "webhook-signature": " ".join(
                    sign(
                        secret=secret,
                        message_id=delivery.message_id,
                        timestamp=timestamp,
                        body=body,
                    )
                    for secret in endpoint.signing_secrets(timestamp)
                ),
            }
            status_code, error = _post(target, body=body.encode(), headers=headers)
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
