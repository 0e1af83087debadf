"""The order record (brokerage.record) and probation (brokerage.probation): the figures of a
seeded history (tests/brokerage/record_history.py), exactly; the filters; the counting rules
at their edges; the daily probation review and the invitation limit."""

import datetime
from decimal import Decimal

import pytest

from brokerage import probation as probation_services
from brokerage import record
from brokerage.tasks import probation_review_task
from core.errors import BrokerageError, NotAllowed
from core.models import DomainEvent
from members.models import Probation, ProbationRule, StaffRole
from orders import projects
from orders.models import InquiryStage, Project
from tests.factories import NetworkStaffFactory
from tests.helpers import dispatch_all

from .record_history import FY2026, at, build_history, travel

pytestmark = pytest.mark.django_db

PERIOD = record.Period(*FY2026)


@pytest.fixture
def history(network):
    return build_history(network)


def card_of(cards, user):
    return next(c for c in cards if c.company_id == user.company_id)


# --- inquiries, order value, response time ------------------------------------------------


def test_inquiry_counts_by_outcome(history):
    counts = record.inquiry_counts(network=history.network, period=PERIOD)
    assert (
        counts.received,
        counts.awarded,
        counts.referred,
        counts.referral_taken,
        counts.rejected,
        counts.withdrawn,
        counts.unanswered,
    ) == (10, 3, 2, 1, 2, 1, 2)
    # (3 awarded + 2 referred + 2 declined) of the 9 not withdrawn.
    assert counts.answered == 7
    assert counts.answered_rate == 77.8


def test_order_value_per_month_and_fiscal_year(history):
    months = record.order_value_by_month(network=history.network, period=PERIOD)
    assert len(months) == 12 and months[0].month == datetime.date(2026, 4, 1)
    assert [(m.month.month, m.value_yen, m.orders) for m in months if m.orders] == [
        (6, 1_000_000, 1),  # A: the project's order value
        (7, 900_000, 2),  # B's project ¥600,000 + C's winning bid ¥300,000 (no project yet)
    ]
    with travel("2026-11-25"):
        years = record.order_value_by_year(network=history.network)
    assert [(y.year, y.start, y.value_yen, y.orders) for y in years] == [
        (2025, datetime.date(2025, 4, 1), 2_000_000, 1),
        (2026, datetime.date(2026, 4, 1), 1_900_000, 3),
    ]


def test_referrals_add_no_order_value_and_a_cancelled_project_counts_nothing(history):
    rec = record.network_record(network=history.network, period=PERIOD)
    assert (rec.order_value_yen, rec.orders) == (1_900_000, 3)
    Project.objects.filter(pk=history.projects["B"].pk).update(status="cancelled")
    rec = record.network_record(network=history.network, period=PERIOD)
    assert (rec.order_value_yen, rec.orders) == (1_300_000, 2)


def test_value_per_process_and_material(history):
    args = {"network": history.network, "period": PERIOD}
    assert [(p.code, p.value_yen, p.orders) for p in record.order_value_by_process(**args)] == [
        ("buff", 1_600_000, 2),  # A and B (B counts in full under both of its processes)
        ("electro", 600_000, 1),
        ("barrel", 300_000, 1),
    ]
    assert [
        (m.code, m.name_ja, m.value_yen, m.orders) for m in record.order_value_by_material(**args)
    ] == [("stainless", "ステンレス", 1_600_000, 2), ("aluminium", "アルミ", 300_000, 1)]


def test_response_time_in_working_days(history):
    times = record.response_times(network=history.network, period=PERIOD)
    # D 0, E 1, F 2, G 3, A 4, B 22, C 23 working days (June 2026 has no holiday).
    assert (times.answered, times.median_days, times.p90_days) == (7, 3, 23)
    assert (times.within_limit, times.limit_days, times.within_limit_rate) == (5, 10, 71.4)


