import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from core.errors import BrokerageError, Conflict, InvalidTransition, NotAllowed
from orders import projects, services
from orders.models import (
    Agreement,
    Invitation,
    InvitationStatus,
    PackageStatus,
    ProjectStatus,
    WorkPackage,
)
from tests.factories import CompanyUserFactory
from tests.helpers import member, pass_deadline

SOON = datetime.timedelta(days=20)


@pytest.fixture
def project(running_project):
    return running_project  # tests/conftest.py: the awarded lead's project


@pytest.fixture
def lead(awarded):
    return awarded[1]


@pytest.fixture
def package(project, lead, buff, stainless):
    return projects.package_add(
        actor=lead,
        project=project,
        process=buff,
        material=stainless,
        quantity=300,
        unit_price_yen=1200,
        due_date=timezone.localdate() + SOON,
        inspection_criteria="キズ・打痕なし",
    )


def test_only_the_awarded_lead_opens_the_project_once(awarded, make_lead, secretariat_user):
    inquiry, lead = awarded
    delivery = timezone.localdate() + datetime.timedelta(days=40)
    with pytest.raises(NotAllowed):
        projects.project_open(
            actor=make_lead(), inquiry=inquiry, order_value_yen=1, delivery_date=delivery
        )
    with pytest.raises(BrokerageError) as exc:
        projects.project_open(
            actor=lead, inquiry=inquiry, order_value_yen=0, delivery_date=delivery
        )
    assert exc.value.field == "order_value_yen"
    project = projects.project_open(
        actor=lead, inquiry=inquiry, order_value_yen=980_000, delivery_date=delivery
    )
    assert (project.lead, project.status) == (lead.company, ProjectStatus.FORMING)
    assert projects.payment_terms_text(project)
    with pytest.raises(Conflict):
        projects.project_open(
            actor=lead, inquiry=inquiry, order_value_yen=980_000, delivery_date=delivery
        )


def test_no_project_without_a_confirmed_award(open_inquiry, make_lead):
    with pytest.raises(InvalidTransition):
        projects.project_open(
            actor=make_lead(),
            inquiry=open_inquiry,
            order_value_yen=1,
            delivery_date=timezone.localdate() + SOON,
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [("quantity", 0), ("unit_price_yen", 0), ("due_date", datetime.date(2020, 1, 1))],
)
def test_package_bad_input(project, lead, buff, stainless, field, value):
    data = {
        "quantity": 10,
        "unit_price_yen": 100,
        "due_date": timezone.localdate() + SOON,
        field: value,
    }
    with pytest.raises(BrokerageError) as exc:
        projects.package_add(actor=lead, project=project, process=buff, material=stainless, **data)
    assert exc.value.field == field
    assert not WorkPackage.objects.exists()


def test_package_due_after_the_delivery_date_is_refused(project, lead, buff, stainless):
    with pytest.raises(BrokerageError) as exc:
        projects.package_add(
            actor=lead,
            project=project,
            process=buff,
            material=stainless,
            quantity=1,
            unit_price_yen=1,
            due_date=project.delivery_date + datetime.timedelta(days=1),
        )
    assert exc.value.field == "due_date"


def test_only_joint_order_members_join_the_team(
    package, lead, network, other_network, buff, stainless
):
    supporter = member(network, buff, stainless, membership_class="supporting")
    outsider = member(other_network, buff, stainless)
    for user in (supporter, outsider):
        with pytest.raises(BrokerageError) as exc:
            projects.invitation_send(actor=lead, package=package, company=user.company)
        assert exc.value.field == "company"
    with pytest.raises(BrokerageError):
        projects.invitation_send(actor=lead, package=package, company=lead.company)
    assert not Invitation.objects.exists()


def test_only_the_lead_invites(package, network, buff, stainless, secretariat_user):
    candidate = member(network, buff, stainless)
    with pytest.raises(NotAllowed):
        projects.invitation_send(actor=candidate, package=package, company=candidate.company)
    with pytest.raises(NotAllowed):
        projects.invitation_send(actor=secretariat_user, package=package, company=candidate.company)


