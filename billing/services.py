"""Settlement (精算): the monthly close that turns the projects a buyer accepted into invoices,
members' statements and commissions; the annual fees; payments and reminders. Runs write in
chunks, one transaction each, that also advance the run's cursor; who may act is checked here.

Money rules come from billing.tax (tax once per rate per document, the issuer's rounding) and
billing.terms (due dates, prorated fees); this module only gathers the facts and issues.
Document content is Japanese, like the paper it stands for.
"""

import datetime
import gc
import logging
import os
import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import F, Min, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import events
from core.errors import BrokerageError, InvalidTransition, NotAllowed
from core.models import StatusChange
from core.transitions import record_creation, transition
from members.locks import lock_one
from members.models import (
    Company,
    Membership,
    MembershipClass,
    MembershipFee,
    MembershipStatus,
    Network,
)
from members.permissions import roles_of
from orders.models import Inspection, MemberCharge, Project, ProjectStatus, WorkPackage

from . import tax, terms
from .issuing import DocumentSpec, IssueBatch, LineSpec, copy_supported
from .models import (
    COMPANY_ISSUED,
    Document,
    DocumentKind,
    DocumentStatus,
    Payment,
    RunKind,
    RunStatus,
    SettlementRun,
)
from .selectors import paid_yen

logger = logging.getLogger(__name__)

TOKYO = ZoneInfo("Asia/Tokyo")
# Projects (memberships) read, prefetched and settled per transaction: a crash loses at
# most one chunk, which the next call settles again. A transaction per project costs a
# commit each (10,000 projects: ~5 s of commits alone on SQLite here, half the budget).
# 2,000 projects (≈ 20,000 lines) keep a chunk near 150 MB; 1,000 cost 15% more time in
# per-chunk reads and commits, 2,500 little less time for more memory (`make bench`).
# BILLING_CHUNK_SIZE in the environment overrides it (tests that kill a worker mid-run).
CHUNK_SIZE = int(os.environ.get("BILLING_CHUNK_SIZE", "2000"))
# Documents not fully paid are reminded this many days before their due date, and once overdue.
REMIND_DAYS_BEFORE = 3
# Fees and commissions: month-end close, paid at the end of the next month (月末締め翌月末払い).
NETWORK_TERMS = {"closing_day": 31, "month_offset": 1, "payment_day": 31}
# The scheduled job, in the status history.
SYSTEM_ACTOR = "scheduled job"
# The scan that queues a run whose worker died, in the status history.
RESUME_SCAN_ACTOR = "resume scan"
# Daily jobs catch up on a fiscal year's fees this many days after it started (not later:
# installing the platform mid-year must not bill a year the network already billed on paper).
ANNUAL_FEES_CATCH_UP_DAYS = 7

# What a settlement reads of a project (a month may hold 10,000 of them).
PROJECT_FIELDS = (
    "network_id",
    "status",
    "order_value_yen",
    "payment_closing_day",
    "payment_month_offset",
    "payment_day",
    "accepted_at",
    "lead__legal_name",
    "lead__invoice_registration_number",
    "lead__tax_rounding",
    "inquiry__reference",
    "inquiry__title",
    "inquiry__buyer__name",
    "inquiry__buyer__organisation",
)
CHARGE_LABELS = {
    MemberCharge.Kind.INSPECTION: "検品不良",
    MemberCharge.Kind.CLAIM: "クレーム",
    MemberCharge.Kind.LATE: "納期遅延",
}
CLASS_LABELS = {
    MembershipClass.LEAD: "受注幹事企業",
    MembershipClass.JOINT_ORDER: "共同受注部会員",
    MembershipClass.SUPPORTING: "賛助会員",
    MembershipClass.SKILL_DIVISION: "技能士部会員",
}


# ---------------------------------------------------------------------------------------
# Periods and permissions


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def previous_month(today: datetime.date) -> datetime.date:
    return month_start(month_start(today) - datetime.timedelta(days=1))


