"""Benchmark 4: the monthly closing of a large network.

10,000 projects (BENCH_PROJECTS) accepted by their buyers in one month, each with 10 member
packages (100,000 package lines), every package delivered and inspected, one in twenty with a
charge to its member; a tenth of the members still within the network's commission window.
`billing.close.monthly_close` issues the lead's invoices, the members' statements and the
commissions. Figures: seconds, peak resident memory of the process during the close (Linux
VmHWM, reset just before), documents and lines issued, queries.

Baseline, measured in the same run: the same work done per row — each project settled on its
own (`settle_project` with its own reads and its own transaction), as a job that loops over
projects would — on BENCH_BASELINE_PROJECTS (500) projects of a second, identical network,
extrapolated linearly to the full month. Targets: ≤ 10 s, ≤ 500 MB, ≥ 10× the baseline.
"""

import datetime
import gc
import os
import random
import time
from decimal import Decimal

from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from .common import progress, report

PACKAGES_PER_PROJECT = 10


def _rss_peak_reset() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM, the peak resident set size
        return True
    except OSError:
        return False


def _rss_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def build_network(rng, *, slug: str, projects: int, period: datetime.date, shared: dict):
    """A network whose `projects` projects were accepted in the month of `period`."""
    from members.models import Company, Membership, Network, NetworkStaff, StaffRole, User
    from orders.models import (
        Delivery,
        Inquiry,
        Inspection,
        MemberCharge,
        Project,
        WorkPackage,
    )

    network = Network.objects.create(
        name=f"締め網{slug}", slug=slug, commission_basis_points=100, commission_months=12
    )
    secretariat = User.objects.create_user(f"{slug}-sec", f"{slug}@example.com", "x")
    NetworkStaff.objects.create(network=network, user=secretariat, role=StaffRole.SECRETARIAT)
    companies = Company.objects.bulk_create(
        [
            Company(
                legal_name=f"{slug}研磨{n}",
                legal_name_kana=f"ケンマ{n}",
                prefecture="15",
                tax_rounding=rng.choice(["down", "down", "down", "half_up"]),
            )
            for n in range(350)
        ]
    )
    leads, members = companies[:50], companies[50:]
    Membership.objects.bulk_create(
        [
            Membership(
                network=network,
                company=c,
                membership_class="lead" if c in leads else "joint_order",
                status="active",
                # A tenth joined within the last year: they pay the commission.
                joined_on=period - datetime.timedelta(days=rng.randint(30, 300))
                if rng.random() < 0.1
                else datetime.date(2015, 4, 1),
                annual_fee_yen=60_000,
            )
            for c in companies
        ]
    )
    user = shared["user"]
    accepted_start = timezone.make_aware(datetime.datetime.combine(period, datetime.time(10)))
    batch = 1000
    for start in range(0, projects, batch):
        size = min(batch, projects - start)
        inquiries = Inquiry.objects.bulk_create(
            [
                Inquiry(
                    network=network,
                    reference=f"{slug.upper()}-{start + n:06d}",
                    buyer=rng.choice(shared["buyers"]),
                    entered_by=user,
                    status="awarded",
                    title=f"部品{start + n}の鏡面研磨",
                    description="SUS304",
                    material=shared["material"],
                    finish_kind="grit",
                    finish_grit=400,
                    quantity=1000,
                    length_mm=100,
                    width_mm=100,
                    height_mm=50,
                    weight_kg=Decimal("0.5"),
                    desired_delivery_date=period,
                    delivery_prefecture="13",
                )
                for n in range(size)
            ]
        )
        made = Project.objects.bulk_create(
            [
                Project(
                    inquiry=inquiry,
                    network=network,
                    lead=rng.choice(leads),
                    status="accepted",
                    order_value_yen=rng.randint(200_000, 5_000_000),
                    delivery_date=period,
                    opened_by=user,
                    accepted_at=accepted_start + datetime.timedelta(minutes=rng.randint(0, 40000)),
                )
                for inquiry in inquiries
            ]
        )
        packages = WorkPackage.objects.bulk_create(
            [
                WorkPackage(
                    project=project,
                    process=rng.choice(shared["processes"]),
                    material=shared["material"],
                    quantity=rng.randint(50, 500),
                    unit_price_yen=rng.randint(50, 3000),
                    due_date=period,
                    member=rng.choice(members),
                    status="accepted",
                )
                for project in made
                for _ in range(PACKAGES_PER_PROJECT)
            ]
        )
        deliveries = Delivery.objects.bulk_create(
            [Delivery(package=p, quantity=p.quantity, shipped_by=user) for p in packages]
        )
        inspections = []
        charges = []
        for delivery, package in zip(deliveries, packages, strict=True):
            rejected = rng.randint(1, 5) if rng.random() < 0.05 else 0
            inspections.append(
                Inspection(
                    delivery=delivery,
                    quantity_received=package.quantity,
                    quantity_passed=package.quantity - rejected,
                    quantity_rejected=rejected,
                    result="partly" if rejected else "passed",
                    defect_reason="キズ" if rejected else "",
                    disposition="charge" if rejected else "",
                    inspected_by=user,
                )
            )
        inspections = Inspection.objects.bulk_create(inspections)
        for inspection, package in zip(inspections, packages, strict=True):
            if inspection.quantity_rejected:
                charges.append(
                    MemberCharge(
                        package=package,
                        member_id=package.member_id,
                        kind="inspection",
                        inspection=inspection,
                        quantity=inspection.quantity_rejected,
                        amount_yen=inspection.quantity_rejected * package.unit_price_yen,
                        reason="キズ",
                        charged_by=user,
                    )
                )
        MemberCharge.objects.bulk_create(charges)
        progress(f"{slug}: projects {start + size:,}/{projects:,}")
    return network, secretariat