def test_filters_by_process_material_and_period(history):
    network = history.network
    buff = record.network_record(network=network, period=PERIOD, process=history.buff)
    assert (buff.counts.received, buff.counts.awarded, buff.order_value_yen) == (9, 2, 1_600_000)
    assert [y.value_yen for y in buff.by_year] == [2_000_000, 1_600_000]
    alu = record.network_record(network=network, period=PERIOD, material=history.aluminium)
    assert (alu.counts.received, alu.counts.awarded, alu.orders, alu.order_value_yen) == (
        1,
        1,
        1,
        300_000,
    )
    assert alu.response.median_days == 23
    both = record.network_record(
        network=network, period=PERIOD, process=history.barrel, material=history.stainless
    )
    assert (both.counts.received, both.order_value_yen) == (0, 0)
    june = record.network_record(
        network=network, period=record.Period(datetime.date(2026, 6, 1), datetime.date(2026, 6, 30))
    )
    assert (june.counts.received, june.order_value_yen, len(june.by_month)) == (10, 1_000_000, 1)
    fy2025 = record.network_record(
        network=network, period=record.fiscal_year(network, datetime.date(2026, 3, 1))
    )
    assert (fy2025.counts.received, fy2025.counts.awarded, fy2025.order_value_yen) == (
        1,
        1,
        2_000_000,
    )
    assert fy2025.response.median_days == 7  # 03-20 (Fri) → 03-31 (Tue), 03-20 a holiday too


def test_the_default_period_is_the_networks_fiscal_year(network):
    assert record.fiscal_year(network, datetime.date(2026, 11, 25)) == PERIOD
    assert record.fiscal_year(network, datetime.date(2027, 3, 31)) == PERIOD
    network.fiscal_year_start_month = 1
    assert record.fiscal_year(network, datetime.date(2026, 11, 25)) == record.Period(
        datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)
    )


def test_a_stage_split_inside_the_network_counts_once(history):
    network = history.network
    parent, stage = history.inquiries["I"], history.inquiries["J"]
    InquiryStage.objects.create(parent=parent, sequence=1, network=network, inquiry=stage)
    counts = record.inquiry_counts(network=network, period=PERIOD)
    assert (counts.received, counts.unanswered) == (9, 1)


# --- scorecards -------------------------------------------------------------------------


def test_scorecards(history):
    cards = record.scorecards(network=history.network, period=PERIOD)
    assert len(cards) == 5  # two leads and three joint-order members
    m1 = card_of(cards, history.m1)
    assert (m1.packages_taken, m1.package_value_yen, m1.completed, m1.on_time) == (
        2,
        200_000,
        2,
        1,
    )
    assert m1.on_time_rate == 50.0
    # 100 + 5 redelivered + 200 inspected; 5 rejected at inspection, 4 claimed by the buyer.
    assert (m1.inspected, m1.rejected, m1.claimed, m1.defective) == (305, 5, 4, 9)
    assert m1.defect_rate == 3.0
    assert (m1.invitations, m1.accepted, m1.declined, m1.expired) == (2, 2, 0, 0)
    assert (m1.charges, m1.charges_yen) == (2, 13_000)
    m2 = card_of(cards, history.m2)
    assert (m2.packages_taken, m2.package_value_yen, m2.completed, m2.on_time) == (
        2,
        130_000,
        1,
        0,
    )
    assert (m2.on_time_rate, m2.inspected, m2.defect_rate, m2.charges) == (0.0, 50, 0.0, 0)
    m3 = card_of(cards, history.m3)
    assert (m3.packages_taken, m3.on_time_rate, m3.defect_rate) == (0, None, None)
    assert (m3.invitations, m3.accepted, m3.declined, m3.expired) == (2, 0, 1, 1)
    lead1 = card_of(cards, history.lead1)  # its own package is not on its scorecard
    assert (lead1.packages_taken, lead1.membership_class) == (0, "lead")


def test_scorecards_follow_the_period_by_due_date(history):
    july = record.Period(datetime.date(2026, 7, 1), datetime.date(2026, 7, 31))
    m1 = record.scorecards(network=history.network, period=july, company_id=history.m1.company_id)
    assert len(m1) == 1
    m1 = m1[0]
    assert (m1.packages_taken, m1.completed, m1.on_time, m1.inspected, m1.claimed) == (
        1,
        1,
        1,
        105,
        0,
    )
    # Invitations count by the day they were sent (P3's on 07-02, not P1's in June), charges
    # by the day they were made (07-06; the claim's in August).
    assert (m1.invitations, m1.charges, m1.charges_yen) == (1, 1, 5_000)


# --- probation --------------------------------------------------------------------------


