"""Benchmark 5: the order record (受注実績) over a large history.

The 100,000 inquiries of benchmark 2 (four networks, three years, every status; a tenth
awarded), plus an outcome status change for every answered inquiry, award dates, and for the
largest network's awards a project with two packages each, spread over 60 joint-order members
(invitations and inspections included). Measured: `brokerage.record.network_record` for the
current fiscal year and for three years, the 60 scorecards, and the secretariat's dashboard
page in-process (median of 7, after a warm-up), with its query count.
Targets: the dashboard under 1 s (p50) on PostgreSQL; its query count the same as on an
empty network.
"""

import datetime
import os
import random
import statistics
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .api_reads import N_INQUIRIES, build
from .common import progress, report

RUNS = 7


def _timed(call) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def _history(rng: random.Random, network, secretariat):
    from django.contrib.contenttypes.models import ContentType

    from members.models import Company, Membership
    from orders.models import (
        Award,
        Delivery,
        Inquiry,
        Inspection,
        Invitation,
        Project,
        WorkPackage,
    )

    inquiry_type = ContentType.objects.get_for_model(Inquiry)
    answered = list(
        Inquiry.objects.filter(status__in=("awarded", "referral", "rejected")).values_list(
            "pk", "status", "submitted_at"
        )
    )
    award_times = {}
    rows = []
    for pk, status, submitted in answered:
        at = submitted + datetime.timedelta(days=rng.uniform(0, 20))
        award_times[pk] = at
        rows.append((inquiry_type.pk, pk, "open", status, "", "", at))
    # Raw inserts: created_at is auto_now_add, and the table refuses updates (append-only).
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO core_statuschange (content_type_id, object_id, from_status, to_status,"
            " actor_label, reason, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
    made = rows
    awards = list(Award.objects.select_related("inquiry", "application"))
    for award in awards:
        award.confirmed_at = award_times[award.inquiry_id]
    Award.objects.bulk_update(awards, ["confirmed_at"], batch_size=5000)
    progress(f"status changes: {len(made):,}, awards dated: {len(awards):,}")

    companies = list(Company.objects.order_by("pk")[:62])
    leads, members = companies[:2], companies[2:]
    Membership.objects.bulk_create(
        [
            Membership(
                network=network,
                company=c,
                membership_class="lead" if c in leads else "joint_order",
                joined_on="2020-04-01",
                annual_fee_yen=15000,
            )
            for c in companies
        ]
    )
    ours = [a for a in awards if a.inquiry.network_id == network.pk]
    projects = Project.objects.bulk_create(
        [
            Project(
                inquiry_id=a.inquiry_id,
                network=network,
                lead=leads[0],
                order_value_yen=a.application.price_yen,
                delivery_date=a.confirmed_at.date(),
                opened_by=secretariat,
                status="accepted",
            )
            for a in ours
        ],
        batch_size=2000,
    )
    packages = []
    for project, award in zip(projects, ours, strict=True):
        due = award.confirmed_at.date()
        for _ in range(2):
            late = rng.random() < 0.15
            packages.append(
                WorkPackage(
                    project=project,
                    process_id=1,
                    material_id=1,
                    quantity=rng.randint(10, 500),
                    unit_price_yen=rng.randint(50, 3000),
                    due_date=due,
                    member=rng.choice(members),
                    status="accepted",
                    completed_at=award.confirmed_at
                    + datetime.timedelta(days=rng.uniform(1, 6) if late else -rng.uniform(1, 6)),
                )
            )
    packages = WorkPackage.objects.bulk_create(packages, batch_size=5000)
    Invitation.objects.bulk_create(
        [
            Invitation(
                package=p,
                company=p.member,
                invited_by=secretariat,
                expires_at=p.completed_at,
                status=rng.choice(("accepted", "accepted", "declined", "expired")),
            )
            for p in packages
        ],
        batch_size=5000,
    )
    deliveries = Delivery.objects.bulk_create(
        [Delivery(package=p, quantity=p.quantity, shipped_by=secretariat) for p in packages],
        batch_size=5000,
    )
    inspections = []
    for d in deliveries:
        rejected = rng.randint(0, max(d.quantity // 20, 1))
        inspections.append(
            Inspection(
                delivery=d,
                quantity_received=d.quantity,
                quantity_passed=d.quantity - rejected,
                quantity_rejected=rejected,
                result="partly" if rejected else "passed",
                disposition="rework" if rejected else "",
                inspected_by=secretariat,
            )
        )
    Inspection.objects.bulk_create(inspections, batch_size=5000)
    progress(f"projects: {len(projects):,}, packages: {len(packages):,}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def run() -> dict:
    from brokerage import record
    from members.models import Network

    rng = random.Random(20261127)
    networks, secretariat = build(rng)
    network = networks[0]
    _history(rng, network, secretariat)

    # A small network (one member, no history) for the query count to compare with.
    from members.models import Company, Membership, NetworkStaff

    empty = Network.objects.create(name="小さなネットワーク", slug="bench-small")
    NetworkStaff.objects.create(network=empty, user=secretariat, role="secretariat")
    Membership.objects.create(
        network=empty,
        company=Company.objects.order_by("pk").first(),
        membership_class="joint_order",
        joined_on="2020-04-01",
        annual_fee_yen=15000,
    )
    year = record.fiscal_year(network)
    three_years = record.Period(record.add_months(year.start, -24), year.end)
    received = record.inquiry_counts(network=network, period=year).received
    received_3y = record.inquiry_counts(network=network, period=three_years).received
    fy_ms = _timed(lambda: record.network_record(network=network, period=year))
    three_ms = _timed(lambda: record.network_record(network=network, period=three_years))
    cards_ms = _timed(lambda: record.scorecards(network=network, period=year))
    args = {"network": network, "period": year}
    parts_ms = {
        "inquiry_counts": _timed(lambda: record.inquiry_counts(**args)),
        "by_month": _timed(lambda: record.order_value_by_month(**args)),
        "by_year_all_history": _timed(lambda: record.order_value_by_year(network=network)),
        "by_process": _timed(lambda: record.order_value_by_process(**args)),
        "by_material": _timed(lambda: record.order_value_by_material(**args)),
        "response_times": _timed(lambda: record.response_times(**args)),
    }

    client = Client()
    client.force_login(secretariat)
    url = reverse("record_dashboard", args=[network.pk])
    empty_url = reverse("record_dashboard", args=[empty.pk])
    assert client.get(url).status_code == 200  # warm
    page_ms = _timed(lambda: client.get(url))
    connection.queries_log.clear()  # a full log (9,000) would make the capture's slice wrong
    with CaptureQueriesContext(connection) as full:
        client.get(url)
    client.get(empty_url)
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as blank:
        client.get(empty_url)
    if os.environ.get("BENCH_SHOW_QUERIES"):
        for name, ctx in (("full", full), ("empty", blank)):
            for q in ctx.captured_queries:
                progress(f"{name}: {q['sql'][:120]}")
    return report(
        "record",
        inquiries=N_INQUIRIES,
        network_inquiries_this_fiscal_year=received,
        network_inquiries_three_years=received_3y,
        record_fiscal_year_ms=fy_ms,
        record_three_years_ms=three_ms,
        record_fiscal_year_parts_ms=parts_ms,
        scorecards_60_members_ms=cards_ms,
        dashboard_p50_ms=page_ms,
        dashboard_queries=len(full),
        dashboard_queries_small_network=len(blank),
        targets={"dashboard_p50_ms": "< 1000", "queries equal to a one-member network's": True},
        met=page_ms < 1000 and len(full) == len(blank),
    )
