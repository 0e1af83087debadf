"""A run whose worker died is picked up again by the resume scan (issue 13, point 5): its
heartbeat goes stale, the scan claims it once and queues it, and the resumed run's totals
equal an uninterrupted close. The SIGKILL test on a real worker is test_worker_killed.py."""

import datetime
import threading

import pytest
from django.conf import settings
from django.db import connection, transaction
from kombu.exceptions import OperationalError

from billing import close, runs, tasks
from billing.models import RunKind, RunStatus, SettlementRun
from config.celery import app
from core.transitions import history
from tests.billing.books import OCTOBER, Books, issued, tokyo
from tests.billing.test_monthly_close import five_projects, summary
from tests.factories import NetworkFactory, SettlementRunFactory

STALE = datetime.timedelta(seconds=settings.SETTLEMENT_RUN_STALE_SECONDS)
NOVEMBER_5 = tokyo(2026, 11, 5, 9)


def _killed_close(books, monkeypatch, time_machine, *, on_project=4):
    """A close whose worker dies (SystemExit: not marked failed) while settling the
    `on_project`-th project, one project per chunk; the clock moves a minute per project."""
    real = close.settle_project
    calls = []

    def settle(**kwargs):
        calls.append(1)
        time_machine.shift(datetime.timedelta(minutes=1))
        if len(calls) == on_project:
            raise SystemExit("SIGKILL")
        return real(**kwargs)

    monkeypatch.setattr(close, "settle_project", settle)
    monkeypatch.setattr(runs, "CHUNK_SIZE", 1)
    with pytest.raises(SystemExit):
        books.close()
    monkeypatch.setattr(close, "settle_project", real)
    return SettlementRun.objects.get(network=books.network)


@pytest.fixture
def queued(monkeypatch):
    """What the scan task publishes, per task name, instead of the broker."""
    sent = []
    for task in (tasks.monthly_close_task, tasks.annual_fees_task):
        monkeypatch.setattr(task, "delay", lambda *args, _n=task.name: sent.append((_n, args)))
    return sent


def test_each_chunk_commit_touches_the_heartbeat(books, monkeypatch, time_machine):
    time_machine.move_to(NOVEMBER_5, tick=False)
    five_projects(books)
    run = _killed_close(books, monkeypatch, time_machine)
    assert run.status == RunStatus.RUNNING and run.progress_done == 3
    # Started at 9:00; the third chunk committed after the clock moved past 9:03.
    assert run.heartbeat_at >= NOVEMBER_5 + datetime.timedelta(minutes=3) > run.started_at


def test_a_run_whose_worker_died_is_queued_again_and_ends_like_an_uninterrupted_one(
    books, buff, stainless, monkeypatch, time_machine, queued
):
    time_machine.move_to(NOVEMBER_5, tick=False)
    twin = Books(NetworkFactory(slug="twin"), buff, stainless)
    five_projects(books)
    five_projects(twin)
    twin.close()
    run = _killed_close(books, monkeypatch, time_machine)

    time_machine.shift(STALE - datetime.timedelta(seconds=1))
    assert tasks.settlement_runs_resume_stale_task() == 0  # not stale yet: maybe still alive
    time_machine.shift(datetime.timedelta(seconds=2))
    assert tasks.settlement_runs_resume_stale_task() == 1
    assert queued == [("billing.monthly_close_task", (books.network.pk, "2026-10-01"))]
    claim = history(run).last()
    assert (claim.from_status, claim.to_status, claim.actor_label) == (
        "running",
        "running",
        "resume scan",
    )
    assert f"resumed after cursor {run.cursor}" in claim.reason

    assert tasks.monthly_close_task(*queued[0][1]) == "completed"
    run.refresh_from_db()
    assert run.progress_done == 5
    assert summary(books.network) == summary(twin.network)
    assert not issued(network=books.network).filter(status="cancelled").exists()
    assert [(c.from_status, c.to_status) for c in history(run)] == [
        ("", "running"),
        ("running", "running"),
        ("running", "completed"),
    ]


def test_a_claimed_run_is_queued_once_until_its_claim_goes_stale(
    books, monkeypatch, time_machine, queued
):
    time_machine.move_to(NOVEMBER_5, tick=False)
    five_projects(books)
    run = _killed_close(books, monkeypatch, time_machine)
    time_machine.shift(STALE + datetime.timedelta(seconds=1))
    assert tasks.settlement_runs_resume_stale_task() == 1
    # The next scans, a minute later: the claim moved the heartbeat, the run waits for its task.
    time_machine.shift(datetime.timedelta(minutes=1))
    assert tasks.settlement_runs_resume_stale_task() == 0
    assert len(queued) == 1
    # The task never started (its message lost): once the claim is stale the run is queued again.
    time_machine.shift(STALE)
    assert tasks.settlement_runs_resume_stale_task() == 1
    assert len(queued) == 2
    assert [c.actor_label for c in history(run)].count("resume scan") == 2


