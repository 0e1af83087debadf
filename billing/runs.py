"""Settlement runs (SettlementRun): start or resume, the per-chunk lock, cursor and heartbeat,
failure and completion, the scan that resumes a run whose worker died, and the reopen."""

import datetime
import logging
import os
from collections.abc import Iterable

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core import events
from core.errors import BrokerageError, InvalidTransition
from core.models import StatusChange
from core.transitions import record_creation, transition
from members.locks import lock_one
from members.models import Network
from members.permissions import roles_of

from .models import DocumentStatus, RunKind, RunStatus, SettlementRun

logger = logging.getLogger(__name__)

# Projects (memberships) read, prefetched and settled per transaction: a crash loses at
# most one chunk, which the next call settles again. A transaction per project costs a
# commit each (10,000 projects: ~5 s of commits alone on SQLite here, half the budget).
# 2,000 projects (≈ 20,000 lines) keep a chunk near 150 MB; 1,000 cost 15% more time in
# per-chunk reads and commits, 2,500 little less time for more memory (`make bench`).
# BILLING_CHUNK_SIZE in the environment overrides it (tests that kill a worker mid-run).
CHUNK_SIZE = int(os.environ.get("BILLING_CHUNK_SIZE", "2000"))
# The scheduled job, in the status history.
SYSTEM_ACTOR = "scheduled job"
# The scan that queues a run whose worker died, in the status history.
RESUME_SCAN_ACTOR = "resume scan"
# A period whose run is in one of these is done: the daily jobs leave it alone.
SETTLED = (RunStatus.COMPLETED, RunStatus.REOPENED)


def settled_runs(kind: str, period: datetime.date):
    """The runs of `kind` for `period` that the daily jobs need not start again (completed,
    or reopened: that is the secretariat's to run)."""
    return SettlementRun.objects.filter(kind=kind, period=period, status__in=SETTLED)


def _move(run: SettlementRun, to: str, actor, **changes) -> bool:
    """`transition` in the run's table; no actor means the scheduled job."""
    return transition(
        run,
        to=to,
        allowed=SettlementRun.TRANSITIONS,
        actor=actor,
        actor_label="" if actor is not None else SYSTEM_ACTOR,
        **changes,
    )


def run_start(
    *, network: Network, kind: str, period: datetime.date, actor, total: int
) -> SettlementRun:
    """Create the run, or make the existing one run again: a failed or crashed one resumes
    after its cursor; a reopened one recomputes from the start; a completed annual-fee run
    starts over to bill new members. A completed monthly close is returned as it is."""
    with transaction.atomic():
        run, created = SettlementRun.objects.get_or_create(
            network=network,
            kind=kind,
            period=period,
            defaults={
                "started_by": actor,
                "progress_total": total,
                "heartbeat_at": timezone.now(),
            },
        )
        if created:
            record_creation(run, actor=actor)
            return run
        run = lock_one(SettlementRun, run.pk)
        if run.status == RunStatus.COMPLETED and kind == RunKind.MONTHLY_CLOSE:
            return run
        fields = ["progress_total", "error", "finished_at", "heartbeat_at"]
        if run.status in SETTLED:
            run.cursor, run.progress_done = 0, 0
            run.recomputing = run.status == RunStatus.REOPENED
            fields += ["cursor", "progress_done", "recomputing"]
        run.progress_total = max(total, run.progress_done)
        run.error, run.finished_at, run.heartbeat_at = "", None, timezone.now()
        if not _move(run, RunStatus.RUNNING, actor, update_fields=tuple(fields)):
            run.save(update_fields=fields)
    return run


class RunCompleted(Exception):
    """A concurrent worker completed the run meanwhile: nothing is left to do."""


def lock_running(run: SettlementRun) -> SettlementRun:
    """The run, locked for one chunk's transaction: concurrent workers on one run take turns,
    and each sees the cursor the other advanced."""
    run = (
        SettlementRun.objects.select_for_update(of=("self",))
        .select_related("network")
        .get(pk=run.pk)
    )
    if run.status == RunStatus.COMPLETED:
        raise RunCompleted
    if run.status != RunStatus.RUNNING:
        raise InvalidTransition(
            _("The settlement run stopped meanwhile (%(status)s).")
            % {"status": run.get_status_display()},
            field="status",
        )
    return run


def run_advance(locked: SettlementRun, chunk: Iterable) -> None:
    """In a chunk's transaction, after its documents: move the run's cursor past the chunk
    (projects or memberships, in pk order), count those not already counted by a concurrent
    worker, and touch the heartbeat the resume scan watches."""
    chunk = list(chunk)
    SettlementRun.objects.filter(pk=locked.pk).update(
        cursor=max(chunk[-1].pk, locked.cursor),
        progress_done=F("progress_done") + sum(1 for row in chunk if row.pk > locked.cursor),
        heartbeat_at=timezone.now(),
    )


class RunWork:
    """The chunks of a run, as a context: an error marks the run failed (with `current`, what
    was being settled) and is raised again; a run a concurrent worker completed meanwhile
    ends the work quietly (`completed_meanwhile`)."""

    def __init__(self, run: SettlementRun, actor):
        self.run, self.actor = run, actor
        self.current = ""
        self.completed_meanwhile = False

    def __enter__(self) -> "RunWork":
        return self

    def __exit__(self, kind, exc, traceback) -> bool:
        if kind is not None and issubclass(kind, RunCompleted):
            self.completed_meanwhile = True
            self.run.refresh_from_db()
            return True
        if kind is not None and issubclass(kind, Exception):
            message = exc.message if isinstance(exc, BrokerageError) else f"{kind.__name__}: {exc}"
            run_fail(self.run, f"{self.current}: {message}", self.actor)
        return False


