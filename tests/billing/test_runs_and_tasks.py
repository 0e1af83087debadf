"""The settlement run's state table, the scheduled jobs, the rules data and concurrency."""

import datetime
import itertools
import threading

import pytest
from django.conf import settings
from django.db import connection

from billing import close, fees, tasks
from billing.models import RUN_TRANSITIONS, Document, RunKind, RunStatus, SettlementRun
from billing.tax import RoundingMode
from config.celery import app
from core.errors import InvalidTransition
from core.transitions import history, transition
from members.models import Network, TaxRounding
from tests.billing.books import OCTOBER, issued, tokyo
from tests.factories import CompanyFactory, NetworkFactory

ALL = list(RunStatus)


@pytest.mark.parametrize(("start", "target"), list(itertools.product(ALL, ALL)))
def test_every_run_move_is_allowed_or_refused_by_the_table(network, start, target):
    run = SettlementRun.objects.create(
        network=network, kind=RunKind.MONTHLY_CLOSE, period=OCTOBER, status=start
    )
    if start == target:
        assert transition(run, to=target, allowed=RUN_TRANSITIONS) is False
    elif target in RUN_TRANSITIONS[start]:
        assert transition(run, to=target, allowed=RUN_TRANSITIONS) is True
        assert history(run).last().from_status == start
    else:
        with pytest.raises(InvalidTransition):
            transition(run, to=target, allowed=RUN_TRANSITIONS)
        run.refresh_from_db()
        assert run.status == start and not history(run).exists()


def test_every_run_status_can_reach_completed():
    for status in ALL:
        reachable, frontier = {status}, {status}
        while frontier:
            frontier = set().union(*(RUN_TRANSITIONS[s] for s in frontier)) - reachable
            reachable |= frontier
        assert RunStatus.COMPLETED in reachable, status


def test_tax_rounding_choices_are_the_billing_modes(db):
    assert TaxRounding.values == RoundingMode.values
    assert CompanyFactory().tax_rounding == "down"


def test_network_team_pay_rule_is_optional(network):
    assert network.pay_team_within_days is None


# --- scheduled jobs ------------------------------------------------------------------------


def test_monthly_close_task_is_safe_to_run_twice(books):
    lead = books.lead_user()
    books.project(lead=lead)
    assert tasks.monthly_close_task(books.network.pk, "2026-10-01") == "completed"
    assert tasks.monthly_close_task(books.network.pk, "2026-10-01") == "completed"
    assert Document.objects.count() == 1


def test_monthly_close_task_reports_a_stopped_run(books):
    lead = books.lead_user()
    books.project(
        lead=lead,
        packages=[{"member": books.company_user(), "quantity": 1, "unit_price": 1, "charges": [5]}],
    )
    assert tasks.monthly_close_task(books.network.pk, "2026-10-01") == "failed"
    assert SettlementRun.objects.get().status == "failed"


def test_the_daily_job_closes_the_previous_month_once(books, time_machine, monkeypatch):
    time_machine.move_to(tokyo(2026, 11, 1, 2))
    NetworkFactory(slug="dormant", is_active=False)
    queued = []
    monkeypatch.setattr(tasks.monthly_close_task, "delay", lambda *args: queued.append(args))
    assert tasks.monthly_close_due_task() == 1
    assert queued == [(books.network.pk, "2026-10-01")]
    close.monthly_close(network=books.network, period=OCTOBER)
    assert close.monthly_close_due() == (OCTOBER, [])


def test_the_daily_job_bills_fees_at_the_fiscal_year_start(books, time_machine, monkeypatch):
    Network.objects.filter(pk=books.network.pk).update(fiscal_year_start_month=12)
    queued = []
    monkeypatch.setattr(tasks.annual_fees_task, "delay", lambda *args: queued.append(args))
    time_machine.move_to(tokyo(2026, 11, 30, 9))
    assert tasks.annual_fees_due_task() == 0
    time_machine.move_to(tokyo(2026, 12, 1, 9))
    assert tasks.annual_fees_due_task() == 1
    assert queued == [(books.network.pk, "2026-12-01")]
    books.company_user(joined_on=datetime.date(2019, 6, 1))
    assert tasks.annual_fees_task(*queued[0]) == "completed"
    assert issued(kind="fee").count() == 1
    time_machine.move_to(tokyo(2026, 12, 2, 9))
    assert fees.annual_fees_due() == []


def test_the_reminder_task_calls_the_service(monkeypatch):
    monkeypatch.setattr(tasks, "documents_remind_due", lambda: 7)
    assert tasks.documents_remind_due_task() == 7


def test_tasks_are_registered_and_scheduled():
    registered = set(app.tasks)
    beat = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in (
        "billing.monthly_close_due_task",
        "billing.annual_fees_due_task",
        "billing.documents_remind_due_task",
    ):
        assert name in registered and name in beat
    assert {"billing.monthly_close_task", "billing.annual_fees_task"} <= registered
    assert tasks.monthly_close_task.acks_late


# --- concurrency (PostgreSQL: real row locks) ------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_closing_the_same_month_issue_each_document_once(books):
    lead = books.lead_user()
    member = books.company_user()
    for day in range(1, 21):
        books.project(
            lead=lead,
            accepted_at=tokyo(2026, 10, day, 9),
            packages=[{"member": member, "quantity": 3, "unit_price": 1_000}],
        )
    errors = []
    barrier = threading.Barrier(2)

    def close_month():
        try:
            barrier.wait()
            close.monthly_close(network=books.network, period=OCTOBER)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=close_month) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert issued().count() == 40
    numbers = list(Document.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 40
    run = SettlementRun.objects.get()
    assert run.status == "completed" and run.progress_done == 20