@pytest.fixture
def rule(history):
    return probation_services.probation_rule_set(
        actor=history.secretariat,
        network=history.network,
        data={
            "is_active": True,
            "min_on_time_rate_pct": 80,
            "max_defect_rate_pct": "2.5",
            "min_completed_packages": 2,
            "window_months": 12,
            "max_package_value_yen": 50_000,
            "minimum_months": 3,
        },
    )


def test_the_review_opens_a_probation_with_the_numbers_once(history, rule, settings):
    settings.LANGUAGE_CODE = "en"  # the reason is stored in the network's language
    with travel("2026-09-01", 5):
        assert probation_review_task() == {str(history.network.pk): [1, 0]}
    probation = Probation.objects.get()
    assert probation.membership.company == history.m1.company
    assert probation.reason == (
        "Packages due 2025-09-02 to 2026-09-01: on time 1 of 2 completed packages (50%), "
        "below the network's 80%; defect rate 3% (5 rejected at inspection and 4 claimed of "
        "305 inspected), above the network's 2.5%."
    )
    assert probation.figures == {
        "completed": 2,
        "on_time": 1,
        "on_time_rate": 50.0,
        "inspected": 305,
        "rejected": 5,
        "claimed": 4,
        "defect_rate": 3.0,
    }
    assert (probation.max_package_value_yen, probation.until) == (
        50_000,
        datetime.date(2026, 12, 1),
    )
    assert probation.since == at("2026-09-01", 5)
    event = DomainEvent.objects.get(kind="probation.opened")
    assert event.payload["figures"]["on_time"] == 1
    # The member's users and the secretariat are told (by the event's dispatch).
    dispatch_all()
    notified = set(history.m1.company.users.values_list("pk", flat=True)) | {history.secretariat.pk}
    from brokerage.models import Notification

    assert (
        set(
            Notification.objects.filter(kind="probation.opened").values_list("recipient", flat=True)
        )
        == notified
    )
    # M2 has 1 completed package, fewer than the 2 the rule needs: not judged.
    with travel("2026-09-02", 5):
        assert probation_review_task() == {str(history.network.pk): [0, 0]}
    assert Probation.objects.count() == 1
    assert DomainEvent.objects.filter(kind="probation.opened").count() == 1


def test_the_reason_names_the_figures(history, rule):
    with travel("2026-09-01", 5):
        probation_services.probation_review(network=history.network)
    reason = Probation.objects.get().reason
    for figure in ("2025-09-02", "2026-09-01", "1", "2", "50%", "80%", "3%", "2.5%", "305"):
        assert figure in reason


def test_a_member_on_probation_is_invited_only_to_small_packages(history, rule):
    with travel("2026-09-01", 5):
        probation_services.probation_review(network=history.network)
    lead, m1 = history.lead2, history.m1
    with travel("2026-09-02"):
        project = history.projects["B"]
        big = projects.package_add(
            actor=lead,
            project=project,
            process=history.buff,
            material=history.stainless,
            quantity=100,
            unit_price_yen=600,
            due_date=datetime.date(2026, 9, 20),
        )
        small = projects.package_add(
            actor=lead,
            project=project,
            process=history.buff,
            material=history.stainless,
            quantity=100,
            unit_price_yen=500,
            due_date=datetime.date(2026, 9, 20),
        )
        with pytest.raises(BrokerageError) as exc:
            projects.invitation_send(actor=lead, package=big, company=m1.company)
        assert exc.value.field == "company"
        assert "¥50,000" in exc.value.message and "¥60,000" in exc.value.message
        assert "50%" in exc.value.message  # why
        assert not big.invitations.exists()
        invitation, _warnings = projects.invitation_send(
            actor=lead, package=small, company=m1.company
        )
        assert invitation.company == m1.company
        # Another member is not limited.
        projects.invitation_send(actor=lead, package=big, company=history.m2.company)