def test_capacity_warnings(package, lead, network, buff, stainless, project):
    roomy = member(network, buff, stainless, spare=1000)
    busy = member(network, buff, stainless, spare=100)
    _inv, warnings = projects.invitation_send(actor=lead, package=package, company=roomy.company)
    assert warnings == []
    _inv, warnings = projects.invitation_send(actor=lead, package=package, company=busy.company)
    assert len(warnings) == 1 and "100" in warnings[0]


def test_first_acceptance_takes_the_package_and_prepares_the_agreement(
    package, lead, network, buff, stainless
):
    a, b = member(network, buff, stainless), member(network, buff, stainless)
    inv_a, _w = projects.invitation_send(actor=lead, package=package, company=a.company)
    inv_b, _w = projects.invitation_send(actor=lead, package=package, company=b.company)
    with pytest.raises(NotAllowed):
        projects.invitation_respond(actor=b, invitation=inv_a, accept=True)
    projects.invitation_respond(actor=a, invitation=inv_a, accept=True)
    package.refresh_from_db()
    inv_b.refresh_from_db()
    assert (package.member, package.status) == (a.company, PackageStatus.AWAITING_AGREEMENT)
    assert inv_b.status == InvitationStatus.WITHDRAWN
    with pytest.raises(InvalidTransition):
        projects.invitation_respond(actor=b, invitation=inv_b, accept=True)
    [agreement] = Agreement.objects.all()
    assert agreement.kind == "basic"
    assert a.company.legal_name in agreement.body and "1,200" in agreement.body


def test_decline_needs_a_reason_and_leaves_the_package_open(
    package, lead, network, buff, stainless
):
    a = member(network, buff, stainless)
    invitation, _w = projects.invitation_send(actor=lead, package=package, company=a.company)
    with pytest.raises(BrokerageError) as exc:
        projects.invitation_respond(actor=a, invitation=invitation, accept=False)
    assert exc.value.field == "reason"
    projects.invitation_respond(actor=a, invitation=invitation, accept=False, reason="繁忙期")
    package.refresh_from_db()
    assert package.status == PackageStatus.OPEN
    # The declined package can be offered to another member.
    b = member(network, buff, stainless)
    projects.invitation_send(actor=lead, package=package, company=b.company)


def test_unanswered_invitations_expire(package, lead, network, buff, stainless):
    a = member(network, buff, stainless)
    invitation, _w = projects.invitation_send(actor=lead, package=package, company=a.company)
    assert projects.invitations_expire_due() == 0
    later = timezone.now() + datetime.timedelta(hours=73)
    assert projects.invitations_expire_due(now=later) == 1
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.EXPIRED
    with pytest.raises(InvalidTransition):
        projects.invitation_respond(actor=a, invitation=invitation, accept=True)


def test_work_starts_only_after_both_sides_accept(package, lead, network, buff, stainless, project):
    a = member(network, buff, stainless)
    invitation, _w = projects.invitation_send(actor=lead, package=package, company=a.company)
    projects.invitation_respond(actor=a, invitation=invitation, accept=True)
    with pytest.raises(InvalidTransition):
        projects.package_start(actor=a, package=package)
    agreement = Agreement.objects.get()
    outsider = CompanyUserFactory()
    with pytest.raises(NotAllowed):
        projects.agreement_accept(actor=outsider, agreement=agreement)
    projects.agreement_accept(actor=a, agreement=agreement)
    package.refresh_from_db()
    assert package.status == PackageStatus.AWAITING_AGREEMENT  # the lead has not accepted
    projects.agreement_accept(actor=lead, agreement=agreement)
    agreement.refresh_from_db()
    assert agreement.member_accepted_by == a and agreement.lead_accepted_by == lead
    package.refresh_from_db()
    assert package.status == PackageStatus.READY
    with pytest.raises(NotAllowed):
        projects.package_start(actor=lead, package=package)
    projects.package_start(actor=a, package=package)
    project.refresh_from_db()
    assert project.status == ProjectStatus.IN_PROGRESS


