"""Outgoing webhooks against a real HTTP receiver on 127.0.0.1: Standard Webhooks signature a
receiver can verify, retries with backoff on errors and timeouts, final failure, re-send."""

# ruff: noqa: F811  (fixtures imported by name are used as test arguments)

import base64
import datetime
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from brokerage import partners, tasks, webhooks
from brokerage.feed import event_body
from brokerage.models import DeliveryStatus, WebhookDelivery
from core.errors import BrokerageError
from orders import services as order_services
from orders.models import Inquiry
from tests.brokerage.partner_fixtures import (  # noqa: F401
    key_client,
    make_key,
    other_partner,
    partner,
    partner_api,
    submit_payload,
)
from tests.helpers import dispatch_all

INQUIRIES = "/api/v1/partner/inquiries/"


class Receiver:
    """A partner's webhook receiver: records every request and answers from a script of
    (status, delay) pairs; the last one repeats."""

    def __init__(self):
        self.requests = []
        self.script = [(200, 0)]
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    {
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body.decode(),
                    }
                )
                status, delay = (
                    receiver.script.pop(0) if len(receiver.script) > 1 else receiver.script[0]
                )
                if delay:
                    time.sleep(delay)  # a hanging receiver
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"receiver error")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def answer(self, *script):
        self.script = [s if isinstance(s, tuple) else (s, 0) for s in script]


@pytest.fixture
def receiver():
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def endpoint(partner, secretariat_user, receiver):
    return partners.webhook_endpoint_create(
        actor=secretariat_user, organisation=partner, url=receiver.url
    )


@pytest.fixture
def delivery(partner_api, submit_payload, endpoint):
    """One pending delivery: the partner's inquiry.submitted event, dispatched."""
    partner_api.post(INQUIRIES, submit_payload(), format="json")
    dispatch_all()
    return WebhookDelivery.objects.get()


