"""Settlement periods in Tokyo time: the month a close covers and the network's fiscal year."""

import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from members.models import Network

from . import terms

TOKYO = ZoneInfo("Asia/Tokyo")


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def previous_month(today: datetime.date) -> datetime.date:
    return month_start(month_start(today) - datetime.timedelta(days=1))


def month_range(period: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The month as aware datetimes [start, end) in Tokyo time: a project accepted at 23:30 on
    the last day (Tokyo) belongs to that month, whatever the server's zone."""
    start = datetime.datetime.combine(period, datetime.time(), tzinfo=TOKYO)
    end = datetime.datetime.combine(terms.add_months(period, 1), datetime.time(), tzinfo=TOKYO)
    return start, end


def month_end(period: datetime.date) -> datetime.date:
    """The last day of the month starting on `period`."""
    return terms.add_months(period, 1) - datetime.timedelta(days=1)


def month_over(period: datetime.date) -> bool:
    """Whether the month starting on `period` has ended in Tokyo, so it may be closed."""
    return timezone.now() >= month_range(period)[1]


def fiscal_year_of(network: Network, day: datetime.date) -> datetime.date:
    """The first day of the network's fiscal year that contains `day`."""
    start = datetime.date(day.year, network.fiscal_year_start_month, 1)
    return start if start <= day else terms.add_months(start, -12)


def local_date(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(TOKYO).date()
