import datetime

import pytest
from django.utils import timezone

from core.errors import BrokerageError, Conflict, NotAllowed
from core.transitions import history
from members import services
from members.models import AppointmentStatus, Membership, MembershipClass, MembershipStatus
from tests.factories import CompanyUserFactory, MembershipFactory


@pytest.fixture
def candidate(network):
    return MembershipFactory(network=network, membership_class=MembershipClass.JOINT_ORDER).company


@pytest.fixture
def recommenders(network):
    users = []
    for membership_class in (MembershipClass.JOINT_ORDER, MembershipClass.SUPPORTING):
        user = CompanyUserFactory()
        MembershipFactory(network=network, company=user.company, membership_class=membership_class)
        users.append(user)
    return users


def decide(actor, appointment, approve=True, **overrides):
    kwargs = {
        "decided_on": timezone.localdate(),
        "votes_for": 5,
        "votes_against": 1,
        "votes_abstained": 0,
        "reason": "推薦2社、実績十分",
    }
    kwargs.update(overrides)
    return services.appointment_decide(
        actor=actor, appointment=appointment, approve=approve, **kwargs
    )


def test_recommended_and_approved_candidate_becomes_lead(
    secretariat_user, committee_user, network, candidate, recommenders
):
    appointment = services.appointment_open(
        actor=secretariat_user, network=network, company=candidate, statement="実績多数"
    )
    for user in recommenders:
        services.appointment_recommend(actor=user, appointment=appointment, comment="推薦します")
    appointment = decide(committee_user, appointment)

    assert appointment.status == AppointmentStatus.APPROVED
    assert (appointment.votes_for, appointment.votes_against) == (5, 1)
    assert appointment.decided_by == committee_user
    lead = Membership.objects.get(company=candidate, membership_class=MembershipClass.LEAD)
    assert lead.status == MembershipStatus.ACTIVE
    assert lead.annual_fee_yen == 35_000
    joint = Membership.objects.get(company=candidate, membership_class=MembershipClass.JOINT_ORDER)
    assert joint.status == MembershipStatus.ENDED
    assert [c.to_status for c in history(appointment)] == ["pending", "approved"]


def test_approval_needs_the_networks_quorum_of_recommendations(
    secretariat_user, committee_user, network, candidate, recommenders
):
    appointment = services.appointment_open(
        actor=secretariat_user, network=network, company=candidate
    )
    services.appointment_recommend(actor=recommenders[0], appointment=appointment)
    with pytest.raises(BrokerageError) as exc:
        decide(committee_user, appointment)
    assert "2" in exc.value.message and "1" in exc.value.message
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.PENDING
    assert not Membership.objects.filter(company=candidate, membership_class="lead").exists()


def test_approval_needs_a_majority_and_a_reason(
    secretariat_user, committee_user, network, candidate, recommenders
):
    appointment = services.appointment_open(
        actor=secretariat_user, network=network, company=candidate
    )
    for user in recommenders:
        services.appointment_recommend(actor=user, appointment=appointment)
    with pytest.raises(BrokerageError) as exc:
        decide(committee_user, appointment, votes_for=2, votes_against=2)
    assert exc.value.field == "votes_for"
    with pytest.raises(BrokerageError) as exc:
        decide(committee_user, appointment, reason="")
    assert exc.value.field == "reason"
    with pytest.raises(BrokerageError) as exc:
        decide(
            committee_user,
            appointment,
            decided_on=timezone.localdate() + datetime.timedelta(days=1),
        )
    assert exc.value.field == "decided_on"


def test_rejection_makes_no_lead_and_a_new_appointment_may_follow(
    secretariat_user, committee_user, network, candidate
):
    appointment = services.appointment_open(
        actor=secretariat_user, network=network, company=candidate
    )
    decide(
        committee_user, appointment, approve=False, votes_for=1, votes_against=4, reason="時期尚早"
    )
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.REJECTED
    assert not Membership.objects.filter(company=candidate, membership_class="lead").exists()
    again = services.appointment_open(actor=secretariat_user, network=network, company=candidate)
    assert again.pk != appointment.pk


def test_one_pending_appointment_per_company(secretariat_user, network, candidate):
    services.appointment_open(actor=secretariat_user, network=network, company=candidate)
    with pytest.raises(Conflict):
        services.appointment_open(actor=secretariat_user, network=network, company=candidate)


def test_only_active_joint_order_members_can_be_candidates(secretariat_user, network):
    supporter = MembershipFactory(network=network, membership_class="supporting").company
    with pytest.raises(BrokerageError) as exc:
        services.appointment_open(actor=secretariat_user, network=network, company=supporter)
    assert exc.value.field == "company"


def test_an_existing_lead_cannot_be_appointed_again(secretariat_user, network, lead_user):
    with pytest.raises(Conflict):
        services.appointment_open(
            actor=secretariat_user, network=network, company=lead_user.company
        )


def test_recommendations_come_from_members_once_and_never_from_the_candidate(
    secretariat_user, network, candidate, recommenders, other_member_user, buyer_user
):
    appointment = services.appointment_open(
        actor=secretariat_user, network=network, company=candidate
    )
    services.appointment_recommend(actor=recommenders[0], appointment=appointment)
    with pytest.raises(Conflict):
        services.appointment_recommend(actor=recommenders[0], appointment=appointment)
    with pytest.raises(NotAllowed):
        services.appointment_recommend(actor=other_member_user, appointment=appointment)
    with pytest.raises(NotAllowed):
        services.appointment_recommend(actor=buyer_user, appointment=appointment)
    candidate_user = CompanyUserFactory(company=candidate)
    with pytest.raises(BrokerageError):
        services.appointment_recommend(actor=candidate_user, appointment=appointment)
    assert appointment.recommendations.count() == 1


def test_only_committee_or_secretariat_decide(
    secretariat_user, network, candidate, recommenders, lead_user
):
    appointment = services.appointment_open(
        actor=secretariat_user, network=network, company=candidate
    )
    for user in recommenders:
        services.appointment_recommend(actor=user, appointment=appointment)
    with pytest.raises(NotAllowed):
        decide(lead_user, appointment)
    with pytest.raises(NotAllowed):
        decide(recommenders[0], appointment)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.PENDING


def test_decided_appointments_take_no_more_recommendations(
    secretariat_user, committee_user, network, candidate, recommenders
):
    appointment = services.appointment_open(
        actor=secretariat_user, network=network, company=candidate
    )
    decide(committee_user, appointment, approve=False, votes_for=0, votes_against=3, reason="否決")
    with pytest.raises(BrokerageError):
        services.appointment_recommend(actor=recommenders[0], appointment=appointment)
