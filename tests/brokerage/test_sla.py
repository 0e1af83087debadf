"""The service level: working days (weekends and Japanese holidays excluded), the due date
of an inquiry, the warning before the limit and the escalation after it — once each — and
the secretariat's queue of inquiries at risk."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from brokerage import sla
from brokerage.models import Notification
from brokerage.tasks import sla_check_task
from core.models import DomainEvent
from orders import services as order_services
from orders.models import Inquiry
from tests.brokerage.test_referral import dispatch_all

TOKYO = ZoneInfo("Asia/Tokyo")
D = datetime.date


def at(day: D, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=TOKYO)


# ---------------------------------------------------------------------------------------
# Working days


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 11, 20), True),  # Friday
        (D(2026, 11, 21), False),  # Saturday
        (D(2026, 11, 22), False),  # Sunday
        (D(2026, 11, 23), False),  # Monday, 勤労感謝の日
        (D(2026, 11, 24), True),
        (D(2026, 5, 6), False),  # 振替休日 (Constitution Day fell on a Sunday)
        (D(2026, 9, 22), False),  # 国民の休日 between two holidays
        (D(2027, 3, 22), False),  # 振替休日 for the vernal equinox
    ],
)
def test_working_day(day, working):
    assert sla.is_working_day(day) is working


def test_adding_working_days_skips_the_weekend_and_a_holiday():
    friday = D(2026, 11, 20)
    assert sla.add_working_days(friday, 0) == friday
    assert sla.add_working_days(friday, 1) == D(2026, 11, 24)  # not Sat, Sun, nor 23 (holiday)
    assert sla.add_working_days(friday, 3) == D(2026, 11, 26)
    assert sla.add_working_days(D(2026, 11, 21), 1) == D(2026, 11, 24)  # from a Saturday


def test_working_days_between_counts_after_start_up_to_end_and_is_negative_backwards():
    assert sla.working_days_between(D(2026, 11, 20), D(2026, 11, 26)) == 3
    assert sla.working_days_between(D(2026, 11, 26), D(2026, 11, 26)) == 0
    assert sla.working_days_between(D(2026, 11, 27), D(2026, 11, 26)) == -1
    assert sla.working_days_between(D(2026, 11, 30), D(2026, 11, 26)) == -2  # Fri, Mon


# ---------------------------------------------------------------------------------------
# The due date and the alerts


@pytest.fixture
def received_friday(network, buyer_user, inquiry_data):
    """Received Friday 2026-11-20 10:00 JST; 3 working days to an outcome, warned 2 before."""
    network.sla_working_days = 3
    network.sla_warning_working_days = 2
    network.save()
    with time_machine.travel(at(D(2026, 11, 20)), tick=False):
        inquiry = order_services.inquiry_submit(
            actor=buyer_user,
            network=network,
            data=inquiry_data(desired_delivery_date=D(2027, 3, 1)),
        )
    dispatch_all()
    return inquiry


def alerts(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user, kind__startswith="inquiry.sla_")
        .order_by("id")
        .values_list("kind", flat=True)
    )


def test_due_date_counts_working_days_from_the_day_received(received_friday):
    assert sla.due_date(received_friday) == D(2026, 11, 26)


def test_no_alert_while_there_is_time(received_friday, secretariat_user):
    with time_machine.travel(at(D(2026, 11, 20), 15), tick=False):
        assert sla.sla_check() == {"sla_warning": 0, "sla_escalated": 0}


def test_warning_once_before_the_limit(received_friday, secretariat_user, committee_user):
    # Tuesday the 24th: 2 working days left (Wed, Thu) → warn
    with time_machine.travel(at(D(2026, 11, 24)), tick=False):
        assert sla.sla_check() == {"sla_warning": 1, "sla_escalated": 0}
        assert sla.sla_check() == {"sla_warning": 0, "sla_escalated": 0}
        sla_check_task()
    dispatch_all()
    assert alerts(secretariat_user) == ["inquiry.sla_warning"]
    assert alerts(committee_user) == []
    note = Notification.objects.get(recipient=secretariat_user, kind="inquiry.sla_warning")
    assert "2026-11-26" in note.body
    assert DomainEvent.objects.filter(kind="inquiry.sla_warning").count() == 1


def test_escalation_once_after_the_limit_to_secretariat_and_committee(
    received_friday, secretariat_user, committee_user
):
    with time_machine.travel(at(D(2026, 11, 24)), tick=False):
        sla.sla_check()
    # Friday the 27th: one working day past the limit
    with time_machine.travel(at(D(2026, 11, 27)), tick=False):
        assert sla.sla_check() == {"sla_warning": 0, "sla_escalated": 1}
        assert sla.sla_check() == {"sla_warning": 0, "sla_escalated": 0}
    with time_machine.travel(at(D(2026, 11, 30)), tick=False):
        assert sla.sla_check() == {"sla_warning": 0, "sla_escalated": 0}
    dispatch_all()
    dispatch_all()
    assert alerts(secretariat_user) == ["inquiry.sla_warning", "inquiry.sla_escalated"]
    assert alerts(committee_user) == ["inquiry.sla_escalated"]


def test_a_duplicated_event_still_notifies_nobody_twice(received_friday, secretariat_user):
    with time_machine.travel(at(D(2026, 11, 27)), tick=False):
        sla.sla_check()
    event = DomainEvent.objects.get(kind="inquiry.sla_escalated")
    DomainEvent.objects.create(
        kind=event.kind,
        aggregate=event.aggregate,
        aggregate_id=event.aggregate_id,
        network_id=event.network_id,
        payload=event.payload,
    )
    dispatch_all()
    assert alerts(secretariat_user) == ["inquiry.sla_escalated"]


def test_an_inquiry_with_an_outcome_is_not_alerted(received_friday, secretariat_user):
    order_services.inquiry_reject(
        actor=secretariat_user, inquiry=received_friday, reason="対応できる加工ではありません。"
    )
    with time_machine.travel(at(D(2026, 11, 30)), tick=False):
        assert sla.sla_check() == {"sla_warning": 0, "sla_escalated": 0}
        assert sla.sla_alert(inquiry_id=received_friday.pk, level=sla.ESCALATION) is False


# ---------------------------------------------------------------------------------------
# The secretariat's queue


def test_queue_lists_inquiries_at_risk_with_due_date_and_days_left(
    received_friday, network, buyer_user, inquiry_data, secretariat_user, other_secretariat_user
):
    with time_machine.travel(at(D(2026, 11, 27), 9), tick=False):
        fresh = order_services.inquiry_submit(
            actor=buyer_user,
            network=network,
            data=inquiry_data(desired_delivery_date=D(2027, 3, 1)),
        )
    with time_machine.travel(at(D(2026, 11, 27)), tick=False):
        sla.sla_check()
        rows = sla.inquiries_at_risk_sla(viewer=secretariat_user)
        everything = sla.inquiries_at_risk_sla(viewer=secretariat_user, include_all=True)
        foreign = sla.inquiries_at_risk_sla(viewer=other_secretariat_user, include_all=True)
    assert [(r.inquiry, r.due_date, r.working_days_left) for r in rows] == [
        (received_friday, D(2026, 11, 26), -1),
    ]
    assert rows[0].overdue is True
    assert rows[0].days_overdue == 1
    assert rows[0].escalated is True
    assert [(r.inquiry, r.working_days_left) for r in everything] == [
        (received_friday, -1),
        (Inquiry.objects.get(pk=fresh.pk), 3),
    ]
    assert foreign == []
