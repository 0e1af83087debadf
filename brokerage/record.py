"""The order record (受注実績): what a network received, how it answered, what it won, and how
each member company did on its packages (the scorecard). Reads only, aggregated in the
database: a handful of queries per page whatever the number of inquiries or members.

Counting rules (shown on the pages too):

- **Period.** Inquiry figures count the inquiries *received* in the period (submitted_at,
  Japan time), with the outcome they have today. Order value counts the awards *confirmed* in
  the period. Package figures count the packages *due* in the period; invitations and charges
  count by the day they were sent or made. The default period is the network's current fiscal
  year (`Network.fiscal_year_start_month`).
- **One inquiry, one count.** A stage of a process chain split inside the same network is
  counted once, as its parent inquiry; a stage sent here from a partner network counts here.
- **Outcomes.** Awarded, referred (and of those, taken by a referral target), declined with
  reasons, withdrawn by the buyer; everything else is still unanswered. The rate answered is
  (awarded + referred + declined) ÷ (received − withdrawn): a buyer's withdrawal needs no
  answer, but it is not counted as one.
- **Order value.** An award counts with its project's order value (excl. tax) once the lead
  opened the project, until then with the awarded bid's price; a cancelled project counts
  nothing. A referral counts as an inquiry handled but adds no value: the platform does not
  learn the price the referral target agreed with the buyer.
- **Per process / material.** An order with several processes counts in full under each of
  them, so the process bars can add up to more than the total.
- **Response time.** Working days (Monday–Friday, Japanese holidays excluded, as in
  `brokerage.sla`) from the day the inquiry was received to the day of its first outcome
  (the StatusChange into awarded, referral or rejected); the day of receipt does not count,
  so an answer the same day or the next working day is 0 or 1. Withdrawn inquiries are left
  out. Median and 90th percentile by nearest rank.
- **Scorecard.** Packages taken by the member (not those a lead does itself) and their value
  (quantity × unit price); on-time rate = packages completed by their due date ÷ completed
  packages; defect rate = (items rejected at the lead's inspections + items of buyers' claims
  traced to its packages) ÷ items inspected (reworked items are inspected again and count
  again); invitations received, declined and let expire; charges made to it.
"""

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    BigIntegerField,
    Count,
    DateField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from core.models import StatusChange
from members.models import (
    Material,
    Membership,
    MembershipClass,
    MembershipStatus,
    Network,
    Probation,
    Process,
)
from orders.models import (
    Award,
    AwardStatus,
    Claim,
    Inquiry,
    InquiryStage,
    InquiryStatus,
    Inspection,
    Invitation,
    InvitationStatus,
    MemberCharge,
    ProjectStatus,
    WorkPackage,
)

from .models import ReferralStatus
from .sla import working_days_between

S = InquiryStatus
# The network's own answers (a withdrawal is the buyer's).
ANSWERS = (S.AWARDED, S.REFERRAL, S.REJECTED)
# Who has a scorecard: the companies that can be put on a project team.
SCORED_CLASSES = (MembershipClass.JOINT_ORDER, MembershipClass.LEAD)


# ---------------------------------------------------------------------------------------
# Periods


@dataclass(frozen=True)
class Period:
    """First and last day, both included (Japan time)."""

    start: datetime.date
    end: datetime.date

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """[start 00:00, the day after end 00:00) as aware datetimes: index-friendly."""
        tz = timezone.get_current_timezone()
        return (
            datetime.datetime.combine(self.start, datetime.time.min, tzinfo=tz),
            datetime.datetime.combine(
                self.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
            ),
        )

    def months(self) -> list[datetime.date]:
        """The first day of every month the period touches."""
        months, month = [], self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            month = add_months(month, 1)
        return months


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later (or earlier), on the month's last day if it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (datetime.date(year + month // 12, month % 12 + 1, 1) - datetime.timedelta(days=1)).day
    return datetime.date(year, month, min(day.day, last))


def fiscal_year_start(network: Network, day: datetime.date) -> datetime.date:
    start_month = network.fiscal_year_start_month
    year = day.year if day.month >= start_month else day.year - 1
    return datetime.date(year, start_month, 1)


