"""Each kind of background work goes to its own queue (one worker per queue in production)."""

import pytest

from config.celery import app


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("brokerage.notification_deliver_task", "notifications"),
        ("brokerage.event_dispatch_task", "notifications"),
        ("brokerage.webhook_deliver_task", "partners"),
        ("brokerage.referral_offer_email_task", "partners"),
        ("billing.monthly_close_task", "settlement"),
        ("brokerage.inquiries_close_due_task", "celery"),
        ("brokerage.packages_warn_due_task", "celery"),
    ],
)
def test_tasks_are_routed_to_their_queue(task, queue):
    route = app.amqp.router.route({}, task, args=(), kwargs={})
    assert route["queue"].name == queue


def test_a_worker_without_q_consumes_every_queue():
    assert set(app.amqp.queues) == {"celery", "notifications", "settlement", "partners"}