def test_a_broker_outage_leaves_the_run_for_a_later_scan(books, monkeypatch, time_machine):
    time_machine.move_to(NOVEMBER_5, tick=False)
    five_projects(books)
    _killed_close(books, monkeypatch, time_machine)

    def down(*args):
        raise OperationalError("Redis is down")

    monkeypatch.setattr(tasks.monthly_close_task, "delay", down)
    time_machine.shift(STALE + datetime.timedelta(seconds=1))
    assert tasks.settlement_runs_resume_stale_task() == 0  # logged, not raised
    sent = []
    monkeypatch.setattr(tasks.monthly_close_task, "delay", lambda *args: sent.append(args))
    time_machine.shift(STALE + datetime.timedelta(seconds=1))
    assert tasks.settlement_runs_resume_stale_task() == 1
    assert sent == [(books.network.pk, "2026-10-01")]


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.REOPENED])
def test_only_running_runs_are_resumed(network, status, time_machine, queued):
    time_machine.move_to(NOVEMBER_5, tick=False)
    SettlementRunFactory(
        network=network,
        kind=RunKind.MONTHLY_CLOSE,
        period=OCTOBER,
        status=status,
        heartbeat_at=NOVEMBER_5 - 10 * STALE,
    )
    assert tasks.settlement_runs_resume_stale_task() == 0
    assert queued == []


def test_an_annual_fee_run_and_a_run_without_heartbeat_are_resumed_by_their_task(
    network, time_machine, queued
):
    time_machine.move_to(NOVEMBER_5, tick=False)
    fees = SettlementRunFactory(
        network=network,
        kind=RunKind.ANNUAL_FEES,
        period=datetime.date(2026, 4, 1),
        heartbeat_at=NOVEMBER_5 - STALE - datetime.timedelta(seconds=1),
    )
    # A run started before the heartbeat existed (the field's migration left it empty).
    SettlementRunFactory(
        network=network, kind=RunKind.MONTHLY_CLOSE, period=OCTOBER, heartbeat_at=None
    )
    assert tasks.settlement_runs_resume_stale_task() == 2
    assert sorted(queued) == [
        ("billing.annual_fees_task", (network.pk, "2026-04-01")),
        ("billing.monthly_close_task", (network.pk, "2026-10-01")),
    ]
    fees.refresh_from_db()
    assert fees.heartbeat_at == NOVEMBER_5


def test_the_scan_is_scheduled_every_minute_on_the_settlement_queue():
    entry = settings.CELERY_BEAT_SCHEDULE["billing-settlement-runs-resume-stale"]
    assert entry["task"] == "billing.settlement_runs_resume_stale_task" in app.tasks
    assert entry["schedule"] == 60.0
    # A resume within a few minutes, and longer than the slowest chunk (about a second).
    assert 60 <= settings.SETTLEMENT_RUN_STALE_SECONDS <= 300
    route = app.amqp.router.route({}, entry["task"])
    assert route["queue"].name == "settlement"


# --- a live worker is never raced (PostgreSQL: real row locks) ---------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_scan_skips_a_run_whose_chunk_transaction_is_open(network, time_machine):
    """A worker inside a chunk's transaction holds the run's row: the scan skips it rather
    than waiting, even with an old heartbeat (a chunk slower than the threshold)."""
    time_machine.move_to(NOVEMBER_5, tick=False)
    run = SettlementRunFactory(
        network=network,
        kind=RunKind.MONTHLY_CLOSE,
        period=OCTOBER,
        heartbeat_at=NOVEMBER_5 - 2 * STALE,
    )
    locked, release = threading.Event(), threading.Event()

    def live_worker():
        try:
            with transaction.atomic():
                runs.lock_running(run)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    worker = threading.Thread(target=live_worker)
    worker.start()
    try:
        assert locked.wait(30)
        assert runs.settlement_runs_resume_stale() == []
    finally:
        release.set()
        worker.join()
    assert [r.pk for r in runs.settlement_runs_resume_stale()] == [run.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_scans_claim_a_stale_run_once(network, time_machine):
    time_machine.move_to(NOVEMBER_5, tick=False)
    run = SettlementRunFactory(
        network=network,
        kind=RunKind.MONTHLY_CLOSE,
        period=OCTOBER,
        heartbeat_at=NOVEMBER_5 - 2 * STALE,
    )
    barrier = threading.Barrier(4)
    claims, errors = [], []

    def scan():
        try:
            barrier.wait()
            claims.extend(r.pk for r in runs.settlement_runs_resume_stale())
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    scans = [threading.Thread(target=scan) for _ in range(4)]
    for thread in scans:
        thread.start()
    for thread in scans:
        thread.join()
    assert errors == []
    assert claims == [run.pk]
    assert [c.actor_label for c in history(run)] == ["resume scan"]
