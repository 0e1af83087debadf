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
