"""The access matrix of a project's objects, through the API: every role against the objects
of a project under way — its own, another company's, another network's. What one may not see
is 404 (never 403, which would confirm that it exists).

The project: the lead's, for the buyer; one package taken by the member (standard attached and
confirmed, a delivery inspected with 3 items scrapped and charged), shipped, and a claim by
the buyer. `other_member` is a member of the same network outside the team."""

import pytest

from members.models import StaffRole
from orders import execution
from tests import scenarios
from tests.factories import BuyerFactory, NetworkStaffFactory

ROLES = [
    "secretariat",
    "committee",
    "lead",
    "member",
    "other_member",
    "buyer",
    "other_buyer",
    "lead_elsewhere",
    "secretariat_elsewhere",
]

URLS = {
    "project": "/api/v1/projects/{}/",
    "package": "/api/v1/packages/{}/",
    "invitation": "/api/v1/invitations/{}/",
    "agreement": "/api/v1/agreements/{}/",
    "standard": "/api/v1/standards/{}/",
    "delivery": "/api/v1/deliveries/{}/",
    "charge": "/api/v1/charges/{}/",
    "shipment": "/api/v1/shipments/{}/",
    "claim": "/api/v1/claims/{}/",
}

# The team's work (packages, invitations, agreements, standards, deliveries, charges) is the
# lead's and the member's business, and the network staff's; the buyer deals with the lead
# only: it sees the project, its shipments and its claims, never the team's prices. The
# committee oversees the work as the network's staff, but the signed agreements (contract
# and NDA) stay between the two firms and the secretariat, which keeps them for disputes.
TEAM = {
    "secretariat": 200,
    "committee": 200,
    "lead": 200,
    "member": 200,
    "other_member": 404,
    "buyer": 404,
    "other_buyer": 404,
    "lead_elsewhere": 404,
    "secretariat_elsewhere": 404,
}
BUYER_FACING = {**TEAM, "buyer": 200, "member": 404}
EXPECTED = {
    "project": {**BUYER_FACING, "member": 200},
    "package": TEAM,
    "invitation": TEAM,
    "agreement": {**TEAM, "committee": 404},
    "standard": TEAM,
    "delivery": TEAM,
    "charge": TEAM,
    "shipment": BUYER_FACING,
    "claim": BUYER_FACING,
}  # fmt: skip


@pytest.fixture
def world(team_package, network, other_network, buyer_user, buff, stainless, make_lead):
    package, worker, lead = team_package
    project = package.project
    standard = execution.standard_attach(
        actor=lead, package=package, title="鏡面手順", note="#400 → #800"
    )
    execution.standard_confirm(actor=worker, standard=standard)
    delivery = execution.delivery_record(actor=worker, package=package, quantity=500)
    execution.inspection_record(
        actor=lead,
        delivery=delivery,
        quantity_received=500,
        inspection_level="II",
        aql="2.5",
        defects_found=3,
        defect_reason="打痕",
        disposition="charge",
        charge_yen=3600,
    )
    shipment = execution.shipment_send(actor=lead, project=project, quantity=400)
    claim = execution.claim_raise(
        actor=buyer_user, shipment=shipment, quantity=2, description="傷あり"
    )
    other_member = scenarios.company_user(network)
    lead_elsewhere = scenarios.company_user(other_network)
    people = {
        "secretariat": NetworkStaffFactory(network=network, role=StaffRole.SECRETARIAT).user,
        "committee": NetworkStaffFactory(network=network, role=StaffRole.COMMITTEE).user,
        "lead": lead,
        "member": worker,
        "other_member": other_member,
        "buyer": buyer_user,
        "other_buyer": BuyerFactory().user,
        "lead_elsewhere": lead_elsewhere,
        "secretariat_elsewhere": NetworkStaffFactory(
            network=other_network, role=StaffRole.SECRETARIAT
        ).user,
    }
    objects = {
        "project": project.pk,
        "package": package.pk,
        "invitation": package.invitations.get().pk,
        "agreement": project.agreements.filter(member=worker.company).first().pk,
        "standard": standard.pk,
        "delivery": delivery.pk,
        "charge": package.charges.get().pk,
        "shipment": shipment.pk,
        "claim": claim.pk,
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


def test_the_team_price_reaches_neither_the_buyer_nor_outsiders(api, world):
    """The member's unit price (¥1,200) is between the lead and the member."""
    people, objects = world
    for role in ("buyer", "other_buyer", "other_member", "lead_elsewhere"):
        client = api.as_(people[role])
        for url in ("/api/v1/projects/", URLS["project"].format(objects["project"])):
            body = client.get(url).json()
            assert "unit_price_yen" not in str(body), (role, url)
