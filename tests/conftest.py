"""Shared fixtures: a network with its people in every role, and API clients per role."""

import functools
import os
import shutil

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from members.models import MembershipClass, StaffRole
from orders import services as order_services
from tests import scenarios
from tests.factories import BuyerFactory, NetworkFactory, NetworkStaffFactory, UserFactory


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
    return scenarios.company_user(network)


@pytest.fixture
def lead_user(network):
    return scenarios.company_user(network, membership_class=MembershipClass.LEAD)


@pytest.fixture
def other_member_user(other_network):
    """A member of another network: sees nothing private of `network`."""
    return scenarios.company_user(other_network)


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


# The chain below is tests/scenarios.py's, step by step, so a test can ask for any step and
# get the same inquiry at every later one.


@pytest.fixture
def buff(db):
    return scenarios.buff()


@pytest.fixture
def stainless(db):
    return scenarios.stainless()


@pytest.fixture
def inquiry_data(buff, stainless):
    """`inquiry_data(**overrides)`: what a buyer fills in (scenarios.inquiry_data)."""
    return functools.partial(scenarios.inquiry_data, buff, stainless)


@pytest.fixture
def make_lead(network, buff, stainless):
    """A lead company (with a user) able to buff stainless itself."""
    return functools.partial(scenarios.lead_user, network, buff, stainless)


@pytest.fixture
def order(network, secretariat_user, buyer_user, buff, stainless):
    """The scenario the fixtures below move on: the network's people and the usual work.
    (Asked for last by them, so rows are made in the order they always were.)"""
    return scenarios.Scenario(
        network=network,
        secretariat=secretariat_user,
        buyer=buyer_user,
        process=buff,
        material=stainless,
    )


@pytest.fixture
def submitted(network, buyer_user, inquiry_data):
    return order_services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())


@pytest.fixture
def open_inquiry(submitted, secretariat_user):
    return order_services.inquiry_publish(actor=secretariat_user, inquiry=submitted)


@pytest.fixture
def awarded(open_inquiry, make_lead, order):
    """(inquiry, lead user): awarded to a new lead after its only application."""
    order.inquiry = open_inquiry
    scenarios.award(order, lead=make_lead())
    return order.inquiry, order.lead


@pytest.fixture
def running_project(awarded, order):
    """The awarded lead's project (order of 1,000,000 yen, delivery in 40 days)."""
    order.inquiry, order.lead = awarded  # a module may override `awarded`
    return scenarios.open_project(order).project


@pytest.fixture
def team_package(running_project, awarded, order):
    """A buffing package of 500 items taken by a joint-order member, agreements accepted by
    both sides, work started. Returns (package, member user, lead user)."""
    order.inquiry, order.lead = awarded
    order.project = running_project
    scenarios.start_packages(scenarios.take_package(order, quantity=500))
    return order.packages[0], order.members[0], order.lead
