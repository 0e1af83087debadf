import datetime

import pytest
from django.utils import timezone

from core.errors import BrokerageError, Conflict, InvalidTransition, NotAllowed
from core.transitions import history
from members import services
from members.models import DirectoryEntry, Membership, MembershipClass, MembershipStatus
from tests.factories import CompanyFactory, DirectoryEntryFactory, MembershipFactory


def test_secretariat_admits_a_member_at_the_fee_of_the_table(secretariat_user, network):
    company = CompanyFactory()
    membership = services.membership_create(
        actor=secretariat_user,
        network=network,
        company=company,
        membership_class=MembershipClass.SUPPORTING,
    )
    assert membership.annual_fee_yen == 30_000
    assert membership.joined_on == timezone.localdate()
    [change] = history(membership)
    assert (change.from_status, change.to_status, change.actor) == ("", "active", secretariat_user)


def test_fee_change_does_not_rewrite_existing_memberships(secretariat_user, network):
    membership = services.membership_create(
        actor=secretariat_user,
        network=network,
        company=CompanyFactory(),
        membership_class=MembershipClass.JOINT_ORDER,
    )
    services.network_set_fee(
        actor=secretariat_user,
        network=network,
        membership_class=MembershipClass.JOINT_ORDER,
        annual_fee_yen=20_000,
    )
    membership.refresh_from_db()
    assert membership.annual_fee_yen == 15_000
    newcomer = services.membership_create(
        actor=secretariat_user,
        network=network,
        company=CompanyFactory(),
        membership_class=MembershipClass.JOINT_ORDER,
    )
    assert newcomer.annual_fee_yen == 20_000


def test_duplicate_membership_is_a_conflict(secretariat_user, network):
    company = CompanyFactory()
    services.membership_create(
        actor=secretariat_user, network=network, company=company, membership_class="joint_order"
    )
    with pytest.raises(Conflict) as exc:
        services.membership_create(
            actor=secretariat_user,
            network=network,
            company=company,
            membership_class="joint_order",
        )
    assert exc.value.field == "membership_class"
    assert Membership.objects.filter(company=company).count() == 1


def test_lead_class_is_never_granted_directly(secretariat_user, network):
    with pytest.raises(BrokerageError) as exc:
        services.membership_create(
            actor=secretariat_user,
            network=network,
            company=CompanyFactory(),
            membership_class=MembershipClass.LEAD,
        )
    assert exc.value.field == "membership_class"
    assert not Membership.objects.exists()


def test_only_the_networks_secretariat_admits(
    network, member_user, committee_user, other_secretariat_user, buyer_user
):
    company = CompanyFactory()
    for user in (member_user, committee_user, other_secretariat_user, buyer_user):
        with pytest.raises(NotAllowed):
            services.membership_create(
                actor=user, network=network, company=company, membership_class="supporting"
            )
    assert not Membership.objects.filter(company=company).exists()


def test_joining_removes_the_company_from_the_non_member_directory(secretariat_user, network):
    entry = DirectoryEntryFactory(network=network)
    services.membership_create(
        actor=secretariat_user,
        network=network,
        company=entry.company,
        membership_class="joint_order",
    )
    assert not DirectoryEntry.objects.filter(pk=entry.pk).exists()


def test_suspend_reactivate_end_are_recorded_and_end_is_final(secretariat_user, network):
    membership = MembershipFactory(network=network)
    services.membership_change_status(
        actor=secretariat_user, membership=membership, to="suspended", reason="会費未納"
    )
    services.membership_change_status(
        actor=secretariat_user, membership=membership, to="active", reason="納付済"
    )
    services.membership_change_status(
        actor=secretariat_user, membership=membership, to="ended", reason="退会届"
    )
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ENDED
    assert membership.ended_on == timezone.localdate()
    assert [(c.from_status, c.to_status, c.reason) for c in history(membership)] == [
        ("active", "suspended", "会費未納"),
        ("suspended", "active", "納付済"),
        ("active", "ended", "退会届"),
    ]
    with pytest.raises(InvalidTransition):
        services.membership_change_status(
            actor=secretariat_user, membership=membership, to="active", reason="再入会"
        )


def test_status_change_needs_a_reason_and_a_valid_date(secretariat_user, network):
    membership = MembershipFactory(network=network, joined_on=timezone.localdate())
    with pytest.raises(BrokerageError) as exc:
        services.membership_change_status(
            actor=secretariat_user, membership=membership, to="ended", reason=" "
        )
    assert exc.value.field == "reason"
    with pytest.raises(BrokerageError) as exc:
        services.membership_change_status(
            actor=secretariat_user,
            membership=membership,
            to="ended",
            reason="退会",
            on=timezone.localdate() - datetime.timedelta(days=1),
        )
    assert exc.value.field == "ended_on"
    membership.refresh_from_db()
    assert membership.status == "active"
    assert membership.ended_on is None


def test_repeating_a_status_change_is_a_no_op(secretariat_user, network):
    membership = MembershipFactory(network=network)
    for _ in range(2):
        services.membership_change_status(
            actor=secretariat_user, membership=membership, to="suspended", reason="x"
        )
    assert len(history(membership)) == 1


def test_directory_refuses_members_and_duplicates(secretariat_user, network, member_user):
    with pytest.raises(BrokerageError) as exc:
        services.directory_add(
            actor=secretariat_user,
            network=network,
            company=member_user.company,
            consents_to_referrals=True,
        )
    assert exc.value.field == "company"
    company = CompanyFactory()
    entry = services.directory_add(
        actor=secretariat_user, network=network, company=company, consents_to_referrals=True
    )
    assert entry.consent_recorded_on == timezone.localdate()
    with pytest.raises(Conflict):
        services.directory_add(
            actor=secretariat_user, network=network, company=company, consents_to_referrals=False
        )


def test_directory_is_kept_by_the_secretariat_only(member_user, committee_user, network):
    for user in (member_user, committee_user):
        with pytest.raises(NotAllowed):
            services.directory_add(
                actor=user, network=network, company=CompanyFactory(), consents_to_referrals=True
            )


def test_network_rules_are_changed_by_its_secretariat(
    secretariat_user, other_secretariat_user, network
):
    services.network_update(
        actor=secretariat_user, network=network, data={"lead_recommendations_required": 3}
    )
    network.refresh_from_db()
    assert network.lead_recommendations_required == 3
    with pytest.raises(NotAllowed):
        services.network_update(
            actor=other_secretariat_user, network=network, data={"award_by_bid": False}
        )


def test_a_network_keeps_at_least_one_award_mode(secretariat_user, network):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.network_update(
            actor=secretariat_user,
            network=network,
            data={"award_by_bid": False, "award_by_coordination": False},
        )
    network.refresh_from_db()
    assert network.award_by_bid is True
