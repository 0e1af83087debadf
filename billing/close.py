"""The monthly close (月次締め): a network's accepted projects of a month settled chunk by chunk
(planned in a thread while the previous chunk is written), then the month's commissions."""

import datetime
import gc
import logging
import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.errors import BrokerageError
from members.models import Network
from members.permissions import roles_of
from orders.models import Project

from . import runs
from .bulk import copy_supported
from .commissions import commissions_issue
from .issuing import IssueBatch
from .models import RunKind, RunStatus, SettlementRun
from .periods import month_over, previous_month
from .settlement import PROJECT_FIELDS, load_project_facts, month_projects, settle_project

logger = logging.getLogger(__name__)


def monthly_close(*, network: Network, period: datetime.date, actor=None) -> SettlementRun:
    """Close a month (月次締め): settle every project the buyer accepted in it, then issue
    the month's commissions, and complete the run.

    `period` is the month's first day; the month must be over. Projects are settled in pk
    order, runs.CHUNK_SIZE per transaction, each transaction also advancing the run's cursor
    and progress, so a crash leaves a run that the next call resumes after the last committed
    chunk without issuing anything twice. Concurrent calls take turns per chunk. A completed
    month is returned as it is (nothing new); a reopened one is recomputed. An error marks
    the run failed (with the error) and is raised again. `actor` None: the scheduled job."""
    if actor is not None:  # None: the scheduled job
        roles_of(actor).require_secretariat(
            network.pk, _("Only the network's secretariat may run the settlement.")
        )
    if period.day != 1:
        raise BrokerageError(_("A month is closed from its first day."), field="period")
    if not month_over(period):
        raise BrokerageError(_("This month is not over yet."), field="period")
    projects = month_projects(network, period)
    run = runs.run_start(
        network=network,
        kind=RunKind.MONTHLY_CLOSE,
        period=period,
        actor=actor,
        total=projects.count(),
    )
    if run.status == RunStatus.COMPLETED:
        return run
    phases = _Phases()
    with (
        runs.RunWork(run, actor) as work,
        _gc_paused(),
        ThreadPoolExecutor(1, thread_name_prefix="close") as pool,
    ):
        _settle_projects(work, pool, projects, phases)
        work.current = _("commissions")
        with phases("commissions"):
            commissions_issue(run, actor)
    if work.completed_meanwhile:
        return run
    with phases("completing"):
        run = runs.run_complete(run, actor)
    run.phases = phases.seconds()
    logger.info("monthly close %s: %s", run, run.phases)
    return run


def _settle_projects(work: runs.RunWork, pool: ThreadPoolExecutor, projects, phases) -> None:
    """Settle the month's projects after the run's cursor, a chunk a transaction: the next
    chunk is read here and planned in `pool` while this one is written (mostly the
    database's work)."""
    run, actor = work.run, work.actor
    chunks = _month_chunks(projects, run.cursor)
    with phases("reads"):
        planned = _plan_next(pool, chunks, run, actor, phases)
    while planned is not None:
        with phases("waiting for planning"):
            batch, chunk, failed_at = planned.result()
        if failed_at is not None:
            work.current = failed_at
            raise batch  # the exception, from the planning thread
        with phases("reads"):
            planned = _plan_next(pool, chunks, run, actor, phases)
        work.current = chunk[-1].inquiry.reference
        _write_chunk(run, batch, chunk, phases)


def _write_chunk(run: SettlementRun, batch: IssueBatch, chunk: list[Project], phases) -> None:
    """Write a planned chunk and advance the run past it, in one transaction under the run's
    lock; what a concurrent worker settled meanwhile is left out."""
    with phases("chunk transactions"), transaction.atomic():  # noqa: SIM117 - nested: see below
        with phases("chunk writes before commit"):  # the rest is the commit
            locked = runs.lock_running(run)
            batch.run = locked
            if chunk[0].pk <= locked.cursor:  # a concurrent worker was here
                batch.retain(locked.cursor)
            batch.flush()
            runs.run_advance(locked, chunk)


def _month_chunks(projects, cursor: int):
    """The month's projects after `cursor`, runs.CHUNK_SIZE at a time, with their facts."""
    while chunk := list(
        projects.filter(pk__gt=cursor)
        .select_related("lead", "inquiry__buyer")
        .only(*PROJECT_FIELDS)
        .order_by("pk")[: runs.CHUNK_SIZE]
    ):
        yield chunk, load_project_facts([p.pk for p in chunk])
        cursor = chunk[-1].pk


def _plan_next(
    pool: ThreadPoolExecutor, chunks, run: SettlementRun, actor, phases: "_Phases"
) -> Future | None:
    """Read the next chunk (this thread: the connection is this thread's) and start planning
    its documents in `pool`. Planning is pure Python and writing mostly the database's
    work, so on two cores a chunk is planned while the previous one is written."""
    chunk = next(chunks, None)
    if chunk is None:
        return None
    network = run.network
    for project in chunk[0]:
        project.network = network
    language, render = translation.get_language(), copy_supported()
    return pool.submit(_plan_chunk, *chunk, run, actor, language, render, phases)


def _plan_chunk(
    chunk: list[Project], facts: dict, run: SettlementRun, actor, language, render, phases
):
    """The chunk's documents, planned in an IssueBatch (the run is locked when it is
    written). Returns (batch, chunk, None), or (the exception, chunk, the project's
    reference) if a project cannot be settled: raised by the caller, in its thread."""
    batch = IssueBatch(run, actor)
    with phases("planning (own thread)"), translation.override(language), _no_queries():
        for project in chunk:
            try:
                settle_project(
                    project=project, run=run, actor=actor, facts=facts[project.pk], batch=batch
                )
            except BaseException as exc:  # SystemExit too: a test's stand-in for a kill
                return exc, chunk, project.inquiry.reference
        if render:
            batch.render()
    return batch, chunk, None


@contextmanager
def _no_queries():
    """Planning runs in a worker thread, outside the chunk's transaction: a query there
    (a field left out of PROJECT_FIELDS, say) would open a second connection."""

    def refuse(*args):
        raise RuntimeError("billing: no queries while planning a chunk")

    with connection.execute_wrapper(refuse):
        yield


@contextmanager
def _gc_paused():
    """Pause Python's cyclic garbage collector during a close. Each chunk allocates some
    100,000 short-lived objects without cycles, and the collector would walk the heap again
    and again (a fifth of a 10,000-project close, measured). Reference counting frees most of
    each chunk when the next replaces it; the few cycles (a project and its one-to-one
    inquiry) wait for the end of the close: tens of MB for 10,000 projects."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Phases:
    """Wall-clock seconds per phase of a close (nested phases count in both), for the log
    and the benchmark. Planning runs in its own thread: its time overlaps the others."""

    def __init__(self):
        self.totals: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.totals[name] += time.perf_counter() - start

    def seconds(self) -> dict[str, float]:
        return {name: round(t, 2) for name, t in self.totals.items()}


def monthly_close_due(*, today: datetime.date | None = None) -> tuple[datetime.date, list[int]]:
    """The previous month and the active networks whose close of it is not completed (none
    yet, stopped by an error, or crashed). Reopened months are left to the secretariat."""
    period = previous_month(today or timezone.localdate())
    done = runs.settled_runs(RunKind.MONTHLY_CLOSE, period).values("network_id")
    networks = Network.objects.filter(is_active=True).exclude(pk__in=done).order_by("pk")
    return period, list(networks.values_list("pk", flat=True))