def fiscal_year(network: Network, today: datetime.date | None = None) -> Period:
    """The network's fiscal year containing `today` (April to March by default)."""
    start = fiscal_year_start(network, today or timezone.localdate())
    return Period(start, add_months(start, 12) - datetime.timedelta(days=1))


# ---------------------------------------------------------------------------------------
# Results


def _pct(part: int, whole: int) -> float | None:
    return None if not whole else round(part * 100 / whole, 1)


@dataclass
class InquiryCounts:
    received: int = 0
    awarded: int = 0
    referred: int = 0
    referral_taken: int = 0
    rejected: int = 0
    withdrawn: int = 0

    @property
    def answered(self) -> int:
        return self.awarded + self.referred + self.rejected

    @property
    def unanswered(self) -> int:
        return self.received - self.answered - self.withdrawn

    @property
    def answered_rate(self) -> float | None:
        """% of the inquiries needing an answer (all but the withdrawn) that got one."""
        return _pct(self.answered, self.received - self.withdrawn)


@dataclass
class MonthValue:
    month: datetime.date
    value_yen: int = 0
    orders: int = 0


@dataclass
class YearValue:
    """A fiscal year, named by the calendar year it starts in (2026 = April 2026–March 2027)."""

    year: int
    start: datetime.date
    end: datetime.date
    value_yen: int = 0
    orders: int = 0


@dataclass
class CatalogueValue:
    """Order value of one process or material (`name_ja`/`name_en` for `local_name`)."""

    code: str
    name_ja: str
    name_en: str
    value_yen: int = 0
    orders: int = 0


@dataclass
class ResponseTimes:
    answered: int = 0
    median_days: int | None = None
    p90_days: int | None = None
    within_limit: int = 0
    limit_days: int = 0

    @property
    def within_limit_rate(self) -> float | None:
        return _pct(self.within_limit, self.answered)


@dataclass
class NetworkRecord:
    network: Network
    period: Period
    process: Process | None
    material: Material | None
    counts: InquiryCounts
    by_month: list[MonthValue]
    by_year: list[YearValue]
    by_process: list[CatalogueValue]
    by_material: list[CatalogueValue]
    response: ResponseTimes

    @property
    def order_value_yen(self) -> int:
        return sum(m.value_yen for m in self.by_month)

    @property
    def orders(self) -> int:
        return sum(m.orders for m in self.by_month)


@dataclass
class ProbationInfo:
    pk: int
    since: datetime.datetime
    until: datetime.date
    max_package_value_yen: int
    reason: str


@dataclass
class Scorecard:
    """One member company's record in one network over a period."""

    company: object  # members.Company
    membership_id: int
    membership_class: str
    packages_taken: int = 0
    package_value_yen: int = 0
    completed: int = 0
    on_time: int = 0
    inspected: int = 0
    rejected: int = 0
    claimed: int = 0
    invitations: int = 0
    accepted: int = 0
    declined: int = 0
    expired: int = 0
    charges: int = 0
    charges_yen: int = 0
    probation: ProbationInfo | None = None

    @property
    def company_id(self) -> int:
        return self.company.pk

    @property
    def late(self) -> int:
        return self.completed - self.on_time

    @property
    def defective(self) -> int:
        return self.rejected + self.claimed

    @property
    def on_time_rate(self) -> float | None:
        return _pct(self.on_time, self.completed)

    @property
    def defect_rate(self) -> float | None:
        return _pct(self.defective, self.inspected)

    def figures(self) -> dict:
        """The numbers, as stored with a probation (JSON)."""
        return {
            "completed": self.completed,
            "on_time": self.on_time,
            "on_time_rate": self.on_time_rate,
            "inspected": self.inspected,
            "rejected": self.rejected,
            "claimed": self.claimed,
            "defect_rate": self.defect_rate,
        }


# ---------------------------------------------------------------------------------------
# Queries


