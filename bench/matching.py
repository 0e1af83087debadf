"""Benchmark 1: matching at national scale.

20,000 companies with 100,000 capability rows; rank the candidates of an inquiry. Compares
the platform's query (members.matching.capability_matches) with a hand-written SQL query with
the same filters and ranking, and with the naive way (load every company through the ORM and
filter in Python). Targets: median ≤ 10 ms, ≤ 3 queries, ≤ 4× the SQL floor, ≥ 50× faster
than the naive way.
"""

import math
import random
import statistics
import time
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.matching import MatchCriteria, capability_matches
from members.models import (
    Capability,
    Company,
    FinishKind,
    Material,
    Membership,
    MembershipClass,
    Network,
    Process,
)

from .common import progress, report

N_COMPANIES = 20_000
CAPS_PER_COMPANY = 5
PROCESSES = [f"bench-p{i}" for i in range(10)]
MATERIALS = [f"bench-m{i}" for i in range(8)]


def build(rng: random.Random) -> tuple[Network, list[Process], list[Material]]:
    network = Network.objects.create(name="ベンチ網", slug="bench")
    processes = [
        Process.objects.create(code=c, name_ja=c, name_en=c, sort_order=i)
        for i, c in enumerate(PROCESSES)
    ]
    materials = [
        Material.objects.create(code=c, name_ja=c, name_en=c, sort_order=i)
        for i, c in enumerate(MATERIALS)
    ]
    batch = 2000
    for start in range(0, N_COMPANIES, batch):
        companies = Company.objects.bulk_create(
            [
                Company(
                    legal_name=f"ベンチ研磨{n}",
                    legal_name_kana=f"ベンチケンマ{n}",
                    prefecture=f"{rng.randint(1, 47):02d}",
                    city="市",
                    latitude=Decimal(f"{rng.uniform(31, 43):.6f}"),
                    longitude=Decimal(f"{rng.uniform(129, 145):.6f}"),
                )
                for n in range(start, start + batch)
            ]
        )
        Membership.objects.bulk_create(
            [
                Membership(
                    network=network,
                    company=c,
                    membership_class=rng.choice(
                        [MembershipClass.LEAD, MembershipClass.JOINT_ORDER, "supporting"]
                    ),
                    joined_on="2020-04-01",
                    annual_fee_yen=15000,
                )
                for c in companies
            ]
        )
        caps = []
        for c in companies:
            for p, m in rng.sample(
                [(p, m) for p in processes for m in materials], CAPS_PER_COMPANY
            ):
                lot_min = rng.choice([1, 10, 100])
                caps.append(
                    Capability(
                        company=c,
                        process=p,
                        material=m,
                        max_length_mm=rng.randint(100, 3000),
                        max_width_mm=rng.randint(100, 1500),
                        max_height_mm=rng.randint(50, 1000),
                        max_weight_kg=Decimal(rng.randint(1, 500)),
                        finish_kind=FinishKind.RA,
                        finish_ra_input=Decimal("0.1"),
                        finish_ra_um=Decimal(rng.choice(["0.02", "0.05", "0.1", "0.2", "0.4"])),
                        lot_min=lot_min,
                        lot_max=lot_min * rng.choice([10, 100, 1000]),
                        lead_time_days=rng.randint(3, 45),
                        spare_capacity_per_month=rng.randint(0, 5000),
                    )
                )
        Capability.objects.bulk_create(caps)
        progress(f"matching data: {start + batch:,}/{N_COMPANIES:,} companies")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics, as a production database has
    return network, processes, materials


HAND_SQL = """
WITH caps AS MATERIALIZED (
    SELECT * FROM members_capability
     WHERE process_id IN (%(p)s) AND material_id = %(m)s
), ranked AS (
    SELECT c.id, c.company_id, co.legal_name,
           (SELECT m.membership_class FROM members_membership m
             WHERE m.network_id = %(net)s AND m.company_id = c.company_id
               AND m.status = 'active' AND m.membership_class IN ('lead', 'joint_order')
             ORDER BY m.membership_class LIMIT 1) AS cls,
           c.process_id, c.spare_capacity_per_month, c.lead_time_days,
           CASE WHEN c.max_length_mm >= %(l)s AND c.max_width_mm >= %(w)s
                 AND c.max_height_mm >= %(h)s AND c.max_weight_kg >= %(kg)s
                 AND c.finish_ra_um <= %(ra)s AND c.lot_min <= %(q)s AND c.lot_max >= %(q)s
                THEN 1 ELSE 0 END AS candidate,
           (c.spare_capacity_per_month >= %(q)s) AS cap_ok,
           (c.lead_time_days <= %(days)s) AS lt_ok,
           2 * 6371.0 * ASIN(MIN_FN(SQRT(
               POWER(SIN((RADIANS(co.latitude) - %(lat)s) / 2), 2)
               + %(coslat)s * COS(RADIANS(co.latitude))
                 * POWER(SIN((RADIANS(co.longitude) - %(lon)s) / 2), 2)), 1.0)) AS distance_km
      FROM caps c JOIN members_company co ON co.id = c.company_id
)
SELECT r.*, p.code FROM ranked r JOIN members_process p ON p.id = r.process_id
 WHERE r.cls IS NOT NULL
 ORDER BY r.candidate DESC, r.cap_ok DESC, r.lt_ok DESC, r.distance_km ASC,
          r.spare_capacity_per_month DESC, r.id
 LIMIT 100
"""


