"""Who may read which private object, through the API: every role against objects of its own
network, of another company and of another network. What one may not see is 404 (never 403,
which would confirm that it exists)."""

import pytest

from brokerage.models import Notification
from members.models import StaffRole
from orders import services
from tests import scenarios
from tests.factories import (
    BuyerFactory,
    CompanyUserFactory,
    DirectoryEntryFactory,
    MembershipFactory,
    NetworkStaffFactory,
)

ROLES = [
    "secretariat",
    "committee",
    "lead",
    "other_lead",
    "member",
    "buyer",
    "other_buyer",
    "lead_elsewhere",
    "secretariat_elsewhere",
]

# object → role → expected status
EXPECTED = {
    "inquiry": {
        "secretariat": 200, "committee": 200, "lead": 200, "other_lead": 200, "member": 404,
        "buyer": 200, "other_buyer": 404, "lead_elsewhere": 404, "secretariat_elsewhere": 404,
    },
    "application": {
        "secretariat": 200, "committee": 200, "lead": 200, "other_lead": 404, "member": 404,
        "buyer": 404, "other_buyer": 404, "lead_elsewhere": 404, "secretariat_elsewhere": 404,
    },
    "directory_entry": {
        "secretariat": 200, "committee": 200, "lead": 404, "other_lead": 404, "member": 404,
        "buyer": 404, "other_buyer": 404, "lead_elsewhere": 404, "secretariat_elsewhere": 404,
    },
    "notification": {
        "secretariat": 200, "committee": 404, "lead": 404, "other_lead": 404, "member": 404,
        "buyer": 404, "other_buyer": 404, "lead_elsewhere": 404, "secretariat_elsewhere": 404,
    },
    "referral": {
        "secretariat": 200, "committee": 404, "lead": 404, "other_lead": 404, "member": 404,
        "buyer": 404, "other_buyer": 404, "lead_elsewhere": 404, "secretariat_elsewhere": 404,
    },
}  # fmt: skip

URLS = {
    "inquiry": "/api/v1/inquiries/{}/",
    "application": "/api/v1/applications/{}/",
    "directory_entry": "/api/v1/directory/{}/",
    "notification": "/api/v1/notifications/{}/",
    "referral": "/api/v1/referrals/{}/",
}


@pytest.fixture
def world(network, other_network, buff, stainless, inquiry_data):
    people = {
        "secretariat": NetworkStaffFactory(network=network, role=StaffRole.SECRETARIAT).user,
        "committee": NetworkStaffFactory(network=network, role=StaffRole.COMMITTEE).user,
        "lead": scenarios.lead_user(network, buff, stainless),
        "other_lead": scenarios.lead_user(network, buff, stainless),
        "member": CompanyUserFactory(),
        "buyer": BuyerFactory().user,
        "other_buyer": BuyerFactory().user,
        "lead_elsewhere": scenarios.lead_user(other_network, buff, stainless),
        "secretariat_elsewhere": NetworkStaffFactory(
            network=other_network, role=StaffRole.SECRETARIAT
        ).user,
    }
    MembershipFactory(network=network, company=people["member"].company)
    inquiry = services.inquiry_submit(actor=people["buyer"], network=network, data=inquiry_data())
    services.inquiry_publish(actor=people["secretariat"], inquiry=inquiry)
    application = services.application_place(
        actor=people["lead"], inquiry=inquiry, price_yen=500_000, lead_time_days=10
    )
    referred = services.inquiry_submit(actor=people["buyer"], network=network, data=inquiry_data())
    services.inquiry_refer(
        actor=people["secretariat"], inquiry=referred, reason="遠方", category="location"
    )
    from brokerage.dispatch import event_dispatch
    from core.models import DomainEvent

    for pk in DomainEvent.objects.values_list("pk", flat=True):
        event_dispatch(event_id=pk)
    objects = {
        "inquiry": inquiry.pk,
        "application": application.pk,
        "directory_entry": DirectoryEntryFactory(network=network).pk,
        "notification": Notification.objects.filter(recipient=people["secretariat"]).first().pk,
        "referral": referred.referral.pk,
    }
    return people, objects


@pytest.mark.parametrize("obj", list(EXPECTED))
def test_access_matrix(api, world, obj):
    people, objects = world
    seen = {
        role: api.as_(people[role]).get(URLS[obj].format(objects[obj])).status_code
        for role in ROLES
    }
    assert seen == EXPECTED[obj]


def test_sealed_price_in_no_response_before_opening(api, world):
    people, objects = world
    for role in ROLES:
        if role == "lead":
            continue
        client = api.as_(people[role])
        for url in (
            "/api/v1/inquiries/",
            URLS["inquiry"].format(objects["inquiry"]),
            "/api/v1/applications/",
            URLS["application"].format(objects["application"]),
            "/api/v1/notifications/",
        ):
            assert "500000" not in client.get(url).content.decode(), (role, url)
