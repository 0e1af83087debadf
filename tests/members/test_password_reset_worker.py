"""Password reset through the real stack (second CI pass): the request commits, the worker
on the Redis broker dispatches the event and sends the e-mail once; the link works once."""

import re
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.test import Client

from brokerage.dispatch import events_relay
from brokerage.models import Notification
from brokerage.notifications import enqueue_delivery
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


def test_the_worker_sends_the_reset_email_once_and_its_link_works_once(worker):
    alice = CompanyUserFactory(email="alice@example.jp", password="old-password-1")
    assert Client().post("/password-reset/", {"email": "alice@example.jp"}).status_code == 302
    assert Client().post("/password-reset/", {"email": "nobody@example.jp"}).status_code == 302
    assert wait_for(lambda: len(mail.outbox) == 1)
    # Relaying and queuing everything again sends nothing twice.
    events_relay()
    enqueue_delivery(Notification.objects.values_list("pk", flat=True))
    assert not wait_for(lambda: len(mail.outbox) > 1, timeout=3)
    link = re.search(r"(/password-reset/\S+/)", mail.outbox[0].body).group(1)
    browser = Client()
    form = browser.get(link, follow=True)
    assert form.context["validlink"]
    browser.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Tsubame-new-2026", "new_password2": "Tsubame-new-2026"},
    )
    alice.refresh_from_db()
    assert alice.check_password("Tsubame-new-2026")
    assert Client().get(link, follow=True).context["validlink"] is False