def expected_signature(secret: str, message_id: str, timestamp: str, body: str) -> str:
    """The Standard Webhooks signature, recomputed from the spec by hand."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def test_a_delivery_is_signed_so_the_receiver_can_verify_it(delivery, endpoint, receiver):
    result = webhooks.webhook_deliver(delivery_id=delivery.pk)

    assert result.succeeded
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    assert headers["webhook-id"] == f"msg_{delivery.pk}"
    assert headers["content-type"] == "application/json"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 5
    assert headers["webhook-signature"] == expected_signature(
        endpoint.secret, headers["webhook-id"], headers["webhook-timestamp"], body
    )
    # The reference library verifies it too, and returns the event.
    payload = Webhook(endpoint.secret).verify(body, headers)
    inquiry = Inquiry.objects.get()
    assert payload == json.loads(
        json.dumps(event_body(delivery.event, inquiry_reference=inquiry.reference))
    )
    assert payload["type"] == "inquiry.submitted"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.SUCCEEDED,
        1,
        200,
    )


def test_a_forged_or_replayed_webhook_is_detectable(delivery, endpoint, receiver, time_machine):
    webhooks.webhook_deliver(delivery_id=delivery.pk)
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    verifier = Webhook(endpoint.secret)

    with pytest.raises(WebhookVerificationError):
        verifier.verify(body.replace("inquiry.submitted", "award.confirmed"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.new_secret()).verify(body, headers)
    # Replayed more than 5 minutes later: the timestamp is refused.
    time_machine.move_to(timezone.now() + datetime.timedelta(minutes=6))
    with pytest.raises(WebhookVerificationError, match="too old"):
        verifier.verify(body, headers)


def test_a_server_error_is_retried_with_backoff_then_delivered(delivery, receiver, time_machine):
    receiver.answer(500, 200)
    time_machine.move_to(timezone.now(), tick=False)

    first = webhooks.webhook_deliver(delivery_id=delivery.pk)

    assert first.sent and not first.succeeded
    assert 30 <= first.retry_in <= 33
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at == timezone.now() + datetime.timedelta(seconds=first.retry_in)
    # Not due yet: a repeated task does nothing.
    assert not webhooks.webhook_deliver(delivery_id=delivery.pk).sent
    assert len(receiver.requests) == 1

    time_machine.move_to(delivery.next_attempt_at, tick=False)
    second = webhooks.webhook_deliver(delivery_id=delivery.pk)

    assert second.succeeded
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 2, 200)
    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    stamps = [r["headers"]["webhook-timestamp"] for r in receiver.requests]
    assert ids == {f"msg_{delivery.pk}"}  # the receiver's idempotency key
    assert stamps[0] != stamps[1]


def test_a_hanging_receiver_times_out_and_is_retried(delivery, receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.3)
    receiver.answer((200, 1.0))

    started = time.monotonic()
    result = webhooks.webhook_deliver(delivery_id=delivery.pk)

    assert time.monotonic() - started < 1.0  # the flow never waits for the receiver
    assert result.sent and not result.succeeded and result.retry_in is not None
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code is None
    assert delivery.last_error.startswith("timeout")


def test_an_unreachable_receiver_is_retried(delivery):
    delivery.endpoint.url = "http://127.0.0.1:1/closed"
    delivery.endpoint.save(update_fields=["url"])

    result = webhooks.webhook_deliver(delivery_id=delivery.pk)

    assert result.retry_in is not None
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("connection error")


def test_retries_stop_at_the_cap_and_the_failure_is_recorded(
    delivery, receiver, monkeypatch, time_machine
):
    monkeypatch.setattr(webhooks, "MAX_ATTEMPTS", 3)
    receiver.answer(503)
    time_machine.move_to(timezone.now(), tick=False)

    results = []
    for _ in range(3):
        results.append(webhooks.webhook_deliver(delivery_id=delivery.pk))
        delivery.refresh_from_db()
        if delivery.next_attempt_at:
            time_machine.move_to(delivery.next_attempt_at, tick=False)

    assert [r.retry_in is not None for r in results] == [True, True, False]
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)
    assert delivery.last_status_code == 503
    assert len(receiver.requests) == 3
    assert not webhooks.webhook_deliver(delivery_id=delivery.pk).sent


@pytest.mark.parametrize("status", [400, 401, 410, 302])
def test_a_client_error_or_redirect_is_not_retried(delivery, receiver, status):
    receiver.answer(status)
    result = webhooks.webhook_deliver(delivery_id=delivery.pk)
    assert result.retry_in is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("failed", status)
    assert len(receiver.requests) == 1  # a redirect is not followed


def test_backoff_doubles_and_stays_far_below_the_visibility_timeout():
    delays = [webhooks.backoff_seconds(n) for n in range(1, webhooks.MAX_ATTEMPTS + 1)]
    floors = [min(30 * 2 ** (n - 1), 900) for n in range(1, webhooks.MAX_ATTEMPTS + 1)]
    assert all(f <= d <= f * 1.1 for d, f in zip(delays, floors, strict=True))
    assert max(delays) <= 990 < 3600


def test_the_task_schedules_the_next_attempt_with_the_backoff(delivery, receiver, monkeypatch):
    receiver.answer(502)
    scheduled = []

    class Scheduled(Exception):
        pass

    def fake_retry(countdown):
        scheduled.append(countdown)
        return Scheduled()

    monkeypatch.setattr(tasks.webhook_deliver_task, "retry", fake_retry)
    with pytest.raises(Scheduled):
        tasks.webhook_deliver_task.run(delivery.pk)
    delivery.refresh_from_db()
    expected = (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()
    assert scheduled and abs(scheduled[0] - expected) < 1


def test_fan_out_follows_subscriptions_and_queues_after_commit(
    partner,
    other_partner,
    partner_api,
    submit_payload,
    secretariat_user,
    receiver,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    create = partners.webhook_endpoint_create
    everything = create(actor=secretariat_user, organisation=partner, url=receiver.url)
    published_only = create(
        actor=secretariat_user,
        organisation=partner,
        url=receiver.url,
        event_kinds=["inquiry.published"],
    )
    paused = create(actor=secretariat_user, organisation=partner, url=receiver.url)
    partners.webhook_endpoint_set_active(actor=secretariat_user, endpoint=paused, active=False)
    theirs = create(actor=secretariat_user, organisation=other_partner, url=receiver.url)
    queued = []
    monkeypatch.setattr(webhooks, "enqueue_deliveries", lambda ids: queued.extend(ids))

    inquiry = Inquiry.objects.get(
        pk=partner_api.post(INQUIRIES, submit_payload(), format="json").json()["id"]
    )
    order_services.inquiry_publish(actor=secretariat_user, inquiry=inquiry)
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_all()

    def kinds(endpoint):
        return sorted(
            WebhookDelivery.objects.filter(endpoint=endpoint).values_list("event__kind", flat=True)
        )

    assert kinds(everything) == ["inquiry.published", "inquiry.submitted"]
    assert kinds(published_only) == ["inquiry.published"]
    assert kinds(paused) == kinds(theirs) == []
    assert sorted(queued) == sorted(WebhookDelivery.objects.values_list("pk", flat=True))
    # Dispatching again creates nothing twice.
    assert dispatch_all() == 0


def test_resend_by_hand_starts_a_fresh_round_with_the_same_webhook_id(
    delivery, receiver, secretariat_user, other_secretariat_user, monkeypatch
):
    receiver.answer(400, 200)
    webhooks.webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED

    with pytest.raises(BrokerageError):
        partners.webhook_delivery_resend(actor=other_secretariat_user, delivery=delivery)
    queued = []
    monkeypatch.setattr(webhooks, "enqueue_deliveries", lambda ids: queued.extend(ids))
    from django.db import transaction

    with transaction.atomic():
        partners.webhook_delivery_resend(actor=secretariat_user, delivery=delivery)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)

    assert webhooks.webhook_deliver(delivery_id=delivery.pk).succeeded
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [f"msg_{delivery.pk}"] * 2


def test_private_targets_are_refused_in_production(
    partner, secretariat_user, delivery, receiver, settings
):
    settings.PARTNER_WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    for url in (receiver.url, "https://127.0.0.1/hooks", "https://10.0.0.8/hooks"):
        with pytest.raises(BrokerageError) as exc:
            partners.webhook_endpoint_create(actor=secretariat_user, organisation=partner, url=url)
        assert exc.value.field == "url"

    result = webhooks.webhook_deliver(delivery_id=delivery.pk)

    assert result.retry_in is None and not receiver.requests
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error.startswith("refused")


def test_relay_queues_due_deliveries_left_behind(delivery, monkeypatch, time_machine):
    queued = []
    monkeypatch.setattr(webhooks, "enqueue_deliveries", lambda ids: queued.extend(ids) or len(ids))
    assert webhooks.webhook_deliveries_relay() == 0  # just created: its own enqueue is due
    time_machine.move_to(timezone.now() + datetime.timedelta(minutes=2))
    assert webhooks.webhook_deliveries_relay() == 1
    assert queued == [delivery.pk]
