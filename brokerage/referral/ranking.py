"""Ranking the referral candidates (紹介先の候補): consenting non-member companies of the
network's directory and partner networks, scored in SQL (lead time, capacity, distance)."""

import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    Exists,
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
from django.db.models.functions import ASin, Coalesce, Cos, Least, Power, Radians, Sin, Sqrt
from django.utils.translation import gettext_lazy

from members.models import Capability, DirectoryEntry, Membership, MembershipStatus, Network
from members.prefectures import PREFECTURE_CAPITALS
from orders.models import Inquiry
from orders.selectors import match_criteria

EARTH_RADIUS_KM = 6371.0
MAX_CANDIDATES = 20

# Score: 100, less 30 when the lead time may not fit the delivery date, 20 when spare
# capacity is below the quantity, and 1 point per 25 km from the delivery prefecture (at
# most 40; 20 when the distance is unknown).
PENALTY_DEADLINE = 30
PENALTY_CAPACITY = 20
KM_PER_POINT = 25.0
MAX_DISTANCE_PENALTY = 40
UNKNOWN_DISTANCE_PENALTY = 20

REASON_LABELS = {
    "consented": gettext_lazy("Consented to receive referrals"),
    "covers_processes": gettext_lazy("Does every process asked on this material and size"),
    "covers_missing": gettext_lazy("Its members cover the processes ours lack"),
    "partner_network": gettext_lazy("Partner network"),
    "within_deadline": gettext_lazy("Lead time fits the delivery date"),
    "lead_time_long": gettext_lazy("Lead time may not fit the delivery date"),
    "spare_capacity": gettext_lazy("Spare capacity for the quantity"),
    "capacity_short": gettext_lazy("Spare capacity below the quantity"),
    "added_by_hand": gettext_lazy("Added by the secretariat"),
}


def reason_labels(codes) -> list[str]:
    return [str(REASON_LABELS.get(code, code)) for code in codes]


# ---------------------------------------------------------------------------------------
# Ranking


@dataclass
class Candidate:
    name: str
    score: Decimal
    distance_km: float | None
    reasons: list[str] = field(default_factory=list)
    company_id: int | None = None
    partner_network_id: int | None = None


def _distance_km(lat: float, lon: float, prefix: str = "company__"):
    """Haversine distance in SQL from (lat, lon) to the row's company (as members.matching)."""
    lat_rad, lon_rad = math.radians(lat), math.radians(lon)
    row_lat = Radians(F(f"{prefix}latitude"))
    a = Power(Sin((row_lat - Value(lat_rad)) / 2), 2) + Value(math.cos(lat_rad)) * Cos(
        row_lat
    ) * Power(Sin((Radians(F(f"{prefix}longitude")) - Value(lon_rad)) / 2), 2)
    return ExpressionWrapper(
        2 * EARTH_RADIUS_KM * ASin(Least(Sqrt(a), Value(1.0))), output_field=FloatField()
    )


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(math.sqrt(h), 1.0))


def _score(in_time: bool, capacity: bool, distance_km: float | None) -> Decimal:
    score = 100.0
    score -= 0 if in_time else PENALTY_DEADLINE
    score -= 0 if capacity else PENALTY_CAPACITY
    if distance_km is None:
        score -= UNKNOWN_DISTANCE_PENALTY
    else:
        score -= min(distance_km / KM_PER_POINT, MAX_DISTANCE_PENALTY)
    return Decimal(str(round(score, 1)))


def _capability_fits(inquiry: Inquiry) -> tuple[Q, Q, Q]:
    """(hard limits, lead time, capacity) as conditions on Capability, like members.matching:
    size, weight, finish and lot decide; lead time and capacity rank."""
    c = match_criteria(inquiry)
    hard = Q(
        material_id=c.material_id,
        max_length_mm__gte=c.length_mm,
        max_width_mm__gte=c.width_mm,
        max_height_mm__gte=c.height_mm,
        max_weight_kg__gte=c.weight_kg,
        lot_min__lte=c.quantity,
        lot_max__gte=c.quantity,
    )
    if c.required_ra_um is not None:
        hard &= Q(finish_ra_um__lte=c.required_ra_um)
    return (
        hard,
        Q(lead_time_days__lte=c.days_available),
        Q(spare_capacity_per_month__gte=c.quantity),
    )


def _processes_covered(fits: Q, process_ids, group: str, outer: dict):
    """How many of `process_ids` the outer row covers (a correlated COUNT(DISTINCT))."""
    qs = (
        Capability.objects.filter(fits, process_id__in=process_ids, **outer)
        .order_by()
        .values(group)
        .annotate(n=Count("process_id", distinct=True))
        .values("n")[:1]
    )
    return Coalesce(Subquery(qs, output_field=IntegerField()), Value(0))


