import threading

import pytest
from django.db import connection

from core.errors import BrokerageError, Conflict, InvalidTransition, NotAllowed
from core.models import DomainEvent
from orders import services
from orders.models import Application, Award, AwardStatus, InquiryStatus
from tests.factories import MembershipFactory
from tests.orders.conftest import pass_deadline

S = InquiryStatus


def apply(user, inquiry, price=100_000, days=20, **kwargs):
    return services.application_place(
        actor=user, inquiry=inquiry, price_yen=price, lead_time_days=days, **kwargs
    )


def test_lead_applies_once_and_may_revise_and_withdraw(open_inquiry, make_lead):
    lead = make_lead()
    application = apply(lead, open_inquiry)
    with pytest.raises(Conflict):
        apply(lead, open_inquiry)
    application = services.application_revise(actor=lead, application=application, price_yen=90_000)
    assert (application.price_yen, application.revision) == (90_000, 2)
    services.application_withdraw(actor=lead, application=application)
    # After withdrawing, a fresh application is allowed.
    assert apply(lead, open_inquiry, price=95_000).pk != application.pk


def test_only_lead_companies_apply(open_inquiry, member_user, buyer_user, other_member_user):
    for user in (member_user, buyer_user, other_member_user):
        with pytest.raises(NotAllowed):
            apply(user, open_inquiry)
    assert not Application.objects.exists()


def test_no_application_before_publication_or_after_the_deadline(
    submitted, make_lead, secretariat_user
):
    lead = make_lead()
    with pytest.raises(InvalidTransition):
        apply(lead, submitted)
    inquiry = pass_deadline(services.inquiry_publish(actor=secretariat_user, inquiry=submitted))
    with pytest.raises(InvalidTransition) as exc:
        apply(lead, inquiry)
    assert exc.value.field == "inquiry"
    assert not Application.objects.exists()


def test_revising_after_the_deadline_is_refused(open_inquiry, make_lead):
    lead = make_lead()
    application = apply(lead, open_inquiry)
    pass_deadline(open_inquiry)
    with pytest.raises(InvalidTransition):
        services.application_revise(actor=lead, application=application, price_yen=1)
    with pytest.raises(InvalidTransition):
        services.application_withdraw(actor=lead, application=application)
    application.refresh_from_db()
    assert application.price_yen == 100_000


def test_another_lead_cannot_touch_my_application(open_inquiry, make_lead):
    mine, theirs = make_lead(), make_lead()
    application = apply(mine, open_inquiry)
    with pytest.raises(NotAllowed):
        services.application_revise(actor=theirs, application=application, price_yen=1)
    with pytest.raises(NotAllowed):
        services.application_withdraw(actor=theirs, application=application)


def test_team_must_be_joint_order_members_of_the_network(
    open_inquiry, make_lead, network, other_network
):
    lead = make_lead()
    supporter = MembershipFactory(network=network, membership_class="supporting").company
    outsider = MembershipFactory(network=other_network).company
    for company in (supporter, outsider):
        with pytest.raises(BrokerageError) as exc:
            apply(lead, open_inquiry, proposed_team=[company])
        assert exc.value.field == "proposed_team"
    member = MembershipFactory(network=network).company
    application = apply(lead, open_inquiry, proposed_team=[member])
    assert list(application.proposed_team.all()) == [member]


def test_bad_offers_name_the_field(open_inquiry, make_lead):
    lead = make_lead()
    with pytest.raises(BrokerageError) as exc:
        apply(lead, open_inquiry, price=0)
    assert exc.value.field == "price_yen"
    with pytest.raises(BrokerageError) as exc:
        apply(lead, open_inquiry, days=0)
    assert exc.value.field == "lead_time_days"


def test_no_applicant_sends_the_inquiry_to_referral_never_silence(open_inquiry):
    pass_deadline(open_inquiry)
    assert services.inquiries_close_due() == 1
    open_inquiry.refresh_from_db()
    assert open_inquiry.status == S.REFERRAL
    assert DomainEvent.objects.get(kind="inquiry.referral").payload["category"] == "no_applicant"
    assert services.inquiries_close_due() == 0  # a second run finds nothing


def test_sole_applicant_is_proposed_and_confirmed(open_inquiry, make_lead, secretariat_user):
    lead = make_lead()
    application = apply(lead, open_inquiry)
    pass_deadline(open_inquiry)
    services.inquiry_close_window(inquiry_id=open_inquiry.pk)
    open_inquiry.refresh_from_db()
    assert open_inquiry.status == S.EVALUATION
    award = Award.objects.get(inquiry=open_inquiry)
    assert (award.application, award.status) == (application, AwardStatus.PROPOSED)
    services.award_confirm(actor=secretariat_user, inquiry=open_inquiry)
    open_inquiry.refresh_from_db()
    assert open_inquiry.status == S.AWARDED
    with pytest.raises(Conflict):
        services.award_confirm(actor=secretariat_user, inquiry=open_inquiry)


