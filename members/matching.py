"""Matching: rank the member capabilities that can serve an inquiry, in one SQL query.

The criteria come as plain values (members does not know the orders app). Each row says why
it is in or out: the hard limits (size, weight, finish, lot) decide whether a capability is a
candidate; spare capacity, lead time against the deadline and distance rank the candidates.
"""

import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import ASin, Cos, Least, Power, Radians, Sin, Sqrt

from .models import Capability, Membership, MembershipClass, MembershipStatus

TEAM_CLASSES = (MembershipClass.LEAD, MembershipClass.JOINT_ORDER)
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class MatchCriteria:
    network_id: int
    process_ids: tuple[int, ...]
    material_id: int
    length_mm: int
    width_mm: int
    height_mm: int
    weight_kg: Decimal
    quantity: int
    required_ra_um: Decimal | None = None
    days_available: int | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class Match:
    capability_id: int
    company_id: int
    company_name: str
    membership_class: str
    process_id: int
    process_code: str
    checks: dict[str, bool]
    distance_km: float | None
    spare_capacity_per_month: int
    lead_time_days: int
    is_candidate: bool
    reasons_out: list[str] = field(default_factory=list)


HARD_CHECKS = ("size", "weight", "finish", "lot")
SOFT_CHECKS = ("capacity", "lead_time")


def _bool(q: Q) -> ExpressionWrapper:
    return ExpressionWrapper(q, output_field=BooleanField())


def _distance_km(lat: float, lon: float):
    """Haversine distance from (lat, lon) to the company, in SQL (SQLite gets Django's math
    functions; PostgreSQL has them natively)."""
    lat_rad, lon_rad = math.radians(lat), math.radians(lon)
    company_lat = Radians(F("company__latitude"))
    a = Power(Sin((company_lat - Value(lat_rad)) / 2), 2) + Value(math.cos(lat_rad)) * Cos(
        company_lat
    ) * Power(Sin((Radians(F("company__longitude")) - Value(lon_rad)) / 2), 2)
    return ExpressionWrapper(
        2 * EARTH_RADIUS_KM * ASin(Least(Sqrt(a), Value(1.0))), output_field=FloatField()
    )


def capability_matches(criteria: MatchCriteria, *, limit: int = 100) -> list[Match]:
    """Every team-eligible member capability for the inquiry's processes on its material,
    candidates first (then spare capacity, lead time, distance), with the reasons of those
    that fall short. One query."""
    c = criteria
    member_class = Membership.objects.filter(
        network_id=c.network_id,
        company_id=OuterRef("company_id"),
        status=MembershipStatus.ACTIVE,
        membership_class__in=TEAM_CLASSES,
    ).order_by("membership_class")  # "joint_order" < "lead": a lead is still a team member
    checks = {
        "size": _bool(
            Q(max_length_mm__gte=c.length_mm)
            & Q(max_width_mm__gte=c.width_mm)
            & Q(max_height_mm__gte=c.height_mm)
        ),
        "weight": _bool(Q(max_weight_kg__gte=c.weight_kg)),
        "finish": _bool(
            Q(finish_ra_um__lte=c.required_ra_um) if c.required_ra_um is not None else Q(pk__gt=0)
        ),
        "lot": _bool(Q(lot_min__lte=c.quantity) & Q(lot_max__gte=c.quantity)),
        "capacity": _bool(Q(spare_capacity_per_month__gte=c.quantity)),
        "lead_time": _bool(
            Q(lead_time_days__lte=c.days_available) if c.days_available is not None else Q(pk__gt=0)
        ),
    }
    hard = Q()
    for name in HARD_CHECKS:
        hard &= Q(**{f"check_{name}": True})
    qs = (
        Capability.objects.filter(
            process_id__in=c.process_ids,
            material_id=c.material_id,
        )
        .annotate(member_class=Subquery(member_class.values("membership_class")[:1]))
        .filter(member_class__isnull=False)
        .annotate(**{f"check_{name}": expr for name, expr in checks.items()})
        .annotate(
            candidate=Case(When(hard, then=Value(1)), default=Value(0), output_field=IntegerField())
        )
    )
    if c.latitude is not None and c.longitude is not None:
        qs = qs.annotate(distance_km=_distance_km(c.latitude, c.longitude))
    else:
        qs = qs.annotate(distance_km=Value(None, output_field=FloatField()))
    rows = qs.order_by(
        "-candidate",
        F("check_capacity").desc(),
        F("check_lead_time").desc(),
        F("distance_km").asc(nulls_last=True),
        "-spare_capacity_per_month",
        "id",
    ).values(
        "id",
        "company_id",
        "company__legal_name",
        "member_class",
        "process_id",
        "process__code",
        "spare_capacity_per_month",
        "lead_time_days",
        "candidate",
        "distance_km",
        *(f"check_{name}" for name in checks),
    )[:limit]
    matches = []
    for row in rows:
        row_checks = {name: bool(row[f"check_{name}"]) for name in checks}
        matches.append(
            Match(
                capability_id=row["id"],
                company_id=row["company_id"],
                company_name=row["company__legal_name"],
                membership_class=row["member_class"],
                process_id=row["process_id"],
                process_code=row["process__code"],
                checks=row_checks,
                distance_km=round(row["distance_km"], 1)
                if row["distance_km"] is not None
                else None,
                spare_capacity_per_month=row["spare_capacity_per_month"],
                lead_time_days=row["lead_time_days"],
                is_candidate=bool(row["candidate"]),
                reasons_out=[name for name in HARD_CHECKS if not row_checks[name]],
            )
        )
    return matches