def _score_sql(n: int):
    """The score above, as SQL over the annotations `in_time`, `with_capacity`, `distance_km`."""
    distance_penalty = Case(
        When(distance_km__isnull=True, then=Value(float(UNKNOWN_DISTANCE_PENALTY))),
        default=Least(F("distance_km") / Value(KM_PER_POINT), Value(float(MAX_DISTANCE_PENALTY))),
        output_field=FloatField(),
    )
    return ExpressionWrapper(
        Value(100.0)
        - Case(When(in_time__lt=n, then=Value(float(PENALTY_DEADLINE))), default=Value(0.0))
        - Case(When(with_capacity__lt=n, then=Value(float(PENALTY_CAPACITY))), default=Value(0.0))
        - distance_penalty,
        output_field=FloatField(),
    )


def _soft_reasons(in_time: bool, capacity: bool) -> list[str]:
    return [
        "within_deadline" if in_time else "lead_time_long",
        "spare_capacity" if capacity else "capacity_short",
    ]


def directory_candidates(*, inquiry: Inquiry) -> list[Candidate]:
    """Consenting non-member companies of the inquiry's network directory able to do every
    process of the inquiry on its material within its size, weight, finish and lot; best
    score first (fits the delivery date, has capacity, nearest to the delivery prefecture).
    One query."""
    process_ids = [p.pk for p in inquiry.processes.all()]
    if not process_ids:
        return []
    n = len(process_ids)
    hard, lead_time, capacity = _capability_fits(inquiry)
    outer = {"company_id": OuterRef("company_id")}
    member = Membership.objects.filter(
        company_id=OuterRef("company_id"),
        network_id=inquiry.network_id,
        status=MembershipStatus.ACTIVE,
    )
    qs = (
        DirectoryEntry.objects.filter(network_id=inquiry.network_id, consents_to_referrals=True)
        .exclude(Exists(member))
        .annotate(covered=_processes_covered(hard, process_ids, "company_id", outer))
        .filter(covered=n)
        .annotate(
            in_time=_processes_covered(hard & lead_time, process_ids, "company_id", outer),
            with_capacity=_processes_covered(hard & capacity, process_ids, "company_id", outer),
        )
    )
    latlon = PREFECTURE_CAPITALS.get(inquiry.delivery_prefecture)
    if latlon is not None:
        qs = qs.annotate(distance_km=_distance_km(*latlon))
    else:
        qs = qs.annotate(distance_km=Value(None, output_field=FloatField()))
    rows = (
        qs.annotate(score=_score_sql(n))
        .order_by(
            F("score").desc(),
            F("distance_km").asc(nulls_last=True),
            "company__legal_name_kana",
            "company_id",
        )
        .values("company_id", "company__legal_name", "in_time", "with_capacity", "distance_km")
    )[:MAX_CANDIDATES]
    candidates = []
    for row in rows:
        in_time, with_capacity = row["in_time"] == n, row["with_capacity"] == n
        distance = round(row["distance_km"], 1) if row["distance_km"] is not None else None
        candidates.append(
            Candidate(
                name=row["company__legal_name"],
                company_id=row["company_id"],
                score=_score(in_time, with_capacity, distance),
                distance_km=distance,
                reasons=["consented", "covers_processes", *_soft_reasons(in_time, with_capacity)],
            )
        )
    return candidates


def partner_candidates(*, inquiry: Inquiry, missing_process_ids) -> list[Candidate]:
    """Active partner networks whose active members together cover the missing processes on
    the inquiry's material and size; best score first. Distance is from the delivery
    prefecture to the partner network's prefecture."""
    missing = list(missing_process_ids)
    if not missing:
        return []
    n = len(missing)
    hard, lead_time, capacity = _capability_fits(inquiry)
    group = "company__memberships__network_id"
    outer = {
        "company__memberships__network_id": OuterRef("pk"),
        "company__memberships__status": MembershipStatus.ACTIVE,
    }
    rows = (
        Network.objects.filter(partners=inquiry.network_id, is_active=True)
        .annotate(covered=_processes_covered(hard, missing, group, outer))
        .filter(covered=n)
        .annotate(
            in_time=_processes_covered(hard & lead_time, missing, group, outer),
            with_capacity=_processes_covered(hard & capacity, missing, group, outer),
        )
        .order_by("name", "pk")
        .values("pk", "name", "prefecture", "in_time", "with_capacity")
    )
    origin = PREFECTURE_CAPITALS.get(inquiry.delivery_prefecture)
    candidates = []
    for row in rows:
        target = PREFECTURE_CAPITALS.get(row["prefecture"])
        distance = round(haversine_km(origin, target), 1) if origin and target else None
        in_time, with_capacity = row["in_time"] == n, row["with_capacity"] == n
        candidates.append(
            Candidate(
                name=row["name"],
                partner_network_id=row["pk"],
                score=_score(in_time, with_capacity, distance),
                distance_km=distance,
                reasons=[
                    "partner_network",
                    "covers_missing",
                    *_soft_reasons(in_time, with_capacity),
                ],
            )
        )
    return candidates


def rank_candidates(*, inquiry: Inquiry, missing_process_ids) -> list[Candidate]:
    """Directory companies and partner networks in one list, best score first (directory
    companies first on a tie: they take the whole inquiry)."""
    ranked = directory_candidates(inquiry=inquiry) + partner_candidates(
        inquiry=inquiry, missing_process_ids=missing_process_ids
    )
    return sorted(ranked, key=lambda c: -c.score)[:MAX_CANDIDATES]