def _month_range(period: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The month as aware datetimes [start, end) in Tokyo time: a project accepted at 23:30 on
    the last day (Tokyo) belongs to that month, whatever the server's zone."""
    start = datetime.datetime.combine(period, datetime.time(), tzinfo=TOKYO)
    end = datetime.datetime.combine(terms.add_months(period, 1), datetime.time(), tzinfo=TOKYO)
    return start, end


def month_over(period: datetime.date) -> bool:
    """Whether the month starting on `period` has ended in Tokyo, so it may be closed."""
    return timezone.now() >= _month_range(period)[1]


def fiscal_year_of(network: Network, day: datetime.date) -> datetime.date:
    """The first day of the network's fiscal year that contains `day`."""
    start = datetime.date(day.year, network.fiscal_year_start_month, 1)
    return start if start <= day else terms.add_months(start, -12)


def _local_date(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(TOKYO).date()


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


def _require_secretariat(actor, network_id: int) -> None:
    if actor is not None and not roles_of(actor).is_secretariat(network_id):
        raise NotAllowed(_("Only the network's secretariat may run the settlement."))


def _money(exc: tax.MoneyRuleError, what: str = "") -> BrokerageError:
    prefix = f"{what}: " if what else ""
    return BrokerageError(f"{prefix}{exc}", field=exc.field)


# ---------------------------------------------------------------------------------------
# Projects: the lead's invoice and the members' statements


@dataclass(frozen=True)
class PackageFacts:
    pk: int
    member_id: int
    quantity: int
    unit_price_yen: int
    process: str
    material: str


@dataclass(frozen=True)
class ChargeFacts:
    pk: int
    package_id: int
    member_id: int
    kind: str
    quantity: int
    amount_yen: int
    reason: str


@dataclass
class ProjectFacts:
    """What a project's settlement reads, loaded for a batch of projects in a few queries
    (plain rows, not model instances: a month may hold 100,000 packages)."""

    packages: list[PackageFacts] = field(default_factory=list)  # members' packages
    passed: dict[int, int] = field(default_factory=dict)  # package id → quantity passed
    charges: list[ChargeFacts] = field(default_factory=list)
    companies: dict[int, Company] = field(default_factory=dict)  # the members, shared
    existing: dict[str, Document] = field(default_factory=dict)  # issued, by source key


def load_project_facts(project_ids: list[int]) -> dict[int, ProjectFacts]:
    facts = {pk: ProjectFacts() for pk in project_ids}
    packages = (
        WorkPackage.objects.filter(
            project_id__in=project_ids, self_performed=False, member__isnull=False
        )
        .order_by("project_id", "member_id", "due_date", "id")
        .values_list(
            "project_id",
            "pk",
            "member_id",
            "quantity",
            "unit_price_yen",
            "process__name_ja",
            "material__name_ja",
        )
    )
    for project_id, *row in packages:
        facts[project_id].packages.append(PackageFacts(*row))
    passed = (
        Inspection.objects.filter(delivery__package__project_id__in=project_ids)
        .order_by()
        .values_list("delivery__package__project_id", "delivery__package_id")
        .annotate(n=Sum("quantity_passed"))
    )
    for project_id, package_id, n in passed:
        facts[project_id].passed[package_id] = n or 0
    charges = (
        MemberCharge.objects.filter(package__project_id__in=project_ids)
        .order_by("charged_at", "id")
        .values_list(
            "package__project_id",
            "pk",
            "package_id",
            "member_id",
            "kind",
            "quantity",
            "amount_yen",
            "reason",
        )
    )
    for project_id, *row in charges:
        facts[project_id].charges.append(ChargeFacts(*row))
    member_ids = {p.member_id for f in facts.values() for p in f.packages}
    companies = Company.objects.in_bulk(member_ids)
    documents = Document.objects.filter(
        project_id__in=project_ids, status=DocumentStatus.ISSUED, kind__in=COMPANY_ISSUED
    )
    for document in documents:
        facts[document.project_id].existing[document.source_key] = document
    for project_facts in facts.values():
        project_facts.companies = companies
    return facts


def project_documents(project: Project, facts: ProjectFacts) -> list[DocumentSpec]:
    """The documents an accepted project settles into, prepared (totals and digest).

    - The lead's invoice to the buyer: the order value as one lump-sum line (一式) at 10%,
      with the lead's rounding.
    - Each member's statement to the lead: per package the quantity its inspections passed
      (at most the package's quantity) × unit price, less one deduction line per charge to
      the member; 10% once on the net, with the member's rounding. Packages the lead did
      itself bill nothing (the lead does not invoice itself).

    Both fall due under the project's payment terms from the acceptance date (Tokyo).
    """
    accepted_on = _local_date(project.accepted_at)
    try:
        due = terms.due_date(
            accepted_on,
            closing_day=project.payment_closing_day,
            month_offset=project.payment_month_offset,
            payment_day=project.payment_day,
        )
    except tax.MoneyRuleError as exc:
        raise _money(exc, project.inquiry.reference) from exc
    reference = project.inquiry.reference
    specs = [
        DocumentSpec(
            kind=DocumentKind.INVOICE,
            source_key=f"invoice:project:{project.pk}",
            network=project.network,
            issuer_company=project.lead,
            recipient_company=None,
            recipient_buyer=project.inquiry.buyer,
            transaction_date=accepted_on,
            due_date=due,
            rounding=project.lead.tax_rounding,
            lines=[
                LineSpec(
                    tax.Line(
                        f"{reference} {project.inquiry.title} 一式",
                        quantity=1,
                        unit_price_yen=project.order_value_yen,
                        tax_rate=tax.STANDARD_RATE,
                    ),
                    project_id=project.pk,
                )
            ],
            project_id=project.pk,
        )
    ]
    lines: dict[int, list[LineSpec]] = {}
    for package in facts.packages:
        package_lines = lines.setdefault(package.member_id, [])
        quantity = min(facts.passed.get(package.pk, 0), package.quantity)
        if quantity < 1:
            continue
        package_lines.append(
            LineSpec(
                tax.Line(
                    f"{reference} {package.process}（{package.material}）",
                    quantity=quantity,
                    unit_price_yen=package.unit_price_yen,
                    tax_rate=tax.STANDARD_RATE,
                ),
                project_id=project.pk,
                package_id=package.pk,
            )
        )
    for charge in facts.charges:
        if charge.member_id not in lines:
            continue
        count = f" {charge.quantity}個" if charge.quantity else ""
        lines[charge.member_id].append(
            LineSpec(
                tax.Line(
                    f"{reference} 控除（{CHARGE_LABELS[charge.kind]}{count}）{charge.reason}",
                    quantity=1,
                    unit_price_yen=-charge.amount_yen,
                    tax_rate=tax.STANDARD_RATE,
                    is_deduction=True,
                ),
                project_id=project.pk,
                package_id=charge.package_id,
                charge_id=charge.pk,
            )
        )
    for member_id, member_lines in lines.items():
        if not member_lines:
            continue
        member = facts.companies[member_id]
        specs.append(
            DocumentSpec(
                kind=DocumentKind.STATEMENT,
                source_key=f"statement:project:{project.pk}:company:{member_id}",
                network=project.network,
                issuer_company=member,
                recipient_company=project.lead,
                recipient_buyer=None,
                transaction_date=accepted_on,
                due_date=due,
                rounding=member.tax_rounding,
                lines=member_lines,
                project_id=project.pk,
            )
        )
    return [spec.prepare() for spec in specs]


def settle_project(
    *,
    project: Project,
    run: SettlementRun,
    actor=None,
    facts: ProjectFacts | None = None,
    batch: IssueBatch | None = None,
) -> list[DocumentSpec]:
    """Issue an accepted project's documents (see `project_documents`): what is already
    issued for the same source is skipped; a recomputing run (reopened) replaces what
    changed. Returns the specs of the documents issued now.

    Preconditions: the project is accepted by the buyer; the run is its network's monthly
    close. Alone it runs in one transaction; the monthly close passes the `facts` it loaded
    for a batch of projects and a `batch` it writes in its own transaction."""
    _require_secretariat(actor, project.network_id)
    if project.status != ProjectStatus.ACCEPTED or project.accepted_at is None:
        raise InvalidTransition(
            _("Project %(ref)s is not yet accepted by the buyer, so it cannot be settled.")
            % {"ref": project.inquiry.reference},
            field="project",
        )
    if run.kind != RunKind.MONTHLY_CLOSE or run.network_id != project.network_id:
        raise BrokerageError(_("Settle a project in its network's monthly close."), field="run")
    if facts is None:
        facts = load_project_facts([project.pk])[project.pk]
    specs = project_documents(project, facts)  # raises before any write
    if batch is not None:
        return batch.add(specs, facts.existing)
    batch = IssueBatch(run, actor)
    planned = batch.add(specs, facts.existing)
    with transaction.atomic():
        batch.flush()
    return planned


# ---------------------------------------------------------------------------------------
# Runs


def _run_start(
    *, network: Network, kind: str, period: datetime.date, actor, total: int
) -> SettlementRun:
    """Create the run, or make the existing one run again: a failed or crashed one resumes
    after its cursor; a reopened one recomputes from the start; a completed annual-fee run
    starts over to bill new members. A completed monthly close is returned as it is."""
    label = "" if actor is not None else SYSTEM_ACTOR
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
        if run.status in (RunStatus.REOPENED, RunStatus.COMPLETED):
            run.cursor, run.progress_done = 0, 0
            run.recomputing = run.status == RunStatus.REOPENED
            fields += ["cursor", "progress_done", "recomputing"]
        run.progress_total = max(total, run.progress_done)
        run.error, run.finished_at, run.heartbeat_at = "", None, timezone.now()
        if not transition(
            run,
            to=RunStatus.RUNNING,
            allowed=SettlementRun.TRANSITIONS,
            actor=actor,
            actor_label=label,
            update_fields=tuple(fields),
        ):
            run.save(update_fields=fields)
    return run


class _RunCompleted(Exception):
    """A concurrent worker completed the run meanwhile: nothing is left to do."""


def _lock_running(run: SettlementRun) -> SettlementRun:
    """The run, locked for one project's (membership's, company's) transaction: concurrent
    workers on one run take turns, and each sees the cursor the other advanced."""
    run = (
        SettlementRun.objects.select_for_update(of=("self",))
        .select_related("network")
        .get(pk=run.pk)
    )
    if run.status == RunStatus.COMPLETED:
        raise _RunCompleted
    if run.status != RunStatus.RUNNING:
        raise InvalidTransition(
            _("The settlement run stopped meanwhile (%(status)s).")
            % {"status": run.get_status_display()},
            field="status",
        )
    return run


def _run_fail(run: SettlementRun, error: str, actor) -> None:
    with transaction.atomic():
        run = lock_one(SettlementRun, run.pk)
        if run.status != RunStatus.RUNNING:
            return
        run.error = error[:2000]
        transition(
            run,
            to=RunStatus.FAILED,
            allowed=SettlementRun.TRANSITIONS,
            actor=actor,
            actor_label="" if actor is not None else SYSTEM_ACTOR,
            reason=run.error,
            update_fields=("error",),
        )
        events.record(
            kind="settlement_run.failed",
            subject=run,
            actor=actor,
            network_id=run.network_id,
            run_kind=run.kind,
            period=run.period.isoformat(),
            error=run.error,
        )


def _run_complete(run: SettlementRun, actor) -> SettlementRun:
    with transaction.atomic():
        run = lock_one(SettlementRun, run.pk)
        if run.status != RunStatus.RUNNING:
            return run
        run.finished_at = timezone.now()
        run.recomputing = False
        transition(
            run,
            to=RunStatus.COMPLETED,
            allowed=SettlementRun.TRANSITIONS,
            actor=actor,
            actor_label="" if actor is not None else SYSTEM_ACTOR,
            update_fields=("finished_at", "recomputing"),
        )
        issued = run.documents.filter(status=DocumentStatus.ISSUED)
        events.record(
            kind="settlement_run.completed",
            subject=run,
            actor=actor,
            network_id=run.network_id,
            run_kind=run.kind,
            period=run.period.isoformat(),
            documents=issued.count(),
            total_yen=issued.aggregate(n=Sum("total_yen"))["n"] or 0,
        )
    return run


def month_projects(network: Network, period: datetime.date):
    """The network's projects the buyer accepted in the month (Tokyo time)."""
    start, end = _month_range(period)
    return Project.objects.filter(
        network=network,
        status=ProjectStatus.ACCEPTED,
        accepted_at__gte=start,
        accepted_at__lt=end,
    )


def _month_chunks(projects, cursor: int):
    """The month's projects after `cursor`, CHUNK_SIZE at a time, with their facts."""
    while chunk := list(
        projects.filter(pk__gt=cursor)
        .select_related("lead", "inquiry__buyer")
        .only(*PROJECT_FIELDS)
        .order_by("pk")[:CHUNK_SIZE]
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


def monthly_close(*, network: Network, period: datetime.date, actor=None) -> SettlementRun:
    """Close a month (月次締め): settle every project the buyer accepted in it, then issue
    the month's commissions, and complete the run.

    `period` is the month's first day; the month must be over. Projects are settled in pk
    order, CHUNK_SIZE per transaction, each transaction also advancing the run's cursor and
    progress, so a crash leaves a run that the next call resumes after the last committed
    chunk without issuing anything twice. Concurrent calls take turns per chunk. A completed
    month is returned as it is (nothing new); a reopened one is recomputed. An error marks
    the run failed (with the error) and is raised again. `actor` None: the scheduled job."""
    _require_secretariat(actor, network.pk)
    if period.day != 1:
        raise BrokerageError(_("A month is closed from its first day."), field="period")
    if not month_over(period):
        raise BrokerageError(_("This month is not over yet."), field="period")
    projects = month_projects(network, period)
    run = _run_start(
        network=network,
        kind=RunKind.MONTHLY_CLOSE,
        period=period,
        actor=actor,
        total=projects.count(),
    )
    if run.status == RunStatus.COMPLETED:
        return run
    current = ""
    phases = _Phases()
    try:
        with _gc_paused(), ThreadPoolExecutor(1, thread_name_prefix="close") as pool:
            chunks = _month_chunks(projects, run.cursor)
            with phases("reads"):
                planned = _plan_next(pool, chunks, run, actor, phases)
            while planned is not None:
                with phases("waiting for planning"):
                    batch, chunk, failed_at = planned.result()
                if failed_at is not None:
                    current = failed_at
                    raise batch  # the exception, from the planning thread
                # Plan the next chunk while this one is written (mostly the database's work).
                with phases("reads"):
                    planned = _plan_next(pool, chunks, run, actor, phases)
                current = chunk[-1].inquiry.reference
                with phases("chunk transactions"), transaction.atomic():  # noqa: SIM117 - nested: see below
                    with phases("chunk writes before commit"):  # the rest is the commit
                        locked = _lock_running(run)
                        batch.run = locked
                        if chunk[0].pk <= locked.cursor:  # a concurrent worker was here
                            batch.retain(locked.cursor)
                        batch.flush()
                        SettlementRun.objects.filter(pk=run.pk).update(
                            cursor=max(chunk[-1].pk, locked.cursor),
                            progress_done=F("progress_done")
                            + sum(1 for p in chunk if p.pk > locked.cursor),
                            heartbeat_at=timezone.now(),
                        )
            current = _("commissions")
            with phases("commissions"):
                _issue_commissions(run, actor)
    except _RunCompleted:
        run.refresh_from_db()
        return run
    except Exception as exc:
        message = exc.message if isinstance(exc, BrokerageError) else f"{type(exc).__name__}: {exc}"
        _run_fail(run, f"{current}: {message}", actor)
        raise
    with phases("completing"):
        run = _run_complete(run, actor)
    run.phases = phases.seconds()
    logger.info("monthly close %s: %s", run, run.phases)
    return run


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


def _commission_documents(run: SettlementRun) -> list[DocumentSpec]:
    """The month's commissions (手数料): for each company, the network's basis points of its
    sales in each project of the month while it is within `commission_months` of joining
    the network (its earliest membership's joined_on) on the project's acceptance date:
    accepted_on < joined_on + commission_months. A member's sales are its statement
    subtotals; the lead's, its invoice subtotal less its team's statement subtotals. Each
    line is rounded down; one document per company with a line per project. 0 basis points
    or 0 months: no commission."""
    network = run.network
    points, months = network.commission_basis_points, network.commission_months
    if not points or not months:
        return []
    projects = {
        pk: (lead_id, accepted_at, reference)
        for pk, lead_id, accepted_at, reference in month_projects(network, run.period)
        .order_by()
        .values_list("pk", "lead_id", "accepted_at", "inquiry__reference")
        .iterator(chunk_size=2000)
    }
    invoiced: dict[int, int] = {}
    team: dict[int, dict[int, int]] = defaultdict(dict)
    issued = (
        Document.objects.filter(run=run, status=DocumentStatus.ISSUED, kind__in=COMPANY_ISSUED)
        .order_by()
        .values_list("project_id", "kind", "issuer_company_id", "subtotal_yen")
    )
    for project_id, kind, issuer_id, subtotal in issued.iterator(chunk_size=2000):
        if project_id not in projects:
            continue
        if kind == DocumentKind.INVOICE:
            invoiced[project_id] = subtotal
        else:
            team[project_id][issuer_id] = subtotal
    sales: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for project_id, subtotal in invoiced.items():
        statements = team.get(project_id, {})
        sales[projects[project_id][0]].append((project_id, subtotal - sum(statements.values())))
        for company_id, amount in statements.items():
            sales[company_id].append((project_id, amount))
    joined = dict(
        Membership.objects.filter(network=network, company_id__in=list(sales))
        .order_by()
        .values("company_id")
        .annotate(first=Min("joined_on"))
        .values_list("company_id", "first")
    )
    period_end = terms.add_months(run.period, 1) - datetime.timedelta(days=1)
    due = terms.due_date(period_end, **NETWORK_TERMS)
    lines: dict[int, list[LineSpec]] = {}
    for company_id in sorted(sales):
        if company_id not in joined:
            continue
        window_end = terms.add_months(joined[company_id], months)
        for project_id, amount in sorted(sales[company_id]):
            _lead, accepted_at, reference = projects[project_id]
            if amount <= 0 or _local_date(accepted_at) >= window_end:
                continue
            commission = tax.round_yen(amount * points, 10_000, tax.RoundingMode.DOWN)
            if commission < 1:
                continue
            lines.setdefault(company_id, []).append(
                LineSpec(
                    tax.Line(
                        f"{reference} 手数料 売上 ¥{amount:,} × {points / 100:g}%",
                        quantity=1,
                        unit_price_yen=commission,
                        tax_rate=tax.STANDARD_RATE,
                    ),
                    project_id=project_id,
                )
            )
    companies = Company.objects.in_bulk(list(lines))
    return [
        DocumentSpec(
            kind=DocumentKind.COMMISSION,
            source_key=f"commission:{run.period:%Y-%m}:company:{company_id}",
            network=network,
            issuer_company=None,
            recipient_company=companies[company_id],
            recipient_buyer=None,
            transaction_date=period_end,
            due_date=due,
            rounding=tax.DEFAULT_ROUNDING,
            lines=company_lines,
        ).prepare()
        for company_id, company_lines in lines.items()
    ]


def _issue_commissions(run: SettlementRun, actor) -> None:
    """Issue (or, recomputing, replace) the month's commission documents in one transaction;
    a recomputing run cancels the commissions no longer due."""
    specs = _commission_documents(run)
    with transaction.atomic():
        locked = _lock_running(run)
        existing = Document.objects.filter(
            network_id=run.network_id,
            kind=DocumentKind.COMMISSION,
            status=DocumentStatus.ISSUED,
            source_key__startswith=f"commission:{run.period:%Y-%m}:",
        )
        batch = IssueBatch(locked, actor)
        batch.add(specs, {d.source_key: d for d in existing})
        batch.flush()


def run_reopen(*, actor, run: SettlementRun, reason: str) -> SettlementRun:
    """The secretariat reopens a completed run to correct it, with a reason. The next
    `monthly_close` (or `annual_fees`) of the period recomputes every document: a changed one
    is cancelled with this reason and reissued, an unchanged one kept. Records
    `settlement_run.reopened`."""
    if not roles_of(actor).is_secretariat(run.network_id):
        raise NotAllowed(_("Only the network's secretariat may reopen a settlement run."))
    if not (reason or "").strip():
        raise BrokerageError(_("Say why the run is reopened."), field="reason")
    with transaction.atomic():
        run = lock_one(SettlementRun, run.pk)
        if run.status == RunStatus.REOPENED:
            return run
        if run.status != RunStatus.COMPLETED:
            raise InvalidTransition(_("Only a completed run can be reopened."), field="status")
        run.reopened_by, run.reopened_at, run.reopen_reason = actor, timezone.now(), reason
        transition(
            run,
            to=RunStatus.REOPENED,
            allowed=SettlementRun.TRANSITIONS,
            actor=actor,
            reason=reason,
            update_fields=("reopened_by", "reopened_at", "reopen_reason"),
        )
        events.record(
            kind="settlement_run.reopened",
            subject=run,
            actor=actor,
            network_id=run.network_id,
            run_kind=run.kind,
            period=run.period.isoformat(),
            reason=reason,
        )
    return run


# ---------------------------------------------------------------------------------------
# Annual fees


def _fee_document(
    membership: Membership, *, network: Network, fees: dict, start: datetime.date, today
) -> DocumentSpec | None:
    fee = fees[membership.membership_class]
    months = 12
    if network.prorate_fees and membership.joined_on >= start:
        fee = terms.prorate_annual_fee(fee, fiscal_year_start=start, joined_on=membership.joined_on)
        months = 12 - (
            (membership.joined_on.year - start.year) * 12 + membership.joined_on.month - start.month
        )
    if fee < 1:
        return None
    description = f"{start.year}年度 年会費（{CLASS_LABELS[membership.membership_class]}）"
    if months < 12:
        description += f" {months}/12か月分"
    return DocumentSpec(
        kind=DocumentKind.FEE,
        source_key=f"fee:{start.year}:membership:{membership.pk}",
        network=network,
        issuer_company=None,
        recipient_company=membership.company,
        recipient_buyer=None,
        transaction_date=max(start, membership.joined_on),
        due_date=terms.due_date(today, **NETWORK_TERMS),
        rounding=tax.DEFAULT_ROUNDING,
        lines=[
            LineSpec(
                tax.Line(
                    description,
                    quantity=1,
                    unit_price_yen=fee,
                    tax_rate=tax.NON_TAXABLE_RATE,
                    non_taxable=True,
                )
            )
        ],
        membership_id=membership.pk,
    ).prepare()


def annual_fees(*, network: Network, fiscal_year_start: datetime.date, actor=None) -> SettlementRun:
    """Bill the annual fee (年会費) of every active membership of the network for the fiscal
    year starting on `fiscal_year_start`: the fee table's amount for its class, prorated by
    month (billing.terms) when the network prorates and the member joined during the year.
    Fees are outside consumption tax (不課税: a voluntary association's membership fee is no
    consideration for a supply), so their lines carry rate 0.

    A class in use without a fee-table row raises (field `membership_class`) before anything
    is issued. Started again later in the year it bills only the members who joined since;
    after a reopen it recomputes. Chunked and resumable like the close."""
    _require_secretariat(actor, network.pk)
    start = fiscal_year_start
    if start.day != 1 or start.month != network.fiscal_year_start_month:
        raise BrokerageError(
            _("The network's fiscal year starts on the 1st of month %(m)d.")
            % {"m": network.fiscal_year_start_month},
            field="fiscal_year_start",
        )
    year_end = terms.add_months(start, 12) - datetime.timedelta(days=1)
    memberships = Membership.objects.filter(
        network=network, status=MembershipStatus.ACTIVE, joined_on__lte=year_end
    )
    in_use = set(memberships.order_by().values_list("membership_class", flat=True).distinct())
    fees = dict(
        MembershipFee.objects.filter(network=network).values_list(
            "membership_class", "annual_fee_yen"
        )
    )
    missing = sorted(in_use - set(fees))
    if missing:
        names = ", ".join(str(MembershipClass(c).label) for c in missing)
        raise BrokerageError(
            _("The fee table has no annual fee for: %(classes)s. Add it, then bill again.")
            % {"classes": names},
            field="membership_class",
        )
    run = _run_start(
        network=network,
        kind=RunKind.ANNUAL_FEES,
        period=start,
        actor=actor,
        total=memberships.count(),
    )
    today = timezone.localdate()
    current = ""
    try:
        cursor = run.cursor
        while chunk := list(
            memberships.filter(pk__gt=cursor).select_related("company").order_by("pk")[:CHUNK_SIZE]
        ):
            specs = []
            for membership in chunk:
                current = str(membership.company)
                spec = _fee_document(
                    membership, network=network, fees=fees, start=start, today=today
                )
                specs += [spec] if spec is not None else []
            with transaction.atomic():
                locked = _lock_running(run)
                specs = [s for s in specs if s.membership_id > locked.cursor]
                existing = Document.objects.filter(
                    source_key__in=[s.source_key for s in specs], status=DocumentStatus.ISSUED
                )
                batch = IssueBatch(locked, actor)
                batch.add(specs, {d.source_key: d for d in existing})
                batch.flush()
                SettlementRun.objects.filter(pk=run.pk).update(
                    cursor=max(chunk[-1].pk, locked.cursor),
                    progress_done=F("progress_done")
                    + sum(1 for m in chunk if m.pk > locked.cursor),
                    heartbeat_at=timezone.now(),
                )
            cursor = chunk[-1].pk
    except _RunCompleted:
        run.refresh_from_db()
        return run
    except Exception as exc:
        message = exc.message if isinstance(exc, BrokerageError) else f"{type(exc).__name__}: {exc}"
        _run_fail(run, f"{current}: {message}", actor)
        raise
    return _run_complete(run, actor)


# ---------------------------------------------------------------------------------------
# Payments


def _require_payment_recorder(actor, document: Document) -> None:
    """Who records a payment: the lead, for its invoice to the buyer (the buyer's payment) and
    for its members' statements to it (its own payments); the secretariat, for fees and
    commissions."""
    roles = roles_of(actor)
    allowed = {
        DocumentKind.INVOICE: lambda: roles.acts_for(document.issuer_company_id),
        DocumentKind.STATEMENT: lambda: roles.acts_for(document.recipient_company_id),
        DocumentKind.COMMISSION: lambda: roles.is_secretariat(document.network_id),
        DocumentKind.FEE: lambda: roles.is_secretariat(document.network_id),
    }[document.kind]()
    if not allowed:
        raise NotAllowed(
            _(
                "The lead records payments of its invoices and to its members; the "
                "secretariat records fees and commissions."
            )
        )


def month_closed(network_id: int, day: datetime.date) -> bool:
    """Whether the network's monthly close of `day`'s month is completed (and not reopened)."""
    return SettlementRun.objects.filter(
        network_id=network_id,
        kind=RunKind.MONTHLY_CLOSE,
        period=month_start(day),
        status=RunStatus.COMPLETED,
    ).exists()


def payment_record(
    *,
    actor,
    document: Document,
    amount_yen: int,
    paid_on: datetime.date,
    note: str = "",
    is_advance: bool = False,
) -> Payment:
    """Record a payment against an issued document (see `_require_payment_recorder` for who).
    Refused: not a whole positive amount or more than is outstanding (field amount_yen), a
    date in the future or in a closed month (paid_on), a cancelled document. `is_advance`
    only on a statement (the lead paying a member before collecting). When the payment
    completes the buyer's invoice and the network sets `pay_team_within_days`, the project's
    statements get their team-pay due date. Records `payment.recorded`."""
    _require_payment_recorder(actor, document)
    if isinstance(amount_yen, bool) or not isinstance(amount_yen, int) or amount_yen < 1:
        raise BrokerageError(_("Give the amount in whole yen, at least ¥1."), field="amount_yen")
    if paid_on > timezone.localdate():
        raise BrokerageError(_("A payment cannot be dated in the future."), field="paid_on")
    if is_advance and document.kind != DocumentKind.STATEMENT:
        raise BrokerageError(
            _("Only the lead's payment to a member can be an advance."), field="is_advance"
        )
    with transaction.atomic():
        document = (
            Document.objects.select_for_update(of=("self",))
            .select_related("network")
            .get(pk=document.pk)
        )
        if document.status != DocumentStatus.ISSUED:
            raise InvalidTransition(
                _("This document is cancelled: record the payment on the one that replaces it."),
                field="document",
            )
        if month_closed(document.network_id, paid_on):
            raise BrokerageError(
                _(
                    "%(month)s is closed. Ask the secretariat to reopen it, or date the "
                    "payment later."
                )
                % {"month": paid_on.strftime("%Y-%m")},
                field="paid_on",
            )
        left = document.total_yen - paid_yen(document)
        if amount_yen > left:
            raise BrokerageError(
                _("Only ¥%(left)s is outstanding on this document.") % {"left": f"{left:,}"},
                field="amount_yen",
            )
        payment = Payment.objects.create(
            document=document,
            amount_yen=amount_yen,
            paid_on=paid_on,
            is_advance=is_advance,
            note=note,
            recorded_by=actor,
        )
        paid_in_full = amount_yen == left
        if paid_in_full:
            document.paid_in_full_on = paid_on
            document.save(update_fields=["paid_in_full_on"])
        within = document.network.pay_team_within_days
        if paid_in_full and document.kind == DocumentKind.INVOICE and within is not None:
            Document.objects.filter(
                project_id=document.project_id,
                kind=DocumentKind.STATEMENT,
                status=DocumentStatus.ISSUED,
            ).update(team_pay_due=terms.pay_team_due(paid_on, within))
        events.record(
            kind="payment.recorded",
            subject=payment,
            actor=actor,
            network_id=document.network_id,
            document_id=document.pk,
            number=document.number,
            amount_yen=amount_yen,
            outstanding_yen=left - amount_yen,
            is_advance=is_advance,
        )
    return payment


# ---------------------------------------------------------------------------------------
# Reminders (scheduled job)


def documents_remind_due(*, today: datetime.date | None = None) -> int:
    """Remind of issued documents not fully paid: once when due within REMIND_DAYS_BEFORE
    days, once when overdue (`document.due_soon`, `document.overdue`). A statement's due date
    is its team-pay due date once the buyer has paid; in a network that pays its team after
    collecting (`pay_team_within_days`) a statement is not due before that. Each reminder is
    marked on the document by a conditional update in the event's transaction, so two runs
    never remind twice. Returns how many were sent."""
    today = today or timezone.localdate()
    unpaid = (
        Document.objects.filter(status=DocumentStatus.ISSUED, paid_in_full_on__isnull=True)
        .exclude(
            kind=DocumentKind.STATEMENT,
            network__pay_team_within_days__isnull=False,
            team_pay_due__isnull=True,
        )
        .annotate(due=Coalesce("team_pay_due", "due_date"))
    )
    checks = (
        (
            "document.due_soon",
            "due_soon_reminded_on",
            Q(due__gte=today, due__lte=today + datetime.timedelta(days=REMIND_DAYS_BEFORE)),
        ),
        ("document.overdue", "overdue_reminded_on", Q(due__lt=today)),
    )
    sent = 0
    for kind, mark, due in checks:
        while pks := list(
            unpaid.filter(due, **{f"{mark}__isnull": True})
            .order_by("pk")
            .values_list("pk", flat=True)[:500]
        ):
            for pk in pks:
                with transaction.atomic():
                    if not Document.objects.filter(pk=pk, **{f"{mark}__isnull": True}).update(
                        **{mark: today}
                    ):
                        continue
                    document = Document.objects.get(pk=pk)
                    events.record(
                        kind=kind,
                        subject=document,
                        network_id=document.network_id,
                        number=document.number,
                        document_kind=document.kind,
                        due_date=(document.team_pay_due or document.due_date).isoformat(),
                        outstanding_yen=document.total_yen - paid_yen(document),
                        issuer_company_id=document.issuer_company_id,
                        recipient_company_id=document.recipient_company_id,
                    )
                    sent += 1
    return sent


# ---------------------------------------------------------------------------------------
# What the scheduled jobs start


def monthly_close_due(*, today: datetime.date | None = None) -> tuple[datetime.date, list[int]]:
    """The previous month and the active networks whose close of it is not completed (none
    yet, stopped by an error, or crashed). Reopened months are left to the secretariat."""
    period = previous_month(today or timezone.localdate())
    done = SettlementRun.objects.filter(
        kind=RunKind.MONTHLY_CLOSE,
        period=period,
        status__in=(RunStatus.COMPLETED, RunStatus.REOPENED),
    ).values("network_id")
    networks = Network.objects.filter(is_active=True).exclude(pk__in=done).order_by("pk")
    return period, list(networks.values_list("pk", flat=True))


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
            run.heartbeat_at = now
            claimed.append(run)
    return claimed


def annual_fees_due(*, today: datetime.date | None = None) -> list[tuple[int, datetime.date]]:
    """(network, fiscal year start) for active networks whose fiscal year started in the last
    ANNUAL_FEES_CATCH_UP_DAYS days and whose fees for it are not billed yet."""
    today = today or timezone.localdate()
    due = []
    for network in Network.objects.filter(is_active=True).order_by("pk"):
        start = fiscal_year_of(network, today)
        if (today - start).days >= ANNUAL_FEES_CATCH_UP_DAYS:
            continue
        billed = SettlementRun.objects.filter(
            network=network,
            kind=RunKind.ANNUAL_FEES,
            period=start,
            status__in=(RunStatus.COMPLETED, RunStatus.REOPENED),
        ).exists()
        if not billed:
            due.append((network.pk, start))
    return due
