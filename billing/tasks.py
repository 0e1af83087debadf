"""Celery tasks of billing (the settlement worker's queue): take ids, call one service, safe
to run twice. Registered in every process by BillingConfig.ready: billing.enqueue queues the
runs by name."""

import datetime
import logging

from celery import shared_task
from django.contrib.auth import get_user_model

from core.errors import BrokerageError
from core.queueing import enqueue
from members.models import Network

from .close import monthly_close, monthly_close_due
from .enqueue import TASKS as RUN_TASKS
from .fees import annual_fees, annual_fees_due
from .payments import documents_remind_due
from .runs import settlement_runs_resume_stale

logger = logging.getLogger(__name__)


def _actor(actor_id: int | None):
    """The user who queued a run; a user deleted since counts as the system (None)."""
    if actor_id is None:
        return None
    return get_user_model().objects.filter(pk=actor_id, is_active=True).first()


@shared_task(
    name="billing.monthly_close_task",
    acks_late=True,
    ignore_result=True,
    # A large month takes longer than the default limit; a killed run resumes next time.
    time_limit=30 * 60,
    soft_time_limit=28 * 60,
)
def monthly_close_task(network_id: int, period: str, actor_id: int | None = None) -> str:
    """Close a month (`period`: ISO date of its first day) for a network. Safe to run twice:
    a completed month issues nothing, a stopped one resumes. `actor_id`: the secretariat
    user who started it from a page or the API (None: the daily job)."""
    network = Network.objects.get(pk=network_id)
    try:
        run = monthly_close(
            network=network, period=datetime.date.fromisoformat(period), actor=_actor(actor_id)
        )
    except BrokerageError as exc:  # recorded on the run; the secretariat corrects the data
        logger.warning("Monthly close %s of network %s stopped: %s", period, network_id, exc)
        return "failed"
    return run.status


@shared_task(name="billing.monthly_close_due_task", ignore_result=True)
def monthly_close_due_task() -> int:
    """Daily: queue the close of the previous month for every active network that has not
    completed it (on the 1st, all of them; later, only a stopped or missed one)."""
    period, network_ids = monthly_close_due()
    for network_id in network_ids:
        monthly_close_task.delay(network_id, period.isoformat())
    return len(network_ids)


@shared_task(name="billing.settlement_runs_resume_stale_task", ignore_result=True)
def settlement_runs_resume_stale_task() -> int:
    """Every minute: queue again the runs whose worker died (running, heartbeat stale); each
    resumes after its cursor. A publish that fails is logged: the claim goes stale again and
    a later scan queues the run then."""
    runs = settlement_runs_resume_stale()
    return sum(enqueue(RUN_TASKS[run.kind], run.network_id, run.period.isoformat()) for run in runs)


@shared_task(name="billing.annual_fees_task", acks_late=True, ignore_result=True)
def annual_fees_task(network_id: int, fiscal_year_start: str, actor_id: int | None = None) -> str:
    """Bill a network's annual fees for the fiscal year starting on `fiscal_year_start`."""
    network = Network.objects.get(pk=network_id)
    try:
        run = annual_fees(
            network=network,
            fiscal_year_start=datetime.date.fromisoformat(fiscal_year_start),
            actor=_actor(actor_id),
        )
    except BrokerageError as exc:  # e.g. a class missing from the fee table: nothing issued
        logger.warning("Annual fees of network %s not billed: %s", network_id, exc)
        return "failed"
    return run.status


@shared_task(name="billing.annual_fees_due_task", ignore_result=True)
def annual_fees_due_task() -> int:
    """Daily: queue the annual fees of the networks whose fiscal year has just started."""
    due = annual_fees_due()
    for network_id, start in due:
        annual_fees_task.delay(network_id, start.isoformat())
    return len(due)


@shared_task(name="billing.documents_remind_due_task", ignore_result=True)
def documents_remind_due_task() -> int:
    """Daily: remind of documents due within 3 days and of overdue ones (once each)."""
    return documents_remind_due()
