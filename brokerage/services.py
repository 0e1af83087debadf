"""Processes that cross apps. Each calls down into members/orders and notifies."""

import datetime

from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from members.models import Company, MembershipStatus

from .notifications import notify

CAPACITY_STALE_AFTER = datetime.timedelta(days=30)


def capacity_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Remind member companies whose spare capacity is over 30 days old to update it.

    Spare capacity is what lets the secretariat and the leads see who can take work (in
    booms members decline, in slumps they crave orders). One reminder per company per ISO
    week, so a repeated run notifies nobody twice. Returns the number of companies reminded.
    """
    now = now or timezone.now()
    year, week, _day = timezone.localtime(now).isocalendar()
    stale = (
        Company.objects.filter(
            memberships__status=MembershipStatus.ACTIVE, capabilities__isnull=False
        )
        .annotate(oldest=Min("capabilities__capacity_updated_at"))
        .filter(Q(oldest__lt=now - CAPACITY_STALE_AFTER) | Q(oldest__isnull=True))
        .distinct()
        .prefetch_related("users")
    )
    reminded = 0
    for company in stale:
        users = [u for u in company.users.all() if u.is_active]
        if not users:
            continue
        with transaction.atomic():
            notify(
                recipients=users,
                event_key=f"capacity-reminder:{company.pk}:{year}-W{week:02d}",
                kind="capacity_reminder",
                template="capacity_reminder",
                context={"company": company},
                link="/",
            )
        reminded += 1
    return reminded
