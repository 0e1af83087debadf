"""Webhooks end to end with a real Celery worker on Redis (second CI pass): a partner's
submission is dispatched by the worker, the webhook fails once and is retried by the worker's
own schedule, and the real receiver gets one signed event, verified with the partner's secret."""

# ruff: noqa: F811  (fixtures imported by name are used as test arguments)

import time

import pytest
from celery.contrib.testing.worker import start_worker

from brokerage import partners, webhooks
from brokerage.models import DeliveryStatus, FeedEntry, WebhookDelivery
from config.celery import app as celery_app
from tests.brokerage.partner_fixtures import (  # noqa: F401
    make_key,
    partner,
    partner_api,
    submit_payload,
)
from tests.brokerage.test_webhooks import Receiver

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def receiver():
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def worker():
    celery_app.conf.task_always_eager = False
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        yield


def test_a_submission_reaches_the_partners_webhook_through_the_worker(
    worker, partner, partner_api, submit_payload, secretariat_user, receiver, monkeypatch
):
    from standardwebhooks import Webhook

    monkeypatch.setattr(webhooks, "backoff_seconds", lambda attempt: 1)  # keep the test short
    endpoint = partners.webhook_endpoint_create(
        actor=secretariat_user, organisation=partner, url=receiver.url
    )
    receiver.answer(503, 200)

    created = partner_api.post("/api/v1/partner/inquiries/", submit_payload(), format="json")
    assert created.status_code == 201

    assert wait_for(
        lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).exists()
    )
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, delivery.last_status_code) == (2, 200)
    assert len(receiver.requests) == 2
    last = receiver.requests[-1]
    payload = Webhook(endpoint.secret).verify(last["body"], last["headers"])
    assert payload["type"] == "inquiry.submitted"
    assert payload["data"]["inquiry"]["id"] == created.json()["id"]
    assert FeedEntry.objects.filter(organisation=partner).count() == 1
