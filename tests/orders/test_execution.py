"""Running a project: work standards, deliveries and inspection, defect charges, shipments to
the buyer, acceptance and claims, late warnings."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.errors import BrokerageError, InvalidTransition, NotAllowed
from core.models import DomainEvent
from orders import execution, projects
from orders.models import (
    Claim,
    Delivery,
    Inspection,
    MemberCharge,
    PackageStatus,
    ProjectStatus,
    Shipment,
    WorkStandard,
)
from tests.factories import ProcessFactory
from tests.helpers import member

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def photo(name="defect.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def deliver_and_pass(package, worker, lead, quantity):
    delivery = execution.delivery_record(actor=worker, package=package, quantity=quantity)
    execution.inspection_record(
        actor=lead, delivery=delivery, quantity_received=quantity, quantity_passed=quantity
    )
    package.refresh_from_db()
    return delivery


# --- work standards ------------------------------------------------------------------------


def test_member_confirms_the_work_standard_before_delivering(team_package):
    package, worker, lead = team_package
    with pytest.raises(NotAllowed):
        execution.standard_attach(actor=worker, package=package, title="鏡面手順", note="#400→#800")
    with pytest.raises(BrokerageError) as exc:
        execution.standard_attach(actor=lead, package=package, title="鏡面手順")
    assert exc.value.field == "file"
    standard = execution.standard_attach(
        actor=lead, package=package, title="鏡面手順", note="#400 → #800 → バフ仕上げ"
    )
    with pytest.raises(InvalidTransition) as exc:
        execution.delivery_record(actor=worker, package=package, quantity=10)
    assert exc.value.field == "standards"
    with pytest.raises(NotAllowed):
        execution.standard_confirm(actor=lead, standard=standard)
    execution.standard_confirm(actor=worker, standard=standard)
    standard.refresh_from_db()
    assert standard.confirmed_by == worker and standard.confirmed_at is not None
    assert execution.delivery_record(actor=worker, package=package, quantity=10).quantity == 10


def test_a_standard_attached_before_start_gates_the_start(running_project, awarded, network):
    lead = awarded[1]
    buff = running_project.inquiry.processes.first()
    package = projects.package_add(
        actor=lead,
        project=running_project,
        process=buff,
        material=running_project.inquiry.material,
        quantity=10,
        unit_price_yen=100,
        due_date=timezone.localdate() + datetime.timedelta(days=5),
    )
    projects.package_self_perform(actor=lead, package=package)
    standard = execution.standard_attach(
        actor=lead, package=package, title="写真", upload=photo("standard.png")
    )
    assert standard.content_type == "image/png" and standard.original_name == "standard.png"
    with pytest.raises(InvalidTransition):
        projects.package_start(actor=lead, package=package)
    execution.standard_confirm(actor=lead, standard=standard)
    assert projects.package_start(actor=lead, package=package).status == "in_progress"


def test_a_standard_must_be_a_real_document(team_package):
    package, _, lead = team_package
    fake = SimpleUploadedFile("manual.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(BrokerageError) as exc:
        execution.standard_attach(actor=lead, package=package, title="手順", upload=fake)
    assert exc.value.field == "file"
    assert not WorkStandard.objects.exists()


# --- deliveries and inspection -------------------------------------------------------------


def test_only_the_member_delivers_and_not_more_than_is_owed(team_package, network, buff, stainless):
    package, worker, lead = team_package
    stranger = member(network, buff, stainless)
    with pytest.raises(NotAllowed):
        execution.delivery_record(actor=stranger, package=package, quantity=1)
    with pytest.raises(NotAllowed):
        execution.delivery_record(actor=lead, package=package, quantity=1)
    with pytest.raises(BrokerageError) as exc:
        execution.delivery_record(actor=worker, package=package, quantity=0)
    assert exc.value.field == "quantity"
    execution.delivery_record(actor=worker, package=package, quantity=300)
    with pytest.raises(BrokerageError) as exc:
        execution.delivery_record(actor=worker, package=package, quantity=201)
    assert exc.value.field == "quantity" and "200" in str(exc.value)
    package.refresh_from_db()
    assert package.status == PackageStatus.SHIPPED
    assert Delivery.objects.count() == 1


def test_no_delivery_before_work_started(running_project, awarded, network, buff, stainless):
    lead = awarded[1]
    worker = member(network, buff, stainless)
    package = projects.package_add(
        actor=lead,
        project=running_project,
        process=buff,
        material=stainless,
        quantity=10,
        unit_price_yen=100,
        due_date=timezone.localdate() + datetime.timedelta(days=5),
    )
    invitation, _ = projects.invitation_send(actor=lead, package=package, company=worker.company)
    projects.invitation_respond(actor=worker, invitation=invitation, accept=True)
    package.refresh_from_db()
    with pytest.raises(InvalidTransition):
        execution.delivery_record(actor=worker, package=package, quantity=10)


def test_full_inspection_with_rework_then_acceptance(team_package):
    package, worker, lead = team_package
    delivery = execution.delivery_record(actor=worker, package=package, quantity=500)
    with pytest.raises(NotAllowed):
        execution.inspection_record(
            actor=worker, delivery=delivery, quantity_received=500, quantity_passed=500
        )
    with pytest.raises(BrokerageError) as exc:
        execution.inspection_record(
            actor=lead, delivery=delivery, quantity_received=501, quantity_passed=500
        )
    assert exc.value.field == "quantity_received"
    with pytest.raises(BrokerageError) as exc:
        execution.inspection_record(
            actor=lead, delivery=delivery, quantity_received=500, quantity_passed=480
        )
    assert exc.value.field == "defect_reason"
    with pytest.raises(BrokerageError) as exc:
        execution.inspection_record(
            actor=lead,
            delivery=delivery,
            quantity_received=500,
            quantity_passed=480,
            defect_reason="研磨ムラ",
        )
    assert exc.value.field == "disposition"
    assert not Inspection.objects.exists()
    inspection = execution.inspection_record(
        actor=lead,
        delivery=delivery,
        quantity_received=500,
        quantity_passed=480,
        defect_reason="研磨ムラ",
        disposition="rework",
        photos=[photo()],
    )
    assert (inspection.result, inspection.quantity_rejected) == ("partly", 20)
    assert inspection.photos.count() == 1
    package.refresh_from_db()
    assert package.status == PackageStatus.RETURNED
    assert execution.outstanding(package) == 20
    with pytest.raises(InvalidTransition):
        execution.inspection_record(
            actor=lead, delivery=delivery, quantity_received=500, quantity_passed=500
        )
    rework = execution.delivery_record(actor=worker, package=package, quantity=20)
    assert rework.is_rework
    execution.inspection_record(
        actor=lead, delivery=rework, quantity_received=20, quantity_passed=20
    )
    package.refresh_from_db()
    assert package.status == PackageStatus.ACCEPTED and package.completed_at is not None
    assert not MemberCharge.objects.exists()
    kinds = list(DomainEvent.objects.filter(kind__startswith="inspection").values_list("kind"))
    assert len(kinds) == 2


def test_sampled_lot_within_the_acceptance_number_passes_but_for_the_defects(team_package):
    package, worker, lead = team_package
    delivery = execution.delivery_record(actor=worker, package=package, quantity=500)
    # Lot 500, level II → H: 50 sampled; AQL 2.5 → accept ≤ 3, reject ≥ 4.
    inspection = execution.inspection_record(
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
    assert (inspection.sample_size, inspection.accept_number, inspection.reject_number) == (
        50,
        3,
        4,
    )
    assert (inspection.quantity_passed, inspection.quantity_rejected) == (497, 3)
    charge = MemberCharge.objects.get()
    assert (charge.member, charge.amount_yen, charge.quantity, charge.kind) == (
        worker.company,
        3600,
        3,
        "inspection",
    )
    package.refresh_from_db()
    # Scrapped items are still owed: the member delivers 3 more.
    assert package.status == PackageStatus.INSPECTED and execution.outstanding(package) == 3


def test_sampled_lot_at_the_rejection_number_goes_back_whole(team_package):
    package, worker, lead = team_package
    delivery = execution.delivery_record(actor=worker, package=package, quantity=500)
    with pytest.raises(BrokerageError) as exc:
        execution.inspection_record(
            actor=lead,
            delivery=delivery,
            quantity_received=500,
            inspection_level="II",
            aql="2.5",
            defects_found=51,
        )
    assert exc.value.field == "defects_found"
    with pytest.raises(BrokerageError) as exc:
        execution.inspection_record(
            actor=lead, delivery=delivery, quantity_received=500, inspection_level="II", aql="3"
        )
    assert exc.value.field == "aql"
    inspection = execution.inspection_record(
        actor=lead,
        delivery=delivery,
        quantity_received=500,
        inspection_level="II",
        aql="2.5",
        defects_found=4,
        defect_reason="曇り",
        disposition="rework",
    )
    assert (inspection.result, inspection.quantity_passed, inspection.quantity_rejected) == (
        "rejected",
        0,
        500,
    )
    package.refresh_from_db()
    assert package.status == PackageStatus.RETURNED and execution.outstanding(package) == 500


def test_scrapping_needs_an_amount_and_is_not_charged_to_the_lead_itself(team_package):
    package, worker, lead = team_package
    delivery = execution.delivery_record(actor=worker, package=package, quantity=10)
    with pytest.raises(BrokerageError) as exc:
        execution.inspection_record(
            actor=lead,
            delivery=delivery,
            quantity_received=10,
            quantity_passed=9,
            defect_reason="割れ",
            disposition="charge",
        )
    assert exc.value.field == "charge_yen"
    assert not Inspection.objects.exists() and not MemberCharge.objects.exists()


def test_photos_must_be_images(team_package):
    package, worker, lead = team_package
    delivery = execution.delivery_record(actor=worker, package=package, quantity=10)
    pdf = SimpleUploadedFile(
        "x.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n", "application/pdf"
    )
    with pytest.raises(BrokerageError) as exc:
        execution.inspection_record(
            actor=lead,
            delivery=delivery,
            quantity_received=10,
            quantity_passed=9,
            defect_reason="割れ",
            disposition="rework",
            photos=[pdf],
        )
    assert exc.value.field == "photos"
    assert not Inspection.objects.exists()


# --- shipments to the buyer, acceptance and claims ------------------------------------------


def test_no_shipping_before_inspection(team_package, running_project):
    package, worker, lead = team_package
    execution.delivery_record(actor=worker, package=package, quantity=200)
    with pytest.raises(BrokerageError) as exc:
        execution.shipment_send(actor=lead, project=running_project, quantity=1)
    assert exc.value.field == "quantity" and "0" in str(exc.value)
    assert not Shipment.objects.exists()


def test_partial_deliveries_acceptance_and_a_traced_claim(
    team_package, running_project, buyer_user, secretariat_user
):
    package, worker, lead = team_package
    deliver_and_pass(package, worker, lead, 300)
    with pytest.raises(NotAllowed):
        execution.shipment_send(actor=worker, project=running_project, quantity=100)
    with pytest.raises(BrokerageError):
        execution.shipment_send(actor=lead, project=running_project, quantity=301)
    first = execution.shipment_send(
        actor=lead,
        project=running_project,
        quantity=300,
        packaging="個別袋＋段ボール",
        carrier="ヤマト運輸",
        tracking_number=" 1234-5678-9012 ",
    )
    assert first.tracking_number == "1234-5678-9012"
    running_project.refresh_from_db()
    assert running_project.status == ProjectStatus.IN_PROGRESS

    # The buyer claims 5 items of the first delivery; only the buyer (or the secretariat).
    with pytest.raises(NotAllowed):
        execution.claim_raise(actor=lead, shipment=first, quantity=5, description="キズ")
    with pytest.raises(BrokerageError) as exc:
        execution.claim_raise(actor=buyer_user, shipment=first, quantity=301, description="キズ")
    assert exc.value.field == "quantity"
    claim = execution.claim_raise(
        actor=buyer_user, shipment=first, quantity=5, description="鏡面にキズ", photos=[photo()]
    )
    execution.shipment_accept(actor=buyer_user, shipment=first)
    first.refresh_from_db()
    assert (first.status, first.accepted_quantity) == ("accepted", 295)
    with pytest.raises(InvalidTransition):
        execution.claim_raise(actor=buyer_user, shipment=first, quantity=1, description="追加")

    # The lead traces the claim to the member's package and charges it.
    with pytest.raises(NotAllowed):
        execution.claim_trace(actor=worker, claim=claim, package=package, charge_yen=6000)
    execution.claim_trace(actor=lead, claim=claim, package=package, charge_yen=6000)
    claim.refresh_from_db()
    assert (claim.status, claim.package, claim.package.member) == (
        "traced",
        package,
        worker.company,
    )
    assert MemberCharge.objects.get(kind="claim").amount_yen == 6000
    execution.claim_resolve(actor=lead, claim=claim, resolution="5個を再研磨して再納品")

    # The rest, plus the 5 replacements: 205 more are needed.
    deliver_and_pass(package, worker, lead, 200)
    with pytest.raises(BrokerageError) as exc:
        execution.shipment_send(actor=lead, project=running_project, quantity=201)
    assert "200" in str(exc.value)
    second = execution.shipment_send(actor=lead, project=running_project, quantity=200)
    assert execution.shippable(running_project) == 0
    running_project.refresh_from_db()
    assert running_project.status == ProjectStatus.IN_PROGRESS  # 295 + 200 < 500
    execution.shipment_accept(actor=secretariat_user, shipment=second)  # phoned in
    running_project.refresh_from_db()
    assert running_project.status == ProjectStatus.IN_PROGRESS
    assert not DomainEvent.objects.filter(kind="project.accepted").exists()


def test_the_project_is_accepted_when_accepted_goods_cover_the_order(
    team_package, running_project, buyer_user
):
    package, worker, lead = team_package
    deliver_and_pass(package, worker, lead, 500)
    a = execution.shipment_send(actor=lead, project=running_project, quantity=250)
    b = execution.shipment_send(actor=lead, project=running_project, quantity=250)
    running_project.refresh_from_db()
    assert running_project.status == ProjectStatus.DELIVERED
    execution.shipment_accept(actor=buyer_user, shipment=a)
    running_project.refresh_from_db()
    assert running_project.status == ProjectStatus.DELIVERED
    execution.shipment_accept(actor=buyer_user, shipment=b)
    execution.shipment_accept(actor=buyer_user, shipment=b)  # twice: no second event
    running_project.refresh_from_db()
    assert running_project.status == ProjectStatus.ACCEPTED
    assert running_project.accepted_at is not None
    assert DomainEvent.objects.filter(kind="project.accepted").count() == 1
    assert DomainEvent.objects.filter(kind="shipment.accepted").count() == 2
    with pytest.raises(InvalidTransition):
        execution.shipment_send(actor=lead, project=running_project, quantity=1)


def test_a_claim_is_traced_only_to_a_package_of_the_project(
    team_package, running_project, buyer_user
):
    package, worker, lead = team_package
    deliver_and_pass(package, worker, lead, 10)
    shipment = execution.shipment_send(actor=lead, project=running_project, quantity=10)
    claim = execution.claim_raise(actor=buyer_user, shipment=shipment, quantity=1, description="x")
    with pytest.raises(InvalidTransition):
        execution.claim_resolve(actor=lead, claim=claim, resolution="done")
    other = running_project.packages.create(
        process=package.process,
        material=package.material,
        quantity=1,
        unit_price_yen=1,
        due_date=package.due_date,
    )
    with pytest.raises(BrokerageError) as exc:
        execution.claim_trace(actor=lead, claim=claim, package=other)
    assert exc.value.field == "package"
    assert Claim.objects.get().status == "open"


def test_scarcest_process_bounds_what_can_be_shipped(team_package, running_project):
    package, worker, lead = team_package
    polish_process = ProcessFactory(code="electro", name_ja="電解研磨", name_en="Electropolishing")
    second = projects.package_add(
        actor=lead,
        project=running_project,
        process=polish_process,
        material=package.material,
        quantity=500,
        unit_price_yen=300,
        due_date=package.due_date,
    )
    projects.package_self_perform(actor=lead, package=second)
    second = projects.package_start(actor=lead, package=second)
    deliver_and_pass(package, worker, lead, 400)
    deliver_and_pass(second, lead, lead, 100)
    assert execution.shippable(running_project) == 100


# --- late packages --------------------------------------------------------------------------


def test_late_warnings_are_sent_once_before_and_once_after_the_due_date(team_package):
    package = team_package[0]
    due = package.due_date
    assert execution.packages_warn_due(today=due - datetime.timedelta(days=5)) == 0
    assert execution.packages_warn_due(today=due - datetime.timedelta(days=2)) == 1
    assert execution.packages_warn_due(today=due - datetime.timedelta(days=1)) == 0
    assert execution.packages_warn_due(today=due) == 0
    assert execution.packages_warn_due(today=due + datetime.timedelta(days=1)) == 1
    assert execution.packages_warn_due(today=due + datetime.timedelta(days=3)) == 0
    kinds = sorted(
        DomainEvent.objects.filter(kind__startswith="package.").values_list("kind", flat=True)
    )
    assert kinds == ["package.due_soon", "package.late"]


def test_accepted_packages_are_not_warned(team_package):
    package, worker, lead = team_package
    deliver_and_pass(package, worker, lead, 500)
    assert execution.packages_warn_due(today=package.due_date + datetime.timedelta(days=1)) == 0


def test_late_penalty_only_for_a_late_package(team_package):
    package, worker, lead = team_package
    with pytest.raises(InvalidTransition):
        execution.charge_late(actor=lead, package=package, amount_yen=5000, reason="遅延1日")
    type(package).objects.filter(pk=package.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    package.refresh_from_db()
    with pytest.raises(NotAllowed):
        execution.charge_late(actor=worker, package=package, amount_yen=5000, reason="x")
    charge = execution.charge_late(actor=lead, package=package, amount_yen=5000, reason="遅延1日")
    assert (charge.kind, charge.member) == ("late", worker.company)


def test_the_late_penalty_is_charged_once(team_package):
    package, _, lead = team_package
    type(package).objects.filter(pk=package.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    package.refresh_from_db()
    execution.charge_late(actor=lead, package=package, amount_yen=5000, reason="遅延1日")
    with pytest.raises(BrokerageError) as exc:
        execution.charge_late(actor=lead, package=package, amount_yen=5000, reason="again")
    assert exc.value.status_code == 409
    assert MemberCharge.objects.filter(kind="late").count() == 1
