"""`manage.py seed_demo`: the demo syndicate is shaped by the rules, complete and idempotent."""

from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import RequestFactory

from core.models import StatusChange
from members.management import demo_data
from members.models import (
    AppointmentStatus,
    Buyer,
    Capability,
    Company,
    DirectoryEntry,
    LeadAppointment,
    Membership,
    MembershipClass,
    MembershipStatus,
    Network,
    NetworkStaff,
    StaffRole,
    User,
)
from members.validators import validate_corporate_number
from tests.factories import NetworkFactory

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def all_counts() -> dict[str, int]:
    """Rows of every model (members, core.StatusChange, auth, …) and of the link tables."""
    counts = {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
    }
    assert {"members.Company", "members.Membership", "core.StatusChange"} <= set(counts)
    return counts


def active(network, membership_class):
    return Membership.objects.filter(
        network=network, membership_class=membership_class, status=MembershipStatus.ACTIVE
    )


def test_seed_builds_the_syndicate_of_may_2010():
    seed()
    migakiya = Network.objects.get(slug="migakiya")
    assert migakiya.name == "磨き屋シンジケート"
    assert migakiya.secretariat_name == "燕商工会議所"
    assert migakiya.award_by_bid and migakiya.award_by_coordination
    assert migakiya.lead_recommendations_required == 2
    assert dict(migakiya.fees.values_list("membership_class", "annual_fee_yen")) == {
        MembershipClass.LEAD: 35_000,
        MembershipClass.JOINT_ORDER: 15_000,
        MembershipClass.SUPPORTING: 30_000,
        MembershipClass.SKILL_DIVISION: 5_000,
    }

    leads = active(migakiya, MembershipClass.LEAD)
    assert leads.count() == 10
    assert all(m.annual_fee_yen == 35_000 for m in leads)
    assert active(migakiya, MembershipClass.JOINT_ORDER).count() == 15
    assert active(migakiya, MembershipClass.SUPPORTING).count() == 14
    assert (
        Membership.objects.filter(network=migakiya, status=MembershipStatus.ACTIVE)
        .values("company")
        .distinct()
        .count()
        == 39
    )


def test_every_lead_was_appointed_by_the_rules():
    seed()
    migakiya = Network.objects.get(slug="migakiya")
    committee = set(
        NetworkStaff.objects.filter(network=migakiya, role=StaffRole.COMMITTEE).values_list(
            "user_id", flat=True
        )
    )
    appointment_type = ContentType.objects.get_for_model(LeadAppointment)
    for membership in active(migakiya, MembershipClass.LEAD).select_related("company"):
        company = membership.company
        appointment = LeadAppointment.objects.get(network=migakiya, company=company)
        assert appointment.status == AppointmentStatus.APPROVED
        assert appointment.decided_by_id in committee
        assert appointment.decided_on == membership.joined_on
        assert appointment.votes_for > appointment.votes_against
        assert appointment.decision_reason
        assert appointment.opened_at.date() < appointment.decided_on
        recommendations = list(appointment.recommendations.select_related("recommended_by"))
        assert len(recommendations) >= 2
        for recommendation in recommendations:
            assert recommendation.recommender_id != company.pk
            assert recommendation.recommended_by.company_id == recommendation.recommender_id
            assert Membership.objects.filter(
                network=migakiya, company_id=recommendation.recommender_id
            ).exists()
        joint = Membership.objects.get(
            network=migakiya, company=company, membership_class=MembershipClass.JOINT_ORDER
        )
        assert joint.status == MembershipStatus.ENDED
        assert joint.ended_on == appointment.decided_on
        assert list(
            StatusChange.objects.filter(
                content_type=appointment_type, object_id=appointment.pk
            ).values_list("from_status", "to_status")
        ) == [("", "pending"), ("pending", "approved")]


def test_companies_have_valid_numbers_users_and_capabilities():
    seed()
    companies = Company.objects.all()
    assert companies.count() == 39 + 12 + 5
    registered = 0
    for company in companies:
        validate_corporate_number(company.corporate_number)
        if company.invoice_registration_number:
            assert company.invoice_registration_number == f"T{company.corporate_number}"
            registered += 1
        assert company.users.exists(), company
        assert company.contacts.exists(), company
        assert company.latitude is not None and company.postal_code
        assert 3 <= company.employees <= 80
    assert 0 < companies.count() - registered < 12  # a few small firms are not registered

    migakiya = Network.objects.get(slug="migakiya")
    for membership_class in (MembershipClass.LEAD, MembershipClass.JOINT_ORDER):
        for membership in active(migakiya, membership_class):
            assert membership.company.capabilities.exists(), membership.company
    for membership in active(migakiya, MembershipClass.SUPPORTING):
        assert membership.company.capabilities.count() <= 1
    member_caps = Capability.objects.filter(company__memberships__network=migakiya)
    assert member_caps.filter(process__code="buff", material__code="stainless").count() >= 10
    assert member_caps.filter(max_length_mm__gte=2000).exists()
    assert all(5 <= c.lead_time_days <= 30 for c in Capability.objects.all())