def test_nda_is_required_when_the_inquiry_asked_for_one(
    package, lead, network, buff, stainless, project
):
    project.inquiry.nda_required = True
    project.inquiry.save()
    a = member(network, buff, stainless)
    invitation, _w = projects.invitation_send(actor=lead, package=package, company=a.company)
    projects.invitation_respond(actor=a, invitation=invitation, accept=True)
    assert sorted(Agreement.objects.values_list("kind", flat=True)) == ["basic", "nda"]
    basic = Agreement.objects.get(kind="basic")
    projects.agreement_accept(actor=a, agreement=basic)
    projects.agreement_accept(actor=lead, agreement=basic)
    package.refresh_from_db()
    assert package.status == PackageStatus.AWAITING_AGREEMENT  # the NDA is still open


def test_small_orders_the_lead_does_alone(package, lead):
    projects.package_self_perform(actor=lead, package=package)
    package.refresh_from_db()
    assert (package.member, package.self_performed, package.status) == (
        lead.company,
        True,
        PackageStatus.READY,
    )
    projects.package_start(actor=lead, package=package)
    assert not Agreement.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_acceptances_one_member_takes_the_package(
    network, buyer_user, secretariat_user, inquiry_data, make_lead, buff, stainless
):
    inquiry = services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    services.inquiry_publish(actor=secretariat_user, inquiry=inquiry)
    lead = make_lead()
    services.application_place(actor=lead, inquiry=inquiry, price_yen=10, lead_time_days=5)
    pass_deadline(inquiry)
    services.inquiries_close_due()
    services.award_confirm(actor=secretariat_user, inquiry=inquiry)
    inquiry.refresh_from_db()
    project = projects.project_open(
        actor=lead,
        inquiry=inquiry,
        order_value_yen=10,
        delivery_date=timezone.localdate() + datetime.timedelta(days=40),
    )
    package = projects.package_add(
        actor=lead,
        project=project,
        process=buff,
        material=stainless,
        quantity=1,
        unit_price_yen=1,
        due_date=timezone.localdate() + SOON,
    )
    members = [member(network, buff, stainless) for _ in range(50)]  # issue 7: 50 claims
    invitations = [
        projects.invitation_send(actor=lead, package=package, company=m.company)[0] for m in members
    ]
    barrier = threading.Barrier(len(members))
    results = []

    def take(user, invitation):
        try:
            barrier.wait()
            projects.invitation_respond(actor=user, invitation=invitation, accept=True)
            results.append("won")
        except (Conflict, InvalidTransition):
            results.append("lost")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=take, args=pair) for pair in zip(members, invitations, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["lost"] * 49 + ["won"]
    assert Invitation.objects.filter(status=InvitationStatus.ACCEPTED).count() == 1


def test_a_second_package_for_the_same_member_needs_the_new_terms_accepted(
    package, lead, network, buff, stainless, project
):
    from core.models import DomainEvent

    a = member(network, buff, stainless)
    invitation, _w = projects.invitation_send(actor=lead, package=package, company=a.company)
    projects.invitation_respond(actor=a, invitation=invitation, accept=True)
    agreement = Agreement.objects.get()
    for user in (a, lead):
        projects.agreement_accept(actor=user, agreement=agreement)
    projects.package_start(actor=a, package=package)

    second = projects.package_add(
        actor=lead,
        project=project,
        process=buff,
        material=stainless,
        quantity=50,
        unit_price_yen=3000,
        due_date=timezone.localdate() + SOON,
    )
    invitation, _w = projects.invitation_send(actor=lead, package=second, company=a.company)
    projects.invitation_respond(actor=a, invitation=invitation, accept=True)
    agreement.refresh_from_db()
    assert "3,000" in agreement.body and not agreement.is_accepted
    assert DomainEvent.objects.filter(kind="agreement.reissued").count() == 1
    second.refresh_from_db()
    assert second.status == PackageStatus.AWAITING_AGREEMENT
    for user in (a, lead):
        projects.agreement_accept(actor=user, agreement=agreement)
    second.refresh_from_db()
    package.refresh_from_db()
    assert (second.status, package.status) == (PackageStatus.READY, PackageStatus.IN_PROGRESS)