def run_fail(run: SettlementRun, error: str, actor) -> None:
    with transaction.atomic():
        run = lock_one(SettlementRun, run.pk)
        if run.status != RunStatus.RUNNING:
            return
        run.error = error[:2000]
        _move(run, RunStatus.FAILED, actor, reason=run.error, update_fields=("error",))
        _record(run, events.EventKind.SETTLEMENT_RUN_FAILED, actor, error=run.error)


def run_complete(run: SettlementRun, actor) -> SettlementRun:
    with transaction.atomic():
        run = lock_one(SettlementRun, run.pk)
        if run.status != RunStatus.RUNNING:
            return run
        run.finished_at = timezone.now()
        run.recomputing = False
        _move(run, RunStatus.COMPLETED, actor, update_fields=("finished_at", "recomputing"))
        issued = run.documents.filter(status=DocumentStatus.ISSUED)
        _record(
            run,
            events.EventKind.SETTLEMENT_RUN_COMPLETED,
            actor,
            documents=issued.count(),
            total_yen=issued.aggregate(n=Sum("total_yen"))["n"] or 0,
        )
    return run


def _record(run: SettlementRun, kind: str, actor, **payload) -> None:
    events.record(
        kind=kind,
        subject=run,
        actor=actor,
        network_id=run.network_id,
        run_kind=run.kind,
        period=run.period.isoformat(),
        **payload,
    )


def run_reopen(*, actor, run: SettlementRun, reason: str) -> SettlementRun:
    """The secretariat reopens a completed run to correct it, with a reason. The next
    `monthly_close` (or `annual_fees`) of the period recomputes every document: a changed one
    is cancelled with this reason and reissued, an unchanged one kept. Records
    `settlement_run.reopened`."""
    roles_of(actor).require_secretariat(
        run.network_id, _("Only the network's secretariat may reopen a settlement run.")
    )
    if not (reason or "").strip():
        raise BrokerageError(_("Say why the run is reopened."), field="reason")
    with transaction.atomic():
        run = lock_one(SettlementRun, run.pk)
        if run.status == RunStatus.REOPENED:
            return run
        if run.status != RunStatus.COMPLETED:
            raise InvalidTransition(_("Only a completed run can be reopened."), field="status")
        run.reopened_by, run.reopened_at, run.reopen_reason = actor, timezone.now(), reason
        _move(
            run,
            RunStatus.REOPENED,
            actor,
            reason=reason,
            update_fields=("reopened_by", "reopened_at", "reopen_reason"),
        )
        _record(run, events.EventKind.SETTLEMENT_RUN_REOPENED, actor, reason=reason)
    return run


def settlement_runs_resume_stale() -> list[SettlementRun]:
    """The runs whose worker died, claimed for the caller to queue again (every minute).

    A run is stale when it is `running` and its heartbeat (touched with each chunk's commit)
    is older than settings.SETTLEMENT_RUN_STALE_SECONDS. It is claimed by moving the
    heartbeat to now with a compare-and-set UPDATE (still running, still stale), under
    `select_for_update(skip_locked=True)` on PostgreSQL: a run whose row a live worker holds
    in a chunk's transaction is skipped, a run it touched meanwhile no longer matches, and
    two scans never claim one run twice. SQLite takes the write lock at BEGIN (IMMEDIATE),
    which serialises the same steps. A claim is written in the run's status history
    (running → running, "resume scan"). A claimed run whose task never starts (broker down)
    goes stale again and is claimed by a later scan. If the worker was merely slow, two
    workers share the run: chunks take turns under the run's lock and resume after its
    cursor, so nothing is issued twice (only work is repeated)."""
    now = timezone.now()
    stale = Q(
        heartbeat_at__lt=now - datetime.timedelta(seconds=settings.SETTLEMENT_RUN_STALE_SECONDS)
    )
    stale |= Q(heartbeat_at__isnull=True)  # a run started before the heartbeat existed
    claimed = []
    with transaction.atomic():
        candidates = (
            SettlementRun.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("network")
            .filter(stale, status=RunStatus.RUNNING)
            .order_by("pk")
        )
        for run in candidates:
            if not SettlementRun.objects.filter(stale, pk=run.pk, status=RunStatus.RUNNING).update(
                heartbeat_at=now
            ):
                continue
            _claim_record(run)
            run.heartbeat_at = now
            claimed.append(run)
    return claimed


def _claim_record(run: SettlementRun) -> None:
    """A resume scan's claim in the run's status history (running → running), and the log."""
    last = f"{run.heartbeat_at:%Y-%m-%d %H:%M:%S%z}" if run.heartbeat_at else "-"
    StatusChange.objects.create(
        content_type=ContentType.objects.get_for_model(SettlementRun),
        object_id=run.pk,
        from_status=RunStatus.RUNNING,
        to_status=RunStatus.RUNNING,
        actor_label=RESUME_SCAN_ACTOR,
        reason=f"worker lost: no heartbeat since {last}; resumed after cursor {run.cursor}",
    )
    logger.warning("Settlement run %s (%s) lost its worker; queued again", run.pk, run)