def test_directory_and_partner_network():
    seed()
    migakiya = Network.objects.get(slug="migakiya")
    prosium = Network.objects.get(slug="prosium")
    assert list(migakiya.partners.all()) == [prosium]
    assert list(prosium.partners.all()) == [migakiya]
    assert NetworkStaff.objects.filter(network=prosium, role=StaffRole.SECRETARIAT).exists()
    assert prosium.fees.exists()
    prosium_members = Company.objects.filter(
        memberships__network=prosium, memberships__status=MembershipStatus.ACTIVE
    ).distinct()
    assert 4 <= prosium_members.count() <= 5
    assert Capability.objects.filter(
        company__in=prosium_members, process__code__in=["die_making", "pressing"]
    ).exists()

    entries = DirectoryEntry.objects.filter(network=migakiya)
    assert entries.count() >= 12
    assert entries.filter(consents_to_referrals=True).count() > entries.count() // 2
    assert not Membership.objects.filter(
        network=migakiya, company__directory_entries__network=migakiya
    ).exists()
    assert {c.company.prefecture for c in entries} > {"15", "13"}
    # The directory covers what the members cannot do.
    for process in ("chemical", "lapping", "blasting"):
        assert Capability.objects.filter(
            process__code=process, company__directory_entries__network=migakiya
        ).exists()
        assert not Capability.objects.filter(
            process__code=process, company__memberships__network=migakiya
        ).exists()


def test_running_twice_creates_nothing_new():
    seed()
    before = all_counts()
    out = seed()
    assert all_counts() == before
    assert "nothing new created" in out


def test_if_empty_seeds_an_empty_database():
    out = seed("--if-empty")
    assert Network.objects.filter(slug="migakiya").exists()
    assert "demo-pass-2026" in out


def test_if_empty_leaves_existing_data_alone_and_prints_the_logins():
    seed()
    before = all_counts()
    out = seed("--if-empty", "--base-url", "http://localhost:9000")
    assert all_counts() == before
    assert "no demo data created" in out
    assert "http://localhost:9000/" in out
    for _ja, _en, username in demo_data.MAIN_LOGINS:
        assert username in out
    assert demo_data.DEMO_PASSWORD in out


def test_if_empty_does_nothing_when_any_network_exists():
    NetworkFactory(slug="someone-elses")
    before = all_counts()
    out = seed("--if-empty")
    assert all_counts() == before
    assert "not created" in out  # the table says the demo logins do not exist


def test_demo_logins_authenticate_with_their_roles():
    seed()
    password = demo_data.DEMO_PASSWORD
    # The login throttle (django-axes) needs the request, as the login page passes it.
    request = RequestFactory().post("/login/")
    admin = authenticate(request, username="admin", password=password)
    assert admin is not None and admin.is_superuser and admin.is_staff
    lead = authenticate(request, username="lead01", password=password)
    assert lead is not None
    # Every demo login shares the one hash (hashing is slow, so it is computed once).
    assert set(User.objects.values_list("password", flat=True)) == {admin.password}

    migakiya = Network.objects.get(slug="migakiya")
    prosium = Network.objects.get(slug="prosium")
    users = {u.username: u for u in User.objects.all()}

    def seats(username):
        return set(
            NetworkStaff.objects.filter(user=users[username]).values_list(
                "network__slug", "role", "position"
            )
        )

    assert not NetworkStaff.objects.filter(user=admin).exists()
    assert ("migakiya", StaffRole.SECRETARIAT, "事務局長") in seats("jimukyoku")
    assert seats("iinkai") == {("migakiya", StaffRole.COMMITTEE, "委員長")}
    assert seats("prosium") == {("prosium", StaffRole.SECRETARIAT, "事務局")}
    assert NetworkStaff.objects.filter(network=migakiya, role=StaffRole.SECRETARIAT).count() == 2
    positions = list(
        NetworkStaff.objects.filter(network=migakiya, role=StaffRole.COMMITTEE).values_list(
            "position", "user__company"
        )
    )
    assert len(positions) == 6
    lead_companies = set(active(migakiya, MembershipClass.LEAD).values_list("company", flat=True))
    assert sum(company in lead_companies for _position, company in positions) == 3

    for username, membership_class in (
        ("lead01", MembershipClass.LEAD),
        ("member01", MembershipClass.JOINT_ORDER),
        ("support01", MembershipClass.SUPPORTING),
    ):
        assert not seats(username)
        assert active(migakiya, membership_class).filter(company=users[username].company).exists()
    assert active(prosium, MembershipClass.LEAD).count() == 1

    assert users["buyer"].buyer.kind == Buyer.Kind.COMPANY
    assert users["kojin"].buyer.kind == Buyer.Kind.INDIVIDUAL
    assert users["buyer"].company is None and users["kojin"].company is None