def test_the_secretariat_lifts_a_probation_with_a_reason(history, rule, committee_user):
    with travel("2026-09-01", 5):
        probation_services.probation_review(network=history.network)
    probation = Probation.objects.get()
    for user in (committee_user, history.m1, history.lead1):
        with pytest.raises(NotAllowed):
            probation_services.probation_lift(actor=user, probation=probation, reason="x")
    with pytest.raises(BrokerageError) as exc:
        probation_services.probation_lift(
            actor=history.secretariat, probation=probation, reason=" "
        )
    assert exc.value.field == "reason"
    assert Probation.objects.open().count() == 1
    with travel("2026-09-03"):
        probation_services.probation_lift(
            actor=history.secretariat, probation=probation, reason="研磨機を更新、面談で確認"
        )
    probation.refresh_from_db()
    assert (probation.lifted_by, probation.lift_reason) == (
        history.secretariat,
        "研磨機を更新、面談で確認",
    )
    assert probation.lifted_at == at("2026-09-03")
    assert DomainEvent.objects.filter(kind="probation.lifted").count() == 1
    # The lead may invite the member to any package again.
    with travel("2026-09-03", 12):
        big = projects.package_add(
            actor=history.lead2,
            project=history.projects["B"],
            process=history.buff,
            material=history.stainless,
            quantity=100,
            unit_price_yen=600,
            due_date=datetime.date(2026, 9, 25),
        )
        projects.invitation_send(actor=history.lead2, package=big, company=history.m1.company)
    # Lifting twice changes nothing.
    probation_services.probation_lift(actor=history.secretariat, probation=probation, reason="x")
    assert DomainEvent.objects.filter(kind="probation.lifted").count() == 1
    # The night's review does not undo it: the member starts afresh from the day after.
    with travel("2026-09-03", 23):
        assert probation_services.probation_review(network=history.network).opened == []
    with travel("2026-10-01", 5):
        assert probation_services.probation_review(network=history.network).opened == []
    assert not Probation.objects.open().exists()


def test_the_review_lifts_once_the_figures_recover_but_not_before_until(history, rule, settings):
    settings.LANGUAGE_CODE = "en"
    with travel("2026-09-01", 5):
        probation_services.probation_review(network=history.network)
    # In 2027 the bad packages have left the 12-month window, but `until` has not come.
    rule.window_months = 1
    rule.save()
    with travel("2026-11-30", 5):
        assert probation_services.probation_review(network=history.network).lifted == []
    with travel("2026-12-01", 5):
        lifted = probation_services.probation_review(network=history.network).lifted
    assert len(lifted) == 1
    probation = Probation.objects.get()
    assert probation.lifted_by is None and probation.lifted_at == at("2026-12-01", 5)
    assert probation.lift_reason == (
        "Packages due 2026-11-02 to 2026-12-01: 0 completed packages, fewer than the 2 the "
        "rule needs to judge."
    )
    assert probation.lift_figures["completed"] == 0
    with travel("2026-12-02", 5):
        result = probation_services.probation_review(network=history.network)
    assert (result.opened, result.lifted) == ([], [])


def test_no_rule_or_an_inactive_rule_reviews_nothing(history):
    with travel("2026-09-01", 5):
        assert probation_review_task() == {}
    ProbationRule.objects.create(
        network=history.network,
        is_active=False,
        min_on_time_rate_pct=80,
        max_package_value_yen=1,
    )
    with travel("2026-09-01", 5):
        assert probation_review_task() == {}
    assert not Probation.objects.exists()


def test_only_the_secretariat_sets_the_rule_and_a_new_limit_applies_to_open_probations(
    history, rule, committee_user
):
    with travel("2026-09-01", 5):
        probation_services.probation_review(network=history.network)
    with pytest.raises(NotAllowed):
        probation_services.probation_rule_set(
            actor=committee_user, network=history.network, data={"max_package_value_yen": 1}
        )
    other = NetworkStaffFactory(role=StaffRole.SECRETARIAT).user
    with pytest.raises(NotAllowed):
        probation_services.probation_rule_set(
            actor=other, network=history.network, data={"max_package_value_yen": 1}
        )
    with pytest.raises(BrokerageError):
        probation_services.probation_rule_set(
            actor=history.secretariat,
            network=history.network,
            data={"min_on_time_rate_pct": None, "max_defect_rate_pct": None},
        )
    probation_services.probation_rule_set(
        actor=history.secretariat,
        network=history.network,
        data={"min_on_time_rate_pct": 80, "max_package_value_yen": 80_000},
    )
    assert Probation.objects.get().max_package_value_yen == 80_000
    assert ProbationRule.objects.get().max_defect_rate_pct == Decimal("2.50")  # unchanged
