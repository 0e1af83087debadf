"""Late-package warnings through a real Celery worker on Redis (second CI pass)."""

import datetime

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.utils import timezone

from brokerage.models import EmailStatus, Notification
from config.celery import app as celery_app
from orders.models import WorkPackage
from tests.brokerage.test_worker_integration import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    celery_app.conf.task_always_eager = False
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        yield


def test_the_scheduled_job_warns_member_and_lead_once_by_e_mail(team_package, worker):
    package, member_user, lead = team_package
    WorkPackage.objects.filter(pk=package.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    mail.outbox.clear()
    # What beat does every hour; twice, as two overlapping runs might.
    celery_app.tasks["brokerage.packages_warn_due_task"].delay()
    celery_app.tasks["brokerage.packages_warn_due_task"].delay()

    def delivered():
        return Notification.objects.filter(
            kind="package.late", email_status=EmailStatus.SENT
        ).count()

    assert wait_for(lambda: delivered() == 2)
    assert not wait_for(lambda: delivered() > 2, timeout=3)
    to = sorted(m.to[0] for m in mail.outbox if "late" in m.subject.lower() or "遅" in m.subject)
    assert to == sorted([member_user.email, lead.email])
