"""The service level (サービス水準): every inquiry reaches an outcome — an award, a referral or
a reasoned answer — within the network's number of working days.

Working days are Monday to Friday except Japanese national holidays (祝日), substitute and
citizens' holidays included, from the `holidays` package. The clock starts on the day the
inquiry was received (Japan time) and that day does not count: received on Friday with a
limit of 1, it is due on Monday. A scheduled job warns the secretariat
`sla_warning_working_days` before the limit and escalates to the steering committee after it,
once each.
"""

import datetime
from dataclasses import dataclass
from functools import lru_cache

import holidays
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from core import events
from core.models import DomainEvent
from members.locks import lock_one
from members.permissions import roles_of
from orders.models import INQUIRY_OUTCOMES, Inquiry

WARNING = "sla_warning"
ESCALATION = "sla_escalated"
EVENT_KINDS = {
    WARNING: events.EventKind.INQUIRY_SLA_WARNING,
    ESCALATION: events.EventKind.INQUIRY_SLA_ESCALATED,
}


@lru_cache(maxsize=32)
def _holidays(year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.country_holidays("JP", years=year))


def is_working_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The `days`-th working day after `start` (`start` itself does not count)."""
    day = start
    while days > 0:
        day += datetime.timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Working days after `start` up to and including `end`; negative when `end` is before
    `start` (so "days left" reads -2 two working days after the limit)."""
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    count = 0
    day = start
    while day < end:
        day += datetime.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return sign * count


def due_date(inquiry: Inquiry) -> datetime.date:
    """The last working day on which the inquiry must reach an outcome."""
    received = timezone.localdate(inquiry.submitted_at)
    return add_working_days(received, inquiry.network.sla_working_days)


@dataclass
class ServiceLevel:
    inquiry: Inquiry
    due_date: datetime.date
    working_days_left: int
    warned: bool
    escalated: bool

    @property
    def overdue(self) -> bool:
        return self.working_days_left < 0

    @property
    def days_overdue(self) -> int:
        return max(-self.working_days_left, 0)

    @property
    def at_risk(self) -> bool:
        return self.working_days_left <= self.inquiry.network.sla_warning_working_days


def _pending_outcome():
    """Inquiries without an outcome, with whether each was already warned or escalated."""

    def alerted(kind):
        return Exists(
            DomainEvent.objects.filter(aggregate="inquiry", aggregate_id=OuterRef("pk"), kind=kind)
        )

    return (
        Inquiry.objects.exclude(status__in=INQUIRY_OUTCOMES)
        .select_related("network", "buyer")
        .annotate(warned=alerted(EVENT_KINDS[WARNING]), escalated=alerted(EVENT_KINDS[ESCALATION]))
    )


def _level(inquiry: Inquiry, today: datetime.date) -> ServiceLevel:
    due = due_date(inquiry)
    return ServiceLevel(
        inquiry=inquiry,
        due_date=due,
        working_days_left=working_days_between(today, due),
        warned=inquiry.warned,
        escalated=inquiry.escalated,
    )


def inquiries_at_risk_sla(
    *, viewer, include_all: bool = False, today: datetime.date | None = None
) -> list[ServiceLevel]:
    """The secretariat's service-level queue: inquiries of its networks without an outcome
    whose limit is within the warning period or past (all of them with `include_all`), most
    urgent first, with due date and working days left."""
    roles = roles_of(viewer)
    qs = _pending_outcome()
    if not roles.is_platform_admin:
        qs = qs.filter(network_id__in=roles.secretariat_network_ids)
    today = today or timezone.localdate()
    rows = [_level(inquiry, today) for inquiry in qs]
    if not include_all:
        rows = [row for row in rows if row.at_risk]
    return sorted(rows, key=lambda r: (r.working_days_left, r.inquiry.submitted_at, r.inquiry.pk))


def sla_alert(*, inquiry_id: int, level: str, now: datetime.datetime | None = None) -> bool:
    """Record the warning (`sla_warning`) or escalation (`sla_escalated`) of one inquiry, once:
    the inquiry row is locked and an alert already recorded is not recorded again. The event
    notifies the secretariat (and, for an escalation, the committee). Returns True if recorded.
    """
    kind = EVENT_KINDS[level]
    now = now or timezone.now()
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry_id)
        if inquiry.status in INQUIRY_OUTCOMES:
            return False
        if DomainEvent.objects.filter(
            aggregate="inquiry", aggregate_id=inquiry.pk, kind=kind
        ).exists():
            return False
        today = timezone.localdate(now)
        due = due_date(inquiry)
        events.record(
            kind=kind,
            subject=inquiry,
            network_id=inquiry.network_id,
            due_date=due.isoformat(),
            working_days_left=working_days_between(today, due),
        )
    return True


def sla_check(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The scheduled scan: warn the secretariat of inquiries within the warning period,
    escalate those past the limit. A repeat run notifies nobody twice. Returns the counts."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts = {WARNING: 0, ESCALATION: 0}
    for inquiry in _pending_outcome():
        row = _level(inquiry, today)
        if row.overdue and not row.escalated:
            level = ESCALATION
        elif row.at_risk and not row.overdue and not row.warned:
            level = WARNING
        else:
            continue
        if sla_alert(inquiry_id=inquiry.pk, level=level, now=now):
            counts[level] += 1
    return counts
