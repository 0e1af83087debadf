"""Who is told what while a project runs (dispatch of the execution events)."""

import datetime

from brokerage.models import Notification
from orders import execution
from tests.helpers import dispatch_all
from tests.orders.test_execution import deliver_and_pass


def notices(user):
    return list(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_each_party_hears_its_part(team_package, running_project, buyer_user, secretariat_user):
    package, worker, lead = team_package
    dispatch_all()
    Notification.objects.all().delete()

    standard = execution.standard_attach(actor=lead, package=package, title="手順", note="n")
    execution.standard_confirm(actor=worker, standard=standard)
    delivery = execution.delivery_record(actor=worker, package=package, quantity=500)
    execution.inspection_record(
        actor=lead,
        delivery=delivery,
        quantity_received=500,
        quantity_passed=499,
        defect_reason="キズ",
        disposition="rework",
    )
    deliver_and_pass(package, worker, lead, 1)
    shipment = execution.shipment_send(
        actor=lead, project=running_project, quantity=500, tracking_number="9988"
    )
    execution.shipment_accept(actor=buyer_user, shipment=shipment)
    dispatch_all()

    assert sorted(notices(worker)) == sorted(
        ["standard.attached", "inspection.recorded", "inspection.recorded", "project.accepted"]
    )
    assert sorted(notices(lead)) == sorted(
        ["delivery.shipped", "delivery.shipped", "shipment.accepted", "project.accepted"]
    )
    assert notices(buyer_user) == ["shipment.sent"]
    assert notices(secretariat_user) == ["project.accepted"]
    sent = Notification.objects.get(recipient=buyer_user)
    assert "9988" in sent.body
    # The member hears the inspection result with the reason, never who the buyer is.
    bodies = Notification.objects.filter(recipient=worker, kind="inspection.recorded")
    assert any("キズ" in n.body for n in bodies)
    for note in Notification.objects.filter(recipient=worker):
        assert running_project.inquiry.buyer.name not in note.body + note.subject


def test_late_warning_reaches_member_and_lead_once(team_package):
    package, worker, lead = team_package
    dispatch_all()
    Notification.objects.all().delete()
    late_day = package.due_date + datetime.timedelta(days=1)
    execution.packages_warn_due(today=late_day)
    execution.packages_warn_due(today=late_day)
    dispatch_all()
    dispatch_all()
    assert notices(worker) == ["package.late"] and notices(lead) == ["package.late"]


def test_a_claim_reaches_lead_and_secretariat_and_its_trace_the_member(
    team_package, running_project, buyer_user, secretariat_user
):
    package, worker, lead = team_package
    deliver_and_pass(package, worker, lead, 10)
    shipment = execution.shipment_send(actor=lead, project=running_project, quantity=10)
    claim = execution.claim_raise(
        actor=buyer_user, shipment=shipment, quantity=2, description="変色"
    )
    dispatch_all()
    assert "claim.raised" in notices(lead) and "claim.raised" in notices(secretariat_user)
    execution.claim_trace(actor=lead, claim=claim, package=package, charge_yen=2400)
    dispatch_all()
    traced = Notification.objects.get(recipient=worker, kind="claim.traced")
    assert "2400" in traced.body and "変色" in traced.body