def _inquiries(network: Network, period: Period, process, material) -> QuerySet[Inquiry]:
    start, end = period.bounds()
    qs = Inquiry.objects.filter(
        network=network, submitted_at__gte=start, submitted_at__lt=end
    ).exclude(
        # A stage split inside this network is counted once, as its parent.
        Exists(InquiryStage.objects.filter(inquiry_id=OuterRef("pk"), parent__network=network))
    )
    return _catalogue_filters(qs, process, material, inquiry="pk", material_field="material")


def _catalogue_filters(qs, process, material, *, inquiry: str, material_field: str):
    if process is not None:
        qs = qs.filter(
            Exists(
                Inquiry.processes.through.objects.filter(
                    inquiry_id=OuterRef(inquiry), process_id=process.pk
                )
            )
        )
    if material is not None:
        qs = qs.filter(**{material_field: material})
    return qs


def inquiry_counts(
    *, network: Network, period: Period, process=None, material=None
) -> InquiryCounts:
    """Inquiries received in the period by their outcome today. One query."""
    row = (
        _inquiries(network, period, process, material)
        .order_by()
        .aggregate(
            received=Count("pk"),
            awarded=Count("pk", filter=Q(status=S.AWARDED)),
            referred=Count("pk", filter=Q(status=S.REFERRAL)),
            referral_taken=Count(
                "pk", filter=Q(status=S.REFERRAL, referral__status=ReferralStatus.ACCEPTED)
            ),
            rejected=Count("pk", filter=Q(status=S.REJECTED)),
            withdrawn=Count("pk", filter=Q(status=S.WITHDRAWN)),
        )
    )
    return InquiryCounts(**row)


def _awards(network: Network, process, material) -> QuerySet[Award]:
    qs = (
        Award.objects.filter(status=AwardStatus.CONFIRMED, inquiry__network=network)
        .exclude(inquiry__project__status=ProjectStatus.CANCELLED)
        .annotate(
            value=Coalesce("inquiry__project__order_value_yen", "application__price_yen"),
        )
    )
    return _catalogue_filters(
        qs, process, material, inquiry="inquiry_id", material_field="inquiry__material"
    )


def _awards_in(network: Network, period: Period, process, material) -> QuerySet[Award]:
    start, end = period.bounds()
    return _awards(network, process, material).filter(confirmed_at__gte=start, confirmed_at__lt=end)


def order_value_by_month(
    *, network: Network, period: Period, process=None, material=None
) -> list[MonthValue]:
    """Order value and number of orders per month of the award, every month of the period
    listed (zero when nothing was won). One query."""
    months = {m: MonthValue(m) for m in period.months()}
    rows = (
        _awards_in(network, period, process, material)
        .annotate(month=TruncMonth("confirmed_at", output_field=DateField()))
        .order_by()
        .values("month")
        .annotate(total=Sum("value"), orders=Count("pk"))
    )
    for row in rows:
        month = months[row["month"]]
        month.value_yen, month.orders = int(row["total"] or 0), row["orders"]
    return list(months.values())


def order_value_by_year(
    *, network: Network, process=None, material=None, today: datetime.date | None = None
) -> list[YearValue]:
    """Order value per fiscal year over the whole history, from the first award to the
    current year (years without an award listed as zero). One query (grouped by month)."""
    rows = list(
        _awards(network, process, material)
        .annotate(month=TruncMonth("confirmed_at", output_field=DateField()))
        .order_by()
        .values("month")
        .annotate(total=Sum("value"), orders=Count("pk"))
    )
    if not rows:
        return []
    first = fiscal_year_start(network, min(r["month"] for r in rows))
    last = fiscal_year_start(network, today or timezone.localdate())
    last = max(last, fiscal_year_start(network, max(r["month"] for r in rows)))
    years = {}
    start = first
    while start <= last:
        years[start] = YearValue(
            start.year, start, add_months(start, 12) - datetime.timedelta(days=1)
        )
        start = add_months(start, 12)
    for row in rows:
        year = years[fiscal_year_start(network, row["month"])]
        year.value_yen += int(row["total"] or 0)
        year.orders += row["orders"]
    return list(years.values())


