"""Shared fixtures: a network with its people in every role, and API clients per role."""

import os
import shutil

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from members.models import MembershipClass, StaffRole
from tests.factories import (
    BuyerFactory,
    CompanyUserFactory,
    MembershipFactory,
    NetworkFactory,
    NetworkStaffFactory,
    UserFactory,
)


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
def api():
    """An API client; `api.as_(user)` signs it in."""

    class RoleClient(APIClient):
        def as_(self, user):
            self.force_authenticate(user=user)
            return self

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
