"""A real Celery worker consuming from the real Redis broker (second CI pass)."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from brokerage import notifications
from brokerage.models import EmailStatus, Notification
from config.celery import app as celery_app
from tests.factories import CompanyUserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def worker():
    celery_app.conf.task_always_eager = False
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        yield


def test_notifications_written_in_a_transaction_are_delivered_once_by_the_worker(worker):
    from django.db import transaction

    users = [CompanyUserFactory() for _ in range(5)]
    with transaction.atomic():
        for n, user in enumerate(users):
            notifications.notify(
                recipients=[user],
                event_key=f"integration:{n}",
                kind="test",
                template="capacity_reminder",
                context={"company": user.company},
            )
    assert wait_for(lambda: Notification.objects.filter(email_status=EmailStatus.SENT).count() == 5)
    # The relay queues nothing more, and queuing them all again sends nothing twice.
    notifications.enqueue_delivery(Notification.objects.values_list("pk", flat=True))
    assert not wait_for(lambda: len(mail.outbox) > 5, timeout=3)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)


def _reset_publisher_pools():
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    """Point the app's publisher at a closed port, as if Redis were stopped. Calling the
    yielded function brings the broker back; it is restored at teardown in any case."""
    good = celery_app.conf.broker_url

    def restore():
        celery_app.conf.broker_url = good
        _reset_publisher_pools()

    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
    _reset_publisher_pools()
    yield restore
    restore()


SUBMITTED = 100  # issue 7: Redis stopped while 100 inquiries are submitted


def test_nothing_is_lost_while_redis_is_down_and_nothing_is_sent_twice(
    network, secretariat_user, buyer_user, inquiry_data, broker_down
):
    from django.utils import timezone

    from brokerage.dispatch import events_relay
    from core.models import DomainEvent
    from orders import services

    started = time.monotonic()
    for _ in range(SUBMITTED):
        services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    # Every submission is saved, and the dead broker did not hang the requests.
    assert DomainEvent.objects.filter(dispatched_at__isnull=True).count() == SUBMITTED
    assert time.monotonic() - started < 60

    # Redis is back; a worker runs; the relay job finds what the outage left behind.
    broker_down()
    celery_app.conf.task_always_eager = False
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        DomainEvent.objects.update(created_at=timezone.now() - timezone.timedelta(minutes=5))
        assert events_relay() == SUBMITTED
        assert wait_for(lambda: not DomainEvent.objects.filter(dispatched_at__isnull=True).exists())
        # Each event told the secretariat and the buyer: two notifications and e-mails each.
        assert wait_for(lambda: len(mail.outbox) >= 2 * SUBMITTED)
        Notification.objects.update(created_at=timezone.now() - timezone.timedelta(minutes=5))
        notifications.notifications_relay()  # a redundant relay run sends nothing more
        assert not wait_for(lambda: len(mail.outbox) > 2 * SUBMITTED, timeout=3)
    assert Notification.objects.filter(email_status=EmailStatus.SENT).count() == 2 * SUBMITTED
    assert len(mail.outbox) == 2 * SUBMITTED


def test_whole_inquiry_flow_through_the_api_with_a_real_worker(
    worker, api, network, buyer_user, secretariat_user, make_lead, buff, stainless
):
    import datetime

    from django.utils import timezone

    from orders import services

    winner, loser = make_lead(), make_lead()
    payload = {
        "network": network.id,
        "title": "大型パネルのヘアライン",
        "description": "SUS430",
        "material": "stainless",
        "processes": ["buff"],
        "quantity": 300,
        "length_mm": 200,
        "width_mm": 100,
        "height_mm": 50,
        "weight_kg": "2",
        "desired_delivery_date": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
        "delivery_prefecture": "15",
    }
    created = api.as_(buyer_user).post("/api/v1/inquiries/", payload, format="json")
    assert created.status_code == 201, created.json()
    url = f"/api/v1/inquiries/{created.json()['id']}/"
    assert api.as_(secretariat_user).post(url + "publish/", {}, format="json").status_code == 200
    # The worker dispatches the publication: both leads are called.
    assert wait_for(
        lambda: all(
            Notification.objects.filter(recipient=u, kind="inquiry.published").exists()
            for u in (winner, loser)
        )
    )
    for user, price in ((winner, 90_000), (loser, 95_000)):
        response = api.as_(user).post(
            "/api/v1/applications/",
            {"inquiry": created.json()["id"], "price_yen": price, "lead_time_days": 10},
            format="json",
        )
        assert response.status_code == 201
    from orders.models import Inquiry

    Inquiry.objects.filter(pk=created.json()["id"]).update(
        application_deadline=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert services.inquiries_close_due() == 1  # what the beat job runs
    response = api.as_(secretariat_user).post(url + "confirm-award/")
    assert response.status_code == 200, response.json()
    assert response.json()["award"]["company"] == winner.company.id
    assert wait_for(
        lambda: (
            Notification.objects.filter(kind="award.confirmed").count() == 3
            and not Notification.objects.filter(email_status=EmailStatus.PENDING).exists()
        )
    )
    assert {m.to[0] for m in mail.outbox} >= {buyer_user.email, winner.email, loser.email}