def _by_catalogue(qs, prefix: str) -> list[CatalogueValue]:
    rows = (
        qs.order_by()
        .values(f"{prefix}__code", f"{prefix}__name_ja", f"{prefix}__name_en")
        .annotate(total=Sum("value"), orders=Count("pk"))
    )
    result = [
        CatalogueValue(
            code=row[f"{prefix}__code"],
            name_ja=row[f"{prefix}__name_ja"],
            name_en=row[f"{prefix}__name_en"],
            value_yen=int(row["total"] or 0),
            orders=row["orders"],
        )
        for row in rows
        if row[f"{prefix}__code"] is not None
    ]
    return sorted(result, key=lambda r: (-r.value_yen, r.code))


def order_value_by_process(
    *, network: Network, period: Period, process=None, material=None
) -> list[CatalogueValue]:
    """Order value per process of the awarded inquiries (an order with several processes
    counts under each), largest first. One query."""
    return _by_catalogue(_awards_in(network, period, process, material), "inquiry__processes")


def order_value_by_material(
    *, network: Network, period: Period, process=None, material=None
) -> list[CatalogueValue]:
    """Order value per material, largest first. One query."""
    return _by_catalogue(_awards_in(network, period, process, material), "inquiry__material")


def _nearest_rank(histogram: list[tuple[int, int]], total: int, fraction: float) -> int | None:
    """The smallest value with at least `fraction` of the weight at or below it."""
    if not total:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for value, weight in histogram:
        seen += weight
        if seen >= rank:
            return value
    return histogram[-1][0]


def response_times(
    *, network: Network, period: Period, process=None, material=None
) -> ResponseTimes:
    """Working days from receipt to the first outcome for the inquiries received in the
    period that the network answered. One query, grouped by (received day, answer day): the
    rows returned grow with the calendar, not with the number of inquiries."""
    content_type = ContentType.objects.get_for_model(Inquiry)  # cached after the first call
    first_answer = (
        StatusChange.objects.filter(
            content_type=content_type, object_id=OuterRef("pk"), to_status__in=ANSWERS
        )
        .order_by("created_at", "id")
        .values("created_at")[:1]
    )
    rows = (
        _inquiries(network, period, process, material)
        .filter(status__in=ANSWERS)
        .annotate(answered_at=Subquery(first_answer))
        .filter(answered_at__isnull=False)
        .annotate(received_day=TruncDate("submitted_at"), answered_day=TruncDate("answered_at"))
        .order_by()
        .values("received_day", "answered_day")
        .annotate(n=Count("pk"))
    )
    weights: dict[int, int] = defaultdict(int)
    for row in rows:
        days = max(working_days_between(row["received_day"], row["answered_day"]), 0)
        weights[days] += row["n"]
    histogram = sorted(weights.items())
    total = sum(weights.values())
    limit = network.sla_working_days
    return ResponseTimes(
        answered=total,
        median_days=_nearest_rank(histogram, total, 0.5),
        p90_days=_nearest_rank(histogram, total, 0.9),
        within_limit=sum(n for days, n in histogram if days <= limit),
        limit_days=limit,
    )


def network_record(
    *,
    network: Network,
    period: Period | None = None,
    process: Process | None = None,
    material: Material | None = None,
    today: datetime.date | None = None,
) -> NetworkRecord:
    """Every figure of the secretariat's dashboard: 7 queries."""
    period = period or fiscal_year(network, today)
    args = {"network": network, "period": period, "process": process, "material": material}
    return NetworkRecord(
        network=network,
        period=period,
        process=process,
        material=material,
        counts=inquiry_counts(**args),
        by_month=order_value_by_month(**args),
        by_year=order_value_by_year(
            network=network, process=process, material=material, today=today
        ),
        by_process=order_value_by_process(**args),
        by_material=order_value_by_material(**args),
        response=response_times(**args),
    )


# ---------------------------------------------------------------------------------------
# Scorecards


def _grouped(qs, key: str, **aggregates) -> dict[int, dict]:
    return {row[key]: row for row in qs.order_by().values(key).annotate(**aggregates)}


