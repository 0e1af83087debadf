"""Benchmark 5: the notification outbox drained by one real Celery worker on Redis.

10,000 pending Notification rows (BENCH_NOTIFICATIONS) are queued for delivery
(brokerage.notifications.enqueue_delivery, as after commit: tasks of 100), then one worker
(celery's start_worker, solo pool, in this process) delivers them through the locmem e-mail
backend.
Rate = notifications / (last emailed_at − first emailed_at). Every e-mail's subject names its
notification, so lost and duplicated sends are counted per notification id; afterwards 1,000
are queued again and must send nothing. Target: ≥ 500 deliveries/s, 0 lost, 0 sent twice.

Baseline, in the same run and worker: 1,000 more notifications (BENCH_NOTIFICATIONS_BASELINE)
delivered one task each (`brokerage.notification_deliver_task`, what the relay and the
retries use), as every delivery was queued before batching. Ratio = batch rate / baseline.
"""

import collections
import logging
import os
import time

from django.conf import settings
from django.core import mail
from django.db.models import Max, Min

from .common import progress, report


def run() -> dict:
    from celery.contrib.testing.worker import start_worker

    from brokerage import notifications
    from brokerage.models import EmailStatus, Notification
    from config.celery import app as celery_app
    from members.models import User

    total = int(os.environ.get("BENCH_NOTIFICATIONS", "10000"))
    logging.getLogger("celery").setLevel(logging.WARNING)  # not a log line per task
    if not settings.REDIS_URL:
        return report("notifications", skipped="needs Redis (set REDIS_URL)", met=None)
    from brokerage.tasks import notification_deliver_task

    baseline_total = int(os.environ.get("BENCH_NOTIFICATIONS_BASELINE", "1000"))
    users = User.objects.bulk_create(
        [User(username=f"nt-user{n}", email=f"nt{n}@example.com") for n in range(200)]
    )

    def outbox(count: int, prefix: str) -> list:
        return Notification.objects.bulk_create(
            [
                Notification(
                    recipient=users[n % len(users)],
                    event_key=f"{prefix}:{n}",
                    kind="bench",
                    subject=f"{prefix}-notification {n}",
                    body="引き合いが届きました。",
                    link=f"/inquiries/{n}/",
                    email_status=EmailStatus.PENDING,
                )
                for n in range(count)
            ],
            batch_size=2000,
        )

    rows = outbox(total, "bench")
    by_subject = {r.subject: r.pk for r in rows}
    mail.outbox = []
    celery_app.conf.task_always_eager = False
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge("notifications")  # nothing left from an earlier run
    t0 = time.perf_counter()
    notifications.enqueue_delivery([r.pk for r in rows])
    enqueue_s = time.perf_counter() - t0
    progress(f"{total:,} deliveries queued in {enqueue_s:.1f} s; starting one worker")
    pending = Notification.objects.filter(email_status=EmailStatus.PENDING)
    deadline = time.monotonic() + 600
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        while pending.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
            progress(f"pending: {pending.count():,}")
        # Queue 1,000 again (as a relay or a redelivery would): nothing must be sent twice.
        notifications.enqueue_delivery([r.pk for r in rows[:1000]])
        with celery_app.connection_for_write() as conn:
            while conn.default_channel.client.llen("notifications") and time.monotonic() < deadline:
                time.sleep(0.2)
        time.sleep(1)
        # Baseline: one task per notification, same worker.
        baseline_rows = outbox(baseline_total, "baseline")
        for row in baseline_rows:
            notification_deliver_task.delay(row.pk)
        progress(f"baseline: {baseline_total:,} deliveries queued one task each")
        while pending.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    baseline_span = Notification.objects.filter(pk__in=[r.pk for r in baseline_rows]).aggregate(
        a=Min("emailed_at"), b=Max("emailed_at")
    )
    baseline_seconds = (
        (baseline_span["b"] - baseline_span["a"]).total_seconds() if baseline_span["a"] else None
    )
    baseline_rate = round(baseline_total / baseline_seconds, 1) if baseline_seconds else None
    mail.outbox = [m for m in mail.outbox if not m.subject.startswith("baseline-")]
    sent_per_id = collections.Counter(by_subject.get(m.subject) for m in mail.outbox)
    lost = sum(1 for pk in by_subject.values() if sent_per_id[pk] == 0)
    twice = sum(1 for pk, n in sent_per_id.items() if n > 1)
    span = Notification.objects.filter(pk__in=list(by_subject.values())).aggregate(
        a=Min("emailed_at"), b=Max("emailed_at")
    )
    seconds = (span["b"] - span["a"]).total_seconds() if span["a"] else None
    rate = round(total / seconds, 1) if seconds else None
    return report(
        "notifications",
        outbox_entries=total,
        worker="1 Celery worker (solo pool) on Redis, locmem e-mail backend",
        enqueue_seconds=round(enqueue_s, 2),
        delivery_seconds=round(seconds, 2) if seconds else None,
        deliveries_per_s=rate,
        baseline="one task per notification (1 worker, same run)",
        baseline_deliveries_per_s=baseline_rate,
        ratio_to_baseline=round(rate / baseline_rate, 1) if rate and baseline_rate else None,
        emails_sent=len(mail.outbox),
        lost=lost,
        sent_twice=twice,
        still_pending=pending.count(),
        targets={"deliveries_per_s": ">= 500", "lost": 0, "sent_twice": 0},
        met=bool(rate and rate >= 500 and lost == 0 and twice == 0),
    )