def test_close_window_twice_changes_nothing(open_inquiry, make_lead):
    apply(make_lead(), open_inquiry)
    pass_deadline(open_inquiry)
    services.inquiry_close_window(inquiry_id=open_inquiry.pk)
    services.inquiry_close_window(inquiry_id=open_inquiry.pk)
    assert Award.objects.count() == 1
    assert DomainEvent.objects.filter(kind="inquiry.window_closed").count() == 1


def test_bid_by_weighted_score_with_breakdown(open_inquiry, make_lead, network):
    cheap_slow, dear_fast = make_lead(), make_lead()
    apply(cheap_slow, open_inquiry, price=100_000, days=40)
    apply(dear_fast, open_inquiry, price=105_000, days=10)
    pass_deadline(open_inquiry)
    services.inquiry_close_window(inquiry_id=open_inquiry.pk)
    award = Award.objects.get(inquiry=open_inquiry)
    # price 60 pts, lead time 20: 60*1 + 20*10/40 = 65 vs 60*100/105 + 20 = 77.1
    assert award.company == dear_fast.company
    first, second = award.score_breakdown
    assert first["company_id"] == dear_fast.company.pk
    assert first["terms"]["lead_time"] == 20.0
    assert second["terms"]["lead_time"] == 5.0
    assert first["total"] > second["total"]


def test_lowest_price_rule(open_inquiry, make_lead, network):
    network.bid_rule = "lowest_price"
    network.save()
    cheap, dear = make_lead(), make_lead()
    apply(dear, open_inquiry, price=105_000, days=5)
    apply(cheap, open_inquiry, price=100_000, days=40)
    pass_deadline(open_inquiry)
    services.inquiry_close_window(inquiry_id=open_inquiry.pk)
    assert Award.objects.get(inquiry=open_inquiry).company == cheap.company


def test_coordination_waits_for_a_reasoned_choice(submitted, make_lead, secretariat_user):
    inquiry = services.inquiry_publish(
        actor=secretariat_user, inquiry=submitted, award_mode="coordination"
    )
    a, b = make_lead(), make_lead()
    apply(a, inquiry, price=100_000)
    chosen = apply(b, inquiry, price=120_000)
    pass_deadline(inquiry)
    services.inquiry_close_window(inquiry_id=inquiry.pk)
    assert not Award.objects.exists()
    with pytest.raises(BrokerageError) as exc:
        services.award_choose(
            actor=secretariat_user, inquiry=inquiry, application=chosen, reason=""
        )
    assert exc.value.field == "reason"
    award = services.award_choose(
        actor=secretariat_user, inquiry=inquiry, application=chosen, reason="大型品の実績"
    )
    assert (award.company, award.mode) == (b.company, "coordination")
    services.award_confirm(actor=secretariat_user, inquiry=inquiry)


def test_committee_opens_applications_together_where_required(
    open_inquiry, make_lead, network, committee_user, secretariat_user
):
    network.applications_opened_by_committee = True
    network.save()
    apply(make_lead(), open_inquiry)
    pass_deadline(open_inquiry)
    services.inquiry_close_window(inquiry_id=open_inquiry.pk)
    open_inquiry.refresh_from_db()
    assert open_inquiry.applications_opened_at is None
    assert not Award.objects.exists()
    with pytest.raises(NotAllowed):
        services.inquiry_open_applications(actor=secretariat_user, inquiry=open_inquiry)
    services.inquiry_open_applications(actor=committee_user, inquiry=open_inquiry)
    open_inquiry.refresh_from_db()
    assert open_inquiry.applications_opened_at is not None
    assert Award.objects.filter(inquiry=open_inquiry).exists()


def test_only_the_secretariat_confirms(open_inquiry, make_lead, committee_user):
    lead = make_lead()
    apply(lead, open_inquiry)
    pass_deadline(open_inquiry)
    services.inquiry_close_window(inquiry_id=open_inquiry.pk)
    for user in (lead, committee_user):
        with pytest.raises(NotAllowed):
            services.award_confirm(actor=user, inquiry=open_inquiry)
    open_inquiry.refresh_from_db()
    assert open_inquiry.status == S.EVALUATION


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_confirmations_award_exactly_once(
    network, buyer_user, secretariat_user, inquiry_data, make_lead
):
    inquiry = services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    inquiry = services.inquiry_publish(actor=secretariat_user, inquiry=inquiry)
    apply(make_lead(), inquiry)
    pass_deadline(inquiry)
    services.inquiry_close_window(inquiry_id=inquiry.pk)
    results = []
    barrier = threading.Barrier(50)  # issue 7: 50 concurrent award attempts

    def confirm():
        try:
            barrier.wait()
            services.award_confirm(actor=secretariat_user, inquiry=inquiry)
            results.append("won")
        except Conflict:
            results.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict"] * 49 + ["won"]
    assert DomainEvent.objects.filter(kind="award.confirmed").count() == 1