def scorecards(
    *, network: Network, period: Period | None = None, company_id: int | None = None
) -> list[Scorecard]:
    """The scorecard of every lead and joint-order member of the network (suspended ones
    included, ended ones not), or of one company. 7 queries whatever the number of members."""
    period = period or fiscal_year(network)
    start, end = period.bounds()
    memberships = (
        Membership.objects.filter(
            network=network,
            membership_class__in=SCORED_CLASSES,
            status__in=(MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED),
        )
        .select_related("company")
        .order_by("company__legal_name_kana", "company_id", "membership_class")
    )
    if company_id is not None:
        memberships = memberships.filter(company_id=company_id)
    cards: dict[int, Scorecard] = {}
    for membership in memberships:
        # A company holds one scored membership per network; keep the first if ever two.
        cards.setdefault(
            membership.company_id,
            Scorecard(
                company=membership.company,
                membership_id=membership.pk,
                membership_class=membership.membership_class,
            ),
        )
    if not cards:
        return []
    ids = list(cards)

    packages = WorkPackage.objects.filter(
        project__network=network,
        member_id__in=ids,
        self_performed=False,
        due_date__gte=period.start,
        due_date__lte=period.end,
    )
    for member_id, row in _grouped(
        packages,
        "member_id",
        taken=Count("pk"),
        value=Sum(F("quantity") * F("unit_price_yen"), output_field=BigIntegerField()),
        completed=Count("pk", filter=Q(completed_at__isnull=False)),
        on_time=Count(
            "pk",
            filter=Q(completed_at__isnull=False, due_date__gte=TruncDate("completed_at")),
        ),
    ).items():
        card = cards[member_id]
        card.packages_taken, card.package_value_yen = row["taken"], int(row["value"] or 0)
        card.completed, card.on_time = row["completed"], row["on_time"]

    package_ids = packages.values("pk")
    for member_id, row in _grouped(
        Inspection.objects.filter(delivery__package__in=package_ids),
        "delivery__package__member_id",
        received=Sum("quantity_received"),
        rejected=Sum("quantity_rejected"),
    ).items():
        cards[member_id].inspected = int(row["received"] or 0)
        cards[member_id].rejected = int(row["rejected"] or 0)

    for member_id, row in _grouped(
        Claim.objects.filter(package__in=package_ids),
        "package__member_id",
        claimed=Sum("quantity"),
    ).items():
        cards[member_id].claimed = int(row["claimed"] or 0)

    for company, row in _grouped(
        Invitation.objects.filter(
            package__project__network=network,
            company_id__in=ids,
            invited_at__gte=start,
            invited_at__lt=end,
        ),
        "company_id",
        n=Count("pk"),
        accepted=Count("pk", filter=Q(status=InvitationStatus.ACCEPTED)),
        declined=Count("pk", filter=Q(status=InvitationStatus.DECLINED)),
        expired=Count("pk", filter=Q(status=InvitationStatus.EXPIRED)),
    ).items():
        card = cards[company]
        card.invitations, card.accepted = row["n"], row["accepted"]
        card.declined, card.expired = row["declined"], row["expired"]

    for member_id, row in _grouped(
        MemberCharge.objects.filter(
            package__project__network=network,
            member_id__in=ids,
            charged_at__gte=start,
            charged_at__lt=end,
        ),
        "member_id",
        n=Count("pk"),
        total=Sum("amount_yen"),
    ).items():
        cards[member_id].charges, cards[member_id].charges_yen = row["n"], int(row["total"] or 0)

    for probation in (
        Probation.objects.open()
        .filter(membership__network=network, membership__company_id__in=ids)
        .select_related("membership")
    ):
        cards[probation.membership.company_id].probation = ProbationInfo(
            pk=probation.pk,
            since=probation.since,
            until=probation.until,
            max_package_value_yen=probation.max_package_value_yen,
            reason=probation.reason,
        )
    return list(cards.values())


def rate_text(value) -> str:
    """A percentage for people: 62.5 → "62.5%", 80 → "80%", None → "—" (nothing to measure)."""
    if value is None:
        return "—"
    text = f"{Decimal(str(value)).normalize():f}"
    return f"{text}%"
