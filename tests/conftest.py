"""Shared fixtures: a network with its people in every role, and API clients per role."""

import datetime
import os
import shutil

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from rest_framework.test import APIClient

from members.models import MembershipClass, StaffRole
from orders import services as order_services
from tests.factories import (
    BuyerFactory,
    CapabilityFactory,
    CompanyUserFactory,
    MaterialFactory,
    MembershipFactory,
    NetworkFactory,
    NetworkStaffFactory,
    ProcessFactory,
    UserFactory,
)
from tests.helpers import pass_deadline


@pytest.fixture
def network(db):
    return NetworkFactory(name="磨き屋シンジケート", slug="migakiya")


@pytest.fixture
def other_network(db):
    return NetworkFactory(name="別ネットワーク", slug="other")


@pytest.fixture
def secretariat_user(network):
    return NetworkStaffFactory(network=network, role=StaffRole.SECRETARIAT).user


@pytest.fixture
def committee_user(network):
    return NetworkStaffFactory(network=network, role=StaffRole.COMMITTEE).user


@pytest.fixture
def member_user(network):
    """A user of an active joint-order member company."""
    user = CompanyUserFactory()
    MembershipFactory(network=network, company=user.company)
    return user


@pytest.fixture
def lead_user(network):
    user = CompanyUserFactory()
    MembershipFactory(network=network, company=user.company, membership_class=MembershipClass.LEAD)
    return user


@pytest.fixture
def other_member_user(other_network):
    """A member of another network: sees nothing private of `network`."""
    user = CompanyUserFactory()
    MembershipFactory(network=other_network, company=user.company)
    return user


@pytest.fixture
def other_secretariat_user(other_network):
    return NetworkStaffFactory(network=other_network, role=StaffRole.SECRETARIAT).user


@pytest.fixture
def buyer_user(db):
    return BuyerFactory().user


@pytest.fixture
def admin_user_(db):
    return UserFactory(is_superuser=True, is_staff=True)


@pytest.fixture
def as_user(client, request):
    """`as_user("buyer_user")` signs the page test client in as that fixture's user."""

    def sign_in(fixture_name):
        user = request.getfixturevalue(fixture_name)
        client.force_login(user)
        return user

    return sign_in


@pytest.fixture
def api():
    """An anonymous API client; `api.as_(user)` returns a new client signed in as `user`."""

    class RoleClient(APIClient):
        def as_(self, user):
            client = RoleClient()
            client.force_authenticate(user=user)
            return client

    return RoleClient()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config, items):
    """Tests that need a service skip, with the reason, where the service is absent: the
    first CI pass (SQLite, no Redis) skips them and the second pass runs them."""
    on_postgres = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    skips = {
        "postgres": (not on_postgres, "needs PostgreSQL (row locks, concurrency)"),
        "integration": (not django_settings.REDIS_URL, "needs Redis and a Celery worker"),
        "e2e": (
            not (os.path.exists("/usr/bin/chromium") or shutil.which("chromium")),
            "needs Debian's chromium (make e2e-deps)",
        ),
    }
    for item in items:
        for marker, (skip, reason) in skips.items():
            if skip and marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


# --- The inquiry flow --------------------------------------------------------------


@pytest.fixture
def buff(db):
    return ProcessFactory(code="buff", name_ja="バフ研磨", name_en="Buff polishing")


@pytest.fixture
def stainless(db):
    return MaterialFactory(code="stainless", name_ja="ステンレス", name_en="Stainless steel")


@pytest.fixture
def inquiry_data(buff, stainless):
    def make(**overrides):
        data = {
            "title": "ステンレス製タンブラーの鏡面研磨",
            "description": "SUS304 タンブラー 500個、鏡面仕上げ",
            "material": stainless,
            "processes": [buff],
            "finish_kind": "grit",
            "finish_grit": 400,
            "quantity": 500,
            "length_mm": 90,
            "width_mm": 90,
            "height_mm": 150,
            "weight_kg": "0.3",
            "desired_delivery_date": timezone.localdate() + datetime.timedelta(days=60),
            "delivery_prefecture": "13",
        }
        data.update(overrides)
        return data

    return make


@pytest.fixture
def make_lead(network, buff, stainless):
    """A lead company (with a user) able to buff stainless itself."""

    def make():
        user = CompanyUserFactory()
        MembershipFactory(
            network=network, company=user.company, membership_class=MembershipClass.LEAD
        )
        CapabilityFactory(company=user.company, process=buff, material=stainless)
        return user

    return make


@pytest.fixture
def submitted(network, buyer_user, inquiry_data):
    return order_services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())


@pytest.fixture
def open_inquiry(submitted, secretariat_user):
    return order_services.inquiry_publish(actor=secretariat_user, inquiry=submitted)


@pytest.fixture
def awarded(open_inquiry, make_lead, secretariat_user):
    lead = make_lead()
    order_services.application_place(
        actor=lead, inquiry=open_inquiry, price_yen=1_000_000, lead_time_days=20
    )
    pass_deadline(open_inquiry)
    order_services.inquiries_close_due()
    order_services.award_confirm(actor=secretariat_user, inquiry=open_inquiry)
    open_inquiry.refresh_from_db()
    return open_inquiry, lead


@pytest.fixture
def running_project(awarded):
    """The awarded lead's project (order of 500 items, delivery in 40 days)."""
    from orders import projects

    inquiry, lead = awarded
    return projects.project_open(
        actor=lead,
        inquiry=inquiry,
        order_value_yen=1_000_000,
        delivery_date=timezone.localdate() + datetime.timedelta(days=40),
    )


@pytest.fixture
def team_package(running_project, awarded, network, buff, stainless):
    """A buffing package of 500 items taken by a joint-order member, agreements accepted by
    both sides, work started. Returns (package, member user, lead user)."""
    from orders import projects
    from tests.helpers import member

    lead = awarded[1]
    worker = member(network, buff, stainless)
    package = projects.package_add(
        actor=lead,
        project=running_project,
        process=buff,
        material=stainless,
        quantity=500,
        unit_price_yen=1200,
        due_date=timezone.localdate() + datetime.timedelta(days=20),
    )
    invitation, _ = projects.invitation_send(actor=lead, package=package, company=worker.company)
    projects.invitation_respond(actor=worker, invitation=invitation, accept=True)
    for agreement in running_project.agreements.filter(member=worker.company):
        projects.agreement_accept(actor=lead, agreement=agreement)
        projects.agreement_accept(actor=worker, agreement=agreement)
    package = projects.package_start(actor=worker, package=package)
    return package, worker, lead