def hand_written(criteria: MatchCriteria) -> list:
    params = {
        "l": criteria.length_mm,
        "w": criteria.width_mm,
        "h": criteria.height_mm,
        "kg": criteria.weight_kg,
        "ra": criteria.required_ra_um,
        "q": criteria.quantity,
        "days": criteria.days_available,
        "lat": math.radians(criteria.latitude),
        "lon": math.radians(criteria.longitude),
        "coslat": math.cos(math.radians(criteria.latitude)),
        "net": criteria.network_id,
        "p": criteria.process_ids[0],
        "m": criteria.material_id,
    }
    least = "LEAST" if connection.vendor == "postgresql" else "MIN"
    sql = HAND_SQL.replace("MIN_FN", least)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def naive(criteria: MatchCriteria) -> list:
    """What a first version would do: every company and its capabilities into Python."""
    out = []
    for company in Company.objects.prefetch_related("capabilities", "memberships"):
        member = any(
            m.network_id == criteria.network_id
            and m.status == "active"
            and m.membership_class in ("lead", "joint_order")
            for m in company.memberships.all()
        )
        if not member:
            continue
        for c in company.capabilities.all():
            if c.process_id in criteria.process_ids and c.material_id == criteria.material_id:
                ok = (
                    c.max_length_mm >= criteria.length_mm
                    and c.max_width_mm >= criteria.width_mm
                    and c.max_height_mm >= criteria.height_mm
                    and c.max_weight_kg >= criteria.weight_kg
                    and c.finish_ra_um <= criteria.required_ra_um
                    and c.lot_min <= criteria.quantity <= c.lot_max
                )
                out.append((not ok, -c.spare_capacity_per_month, c.id))
    return sorted(out)[:100]


def timed(fn, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def run() -> dict:
    rng = random.Random(20261125)
    network, processes, materials = build(rng)
    criteria = MatchCriteria(
        network_id=network.pk,
        process_ids=(processes[0].pk,),
        material_id=materials[0].pk,
        length_mm=500,
        width_mm=300,
        height_mm=200,
        weight_kg=Decimal("10"),
        quantity=300,
        required_ra_um=Decimal("0.1"),
        days_available=20,
        latitude=37.90,
        longitude=139.02,
    )
    ours = capability_matches(criteria)
    floor = hand_written(criteria)
    assert [m.capability_id for m in ours] == [r[0] for r in floor], "rankings differ"
    for _ in range(5):  # warm caches
        capability_matches(criteria)
        hand_written(criteria)
    with CaptureQueriesContext(connection) as ctx:
        capability_matches(criteria)
    ours_ms = timed(lambda: capability_matches(criteria), 50)
    floor_ms = timed(lambda: hand_written(criteria), 50)
    naive_ms = timed(lambda: naive(criteria), 2)
    median = statistics.median(ours_ms)
    return report(
        "matching",
        companies=N_COMPANIES,
        capability_rows=Capability.objects.count(),
        candidates_returned=len(ours),
        median_ms=round(median, 2),
        p95_ms=round(sorted(ours_ms)[int(len(ours_ms) * 0.95) - 1], 2),
        queries=len(ctx.captured_queries),
        hand_sql_median_ms=round(statistics.median(floor_ms), 2),
        ratio_to_hand_sql=round(median / statistics.median(floor_ms), 2),
        naive_python_median_ms=round(statistics.median(naive_ms), 1),
        speedup_vs_naive=round(statistics.median(naive_ms) / median, 1),
        targets={
            "median_ms": "<= 10",
            "queries": "<= 3",
            "ratio_to_hand_sql": "<= 4",
            "speedup_vs_naive": ">= 50",
        },
        met=median <= 10
        and len(ctx.captured_queries) <= 3
        and median / statistics.median(floor_ms) <= 4
        and statistics.median(naive_ms) / median >= 50,
    )
