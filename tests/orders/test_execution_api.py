"""The project's execution through the API: the whole path from delivery to the buyer's
acceptance, errors naming the field, who sees what, and query counts that do not grow."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.models import StaffRole
from orders import execution
from orders.models import MemberCharge, ProjectStatus
from tests.factories import BuyerFactory, NetworkStaffFactory
from tests.helpers import member
from tests.orders.test_execution import PNG, deliver_and_pass


def test_from_delivery_to_acceptance_through_the_api(
    api, team_package, running_project, buyer_user
):
    package, worker, lead = team_package
    as_lead, as_worker, as_buyer = api.as_(lead), api.as_(worker), api.as_(buyer_user)

    r = as_lead.post(
        "/api/v1/standards/",
        {"package": package.pk, "title": "鏡面手順", "note": "#400→#800→バフ"},
        format="json",
    )
    assert r.status_code == 201, r.content
    standard = r.json()["id"]
    r = as_worker.post(
        "/api/v1/deliveries/", {"package": package.pk, "quantity": 500}, format="json"
    )
    assert r.status_code == 409 and "standards" in r.content.decode()
    assert as_worker.post(f"/api/v1/standards/{standard}/confirm/").status_code == 200

    r = as_worker.post(
        "/api/v1/deliveries/", {"package": package.pk, "quantity": 501}, format="json"
    )
    assert r.status_code == 400 and r.json()["errors"][0]["attr"] == "quantity"
    r = as_worker.post(
        "/api/v1/deliveries/", {"package": package.pk, "quantity": 500}, format="json"
    )
    assert r.status_code == 201
    delivery = r.json()["id"]

    r = as_lead.get("/api/v1/sampling-plan/", {"lot_size": 500, "level": "II", "aql": "2.5"})
    assert r.json() == {
        "code_letter": "H",
        "sample_size": 50,
        "accept": 3,
        "reject": 4,
        "lot_size": 500,
        "inspect_all": False,
    }
    r = as_worker.post(
        f"/api/v1/deliveries/{delivery}/inspect/",
        {"quantity_received": 500, "quantity_passed": 500},
        format="json",
    )
    assert r.status_code == 403
    r = as_lead.post(
        f"/api/v1/deliveries/{delivery}/inspect/",
        {"quantity_received": 600, "quantity_passed": 500},
        format="json",
    )
    assert r.status_code == 400 and r.json()["errors"][0]["attr"] == "quantity_received"
    r = as_lead.post(
        f"/api/v1/deliveries/{delivery}/inspect/",
        {
            "quantity_received": 500,
            "inspection_level": "II",
            "aql": "2.5",
            "defects_found": 2,
            "defect_reason": "打痕",
            "disposition": "charge",
            "charge_yen": 2400,
            "photos": [SimpleUploadedFile("d.png", PNG, content_type="image/png")],
        },
        format="multipart",
    )
    assert r.status_code == 200, r.content
    inspection = r.json()["inspection"]
    assert (inspection["sample_size"], inspection["quantity_passed"]) == (50, 498)
    assert len(inspection["photos"]) == 1
    # The 2 scrapped items are delivered again and pass.
    deliver_and_pass(package, worker, lead, 2)

    board = as_lead.get(f"/api/v1/projects/{running_project.pk}/board/").json()
    assert board["shippable"] == 500
    assert board["packages"][0]["passed"] == 500 and board["packages"][0]["owed"] == 0
    assert as_worker.get(f"/api/v1/projects/{running_project.pk}/board/").status_code == 403

    r = as_lead.post(
        "/api/v1/shipments/",
        {
            "project": running_project.pk,
            "quantity": 500,
            "carrier": "佐川急便",
            "tracking_number": "4455",
        },
        format="json",
    )
    assert r.status_code == 201
    shipment = r.json()["id"]
    assert as_worker.get(f"/api/v1/shipments/{shipment}/").status_code == 404
    r = as_buyer.post(
        f"/api/v1/shipments/{shipment}/claim/",
        {"quantity": 3, "description": "くもり"},
        format="json",
    )
    assert r.status_code == 201
    claim = r.json()["id"]
    assert as_buyer.post(f"/api/v1/shipments/{shipment}/accept/").json()["accepted_quantity"] == 497
    r = as_lead.post(
        f"/api/v1/claims/{claim}/trace/", {"package": package.pk, "charge_yen": 3600}, format="json"
    )
    assert r.status_code == 200 and r.json()["member"] == worker.company_id
    # The member sees the claim traced to its package, and the charges against it.
    assert as_worker.get(f"/api/v1/claims/{claim}/").status_code == 200
    charges = as_worker.get("/api/v1/charges/").json()["results"]
    assert sorted(c["amount_yen"] for c in charges) == [2400, 3600]
    assert MemberCharge.objects.filter(member=worker.company).count() == 2

    running_project.refresh_from_db()
    assert running_project.status == ProjectStatus.IN_PROGRESS  # 497 of 500 accepted
    # The member owes the 3 claimed items again; once they pass, the lead ships and the
    # buyer's acceptance covers the order.
    package.refresh_from_db()
    assert package.status == "returned" and execution.outstanding(package) == 3
    deliver_and_pass(package, worker, lead, 3)
    r = as_lead.post(
        "/api/v1/shipments/", {"project": running_project.pk, "quantity": 3}, format="json"
    )
    assert r.status_code == 201
    as_buyer.post(f"/api/v1/shipments/{r.json()['id']}/accept/")
    running_project.refresh_from_db()
    assert running_project.status == ProjectStatus.ACCEPTED


def test_buyer_sees_its_project_with_the_order_value(
    api, team_package, running_project, buyer_user
):
    r = api.as_(buyer_user).get(f"/api/v1/projects/{running_project.pk}/")
    assert r.status_code == 200 and r.json()["order_value_yen"] == 1_000_000
    other = BuyerFactory().user
    assert api.as_(other).get(f"/api/v1/projects/{running_project.pk}/").status_code == 404


ROLES = ("lead", "member", "other_member", "buyer", "other_buyer", "secretariat", "elsewhere")
# object → roles that see it (everyone else: 404)
SEES = {
    "delivery": {"lead", "member", "secretariat"},
    "standard": {"lead", "member", "secretariat"},
    "charge": {"lead", "member", "secretariat"},
    "shipment": {"lead", "buyer", "secretariat"},
    "claim": {"lead", "member", "buyer", "secretariat"},
}


@pytest.fixture
def world(
    team_package,
    running_project,
    buyer_user,
    secretariat_user,
    other_network,
    network,
    buff,
    stainless,
):
    package, worker, lead = team_package
    standard = execution.standard_attach(actor=lead, package=package, title="手順", note="n")
    execution.standard_confirm(actor=worker, standard=standard)
    delivery = execution.delivery_record(actor=worker, package=package, quantity=10)
    execution.inspection_record(
        actor=lead,
        delivery=delivery,
        quantity_received=10,
        quantity_passed=9,
        defect_reason="割れ",
        disposition="charge",
        charge_yen=100,
    )
    shipment = execution.shipment_send(actor=lead, project=running_project, quantity=9)
    claim = execution.claim_raise(actor=buyer_user, shipment=shipment, quantity=1, description="x")
    execution.claim_trace(actor=lead, claim=claim, package=package)
    people = {
        "lead": lead,
        "member": worker,
        "other_member": member(network, buff, stainless),
        "buyer": buyer_user,
        "other_buyer": BuyerFactory().user,
        "secretariat": secretariat_user,
        "elsewhere": NetworkStaffFactory(network=other_network, role=StaffRole.SECRETARIAT).user,
    }
    objects = {
        "delivery": f"/api/v1/deliveries/{delivery.pk}/",
        "standard": f"/api/v1/standards/{standard.pk}/",
        "charge": f"/api/v1/charges/{MemberCharge.objects.get().pk}/",
        "shipment": f"/api/v1/shipments/{shipment.pk}/",
        "claim": f"/api/v1/claims/{claim.pk}/",
    }
    return people, objects


@pytest.mark.parametrize("obj", list(SEES))
def test_who_sees_the_work(api, world, obj):
    people, objects = world
    seen = {role: api.as_(people[role]).get(objects[obj]).status_code for role in ROLES}
    assert seen == {role: 200 if role in SEES[obj] else 404 for role in ROLES}


def test_nobody_acts_for_another(api, world):
    people, objects = world
    for role in ("member", "other_member", "buyer", "secretariat"):
        r = api.as_(people[role]).post(objects["delivery"] + "inspect/", {"quantity_received": 1})
        assert r.status_code in (403, 404), role
    r = api.as_(people["lead"]).post(objects["shipment"] + "accept/")
    assert r.status_code == 403
    r = api.as_(people["other_buyer"]).post(objects["shipment"] + "accept/")
    assert r.status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/deliveries/",
        "/api/v1/shipments/",
        "/api/v1/claims/",
        "/api/v1/charges/",
        "/api/v1/standards/",
    ],
)
def test_list_query_count_does_not_grow(api, team_package, running_project, buyer_user, url):
    package, worker, lead = team_package

    def add_round():
        standard = execution.standard_attach(actor=lead, package=package, title="t", note="n")
        execution.standard_confirm(actor=worker, standard=standard)
        delivery = execution.delivery_record(actor=worker, package=package, quantity=2)
        execution.inspection_record(
            actor=lead,
            delivery=delivery,
            quantity_received=2,
            quantity_passed=1,
            defect_reason="x",
            disposition="charge",
            charge_yen=10,
        )
        shipment = execution.shipment_send(actor=lead, project=running_project, quantity=1)
        execution.claim_raise(actor=buyer_user, shipment=shipment, quantity=1, description="x")

    viewer = buyer_user if url in ("/api/v1/shipments/", "/api/v1/claims/") else lead
    client = api.as_(viewer)
    add_round()
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for _ in range(4):
        add_round()
    with CaptureQueriesContext(connection) as five:
        assert len(client.get(url).json()["results"]) >= 5
    assert len(five) <= len(one)