def run() -> dict:
    from billing.close import monthly_close
    from billing.models import Document, DocumentLine, RunKind, SettlementRun
    from billing.settlement import month_projects, settle_project
    from members.models import Buyer, Material, Process, User

    rng = random.Random(20261201)
    n_projects = int(os.environ.get("BENCH_PROJECTS", "10000"))
    n_baseline = int(os.environ.get("BENCH_BASELINE_PROJECTS", "500"))
    today = timezone.localdate()
    period = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    user = User.objects.create_user("close-user", "close@example.com", "x")
    buyer_users = User.objects.bulk_create(
        [User(username=f"cl-buyer{n}", email=f"cb{n}@example.com") for n in range(200)]
    )
    shared = {
        "user": user,
        "buyers": Buyer.objects.bulk_create(
            [
                Buyer(user=u, kind="company", name=f"発注者{n}", email=u.email)
                for n, u in enumerate(buyer_users)
            ]
        ),
        "material": Material.objects.get_or_create(
            code="cl-sus", defaults={"name_ja": "ステンレス", "name_en": "Stainless"}
        )[0],
        "processes": [
            Process.objects.get_or_create(
                code=f"cl-p{i}", defaults={"name_ja": f"研磨{i}", "name_en": f"p{i}"}
            )[0]
            for i in range(3)
        ],
    }
    network, secretariat = build_network(
        rng, slug="close", projects=n_projects, period=period, shared=shared
    )
    base_network, base_secretariat = build_network(
        rng, slug="base", projects=n_baseline, period=period, shared=shared
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")  # as autovacuum leaves a live database

    progress(f"closing {period:%Y-%m}: {n_projects:,} projects")
    gc.collect()
    measured_memory = _rss_peak_reset()
    rss_before = _rss_mb("VmRSS")
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        t0 = time.perf_counter()
        closed = monthly_close(network=network, period=period, actor=secretariat)
        seconds = time.perf_counter() - t0
    peak_mb = _rss_mb("VmHWM") if measured_memory else None
    documents = Document.objects.filter(run=closed).count()
    lines = DocumentLine.objects.filter(document__run=closed).count()
    again_t0 = time.perf_counter()
    monthly_close(network=network, period=period, actor=secretariat)  # idempotent
    again_seconds = time.perf_counter() - again_t0
    again_documents = Document.objects.filter(run=closed).count()

    progress(f"baseline: {n_baseline} projects settled one by one")
    base_run = SettlementRun.objects.create(
        network=base_network,
        kind=RunKind.MONTHLY_CLOSE,
        period=period,
        progress_total=n_baseline,
        started_by=base_secretariat,
    )
    t0 = time.perf_counter()
    for project in month_projects(base_network, period).select_related(
        "lead", "inquiry__buyer", "network"
    ):
        settle_project(project=project, run=base_run, actor=base_secretariat)
    base_seconds = time.perf_counter() - t0
    per_project = base_seconds / n_baseline
    extrapolated = per_project * n_projects
    speedup = extrapolated / seconds if seconds else None
    met = bool(
        seconds <= 10
        and (peak_mb is None or peak_mb <= 500)
        and speedup is not None
        and speedup >= 10
        and again_documents == documents
        and closed.status == "completed"
    )
    return report(
        "monthly_close",
        projects=n_projects,
        package_lines=n_projects * PACKAGES_PER_PROJECT,
        run_status=closed.status,
        seconds=round(seconds, 2),
        peak_rss_mb=round(peak_mb, 1) if peak_mb else None,
        rss_before_mb=round(rss_before, 1) if rss_before else None,
        queries=len(queries),
        # Wall seconds per phase of the close; planning runs in its own thread, overlapping
        # the others, and a chunk's commit is its transaction less its writes (Django's
        # foreign keys are deferred: PostgreSQL checks them at commit).
        phases=getattr(closed, "phases", None),
        documents_issued=documents,
        document_lines=lines,
        second_run_seconds=round(again_seconds, 2),
        second_run_new_documents=again_documents - documents,
        baseline="each project settled on its own (own reads, own transaction)",
        baseline_projects=n_baseline,
        baseline_ms_per_project=round(per_project * 1000, 1),
        baseline_seconds_extrapolated=round(extrapolated, 1),
        speedup=round(speedup, 1) if speedup else None,
        targets={"seconds": "<= 10", "peak_rss_mb": "<= 500", "speedup": ">= 10"},
        met=met,
    )
