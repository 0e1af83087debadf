"""A settlement worker killed with SIGKILL in the middle of a monthly close: a fresh worker
with its beat picks the run up by itself (the resume scan finds its heartbeat stale), with no
manual step, and its totals equal an uninterrupted run's (issues 7 and 13; second CI pass:
PostgreSQL + Redis)."""

import contextlib
import datetime
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from billing.close import monthly_close
from billing.models import Document, DocumentLine, SettlementRun
from core.transitions import history
from members.models import Buyer, Material, Process, User

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = 400


def _shared():
    user = User.objects.create_user("kill-user", "kill@example.com", "x")
    buyer_users = User.objects.bulk_create(
        [User(username=f"kill-buyer{n}", email=f"kb{n}@example.com") for n in range(20)]
    )
    return {
        "user": user,
        "buyers": Buyer.objects.bulk_create(
            [
                Buyer(user=u, kind="company", name=f"発注者{n}", email=u.email)
                for n, u in enumerate(buyer_users)
            ]
        ),
        "material": Material.objects.create(code="k-sus", name_ja="ステンレス", name_en="SUS"),
        "processes": [
            Process.objects.create(code=f"k-p{i}", name_ja=f"研磨{i}", name_en=f"p{i}")
            for i in range(3)
        ],
    }


def _worker(*, beat_schedule: Path | None = None):
    """A real Celery worker process on the settlement queue, on this test database; with
    `beat_schedule`, its embedded beat too, scanning for stale runs every second and calling
    a run stale after 2 s without a heartbeat (production: every minute, 3 minutes)."""
    db = connection.settings_dict
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{host}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "BILLING_CHUNK_SIZE": "5",  # many small transactions, so the kill lands between them
        "CELERY_TASK_ALWAYS_EAGER": "False",
        "SETTLEMENT_RUN_RESUME_SCAN_SECONDS": "1",
        "SETTLEMENT_RUN_STALE_SECONDS": "2",
    }
    beat = ["--beat", f"--schedule={beat_schedule}"] if beat_schedule else []
    return subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            "settlement",
            "--pool=solo",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=WARNING",
            *beat,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # Its own process group: the embedded beat is a child process that would outlive a
        # kill of the worker alone and go on queueing scans into later tests.
        start_new_session=True,
    )


def _kill(worker) -> None:
    """SIGKILL the worker and its embedded beat, as a crashed container would lose both."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def _wait(predicate, timeout=60.0, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def _stderr_of(worker) -> str:
    """What a worker that did not do its part said (it is stopped to read it)."""
    _kill(worker)
    return worker.stderr.read().decode(errors="replace")[-4000:]


def _totals(network):
    """Per document kind: documents, lines, and the sums of their amounts and totals."""
    documents = Document.objects.filter(network=network, status="issued")
    lines = DocumentLine.objects.filter(document__in=documents)
    return {
        "documents": {
            row["kind"]: (row["n"], row["subtotal"], row["tax"], row["total"])
            for row in documents.values("kind").annotate(
                n=Count("id"),
                subtotal=Sum("subtotal_yen"),
                tax=Sum("tax_yen"),
                total=Sum("total_yen"),
            )
        },
        "lines": {
            row["document__kind"]: (row["n"], row["amount"])
            for row in lines.values("document__kind").annotate(
                n=Count("id"), amount=Sum("amount_yen")
            )
        },
    }


def _forget_settlement_messages(celery_app) -> None:
    """Empty the settlement queue and Redis' record of unacknowledged messages. A worker
    killed here leaves its message unacknowledged in Redis, and Redis puts it back in the
    queue once the visibility timeout (1 h) has passed: in a later run on the same Redis
    (CI on this machine, an hour on) that old message, `monthly_close_task(<same network
    id>, <same month>)`, would resume the run before the scan and hide what this tests."""
    with celery_app.connection_for_write() as conn:
        channel = conn.default_channel
        channel.queue_purge("settlement")
        channel.client.delete(channel.unacked_key, channel.unacked_index_key)


def test_a_killed_settlement_worker_resumes_by_itself_and_issues_everything_once(tmp_path):
    from bench.settlement import build_network
    from billing.tasks import monthly_close_task
    from config.celery import app as celery_app

    celery_app.conf.task_always_eager = False
    period = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    shared = _shared()
    # Two identical networks: one closed by a worker that gets killed, one closed in one go.
    killed_net, _ = build_network(
        random.Random(7), slug="killed", projects=PROJECTS, period=period, shared=shared
    )
    calm_net, calm_secretariat = build_network(
        random.Random(7), slug="calm", projects=PROJECTS, period=period, shared=shared
    )
    monthly_close(network=calm_net, period=period, actor=calm_secretariat)

    _forget_settlement_messages(celery_app)
    worker = _worker()
    try:
        monthly_close_task.delay(killed_net.pk, period.isoformat())
        run = lambda: SettlementRun.objects.filter(network=killed_net).first()  # noqa: E731
        started = _wait(lambda: run() is not None and run().progress_done >= 40, timeout=180)
        assert started, _stderr_of(worker)
        _kill(worker)
    finally:
        _kill(worker)
    stopped = run()
    assert stopped.status == "running"
    assert 0 < stopped.progress_done < PROJECTS
    issued_at_kill = Document.objects.filter(network=killed_net).count()
    assert issued_at_kill > 0

    # No manual step: the killed task's message comes back only after Redis' visibility
    # timeout (1 h), so what resumes the run is the fresh worker's beat, whose scan finds the
    # heartbeat stale, claims the run and queues it; it continues after the cursor.
    worker = _worker(beat_schedule=tmp_path / "celerybeat-schedule")
    try:
        assert _wait(lambda: run().status == "completed", timeout=180), _stderr_of(worker)
    finally:
        _kill(worker)
        _forget_settlement_messages(celery_app)
    resumed = run()
    assert resumed.progress_done == PROJECTS
    changes = list(history(resumed).order_by("pk"))
    claims = [c for c in changes if c.actor_label == "resume scan"]
    assert claims, [(c.actor_label, c.to_status, c.reason, c.created_at) for c in changes]
    assert all((c.from_status, c.to_status) == ("running", "running") for c in claims)
    assert _totals(killed_net) == _totals(calm_net)
    assert not Document.objects.filter(network=killed_net, status="cancelled").exists()
