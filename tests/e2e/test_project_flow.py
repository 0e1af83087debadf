"""One project from the award to the buyer's acceptance, through the pages, in a real browser:
the lead opens the project, adds a package and invites a member from the suggestions → the
member accepts → both accept the agreement → the member starts and delivers → the lead
inspects by ISO 2859-1 sampling (the sample size appears) and ships with a tracking number →
the buyer accepts (検収). Screenshots of the board, the inspection form and the buyer's page
go to /tmp/shots/.

The steps find their buttons by address and name, not by their words, so the walk holds in
either language."""

import datetime
import os
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from brokerage import notifications as notification_module
from core import events as event_module
from members.models import MembershipClass, StaffRole
from orders import sampling
from orders.models import (
    Agreement,
    Inspection,
    Invitation,
    PackageStatus,
    Project,
    ProjectStatus,
    Shipment,
    WorkPackage,
)
from tests import scenarios
from tests.factories import (
    BuyerFactory,
    CapabilityFactory,
    CompanyUserFactory,
    MaterialFactory,
    MembershipFactory,
    NetworkFactory,
    NetworkStaffFactory,
    ProcessFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Screenshots to look at after a run (not artefacts of the test).
SHOTS = Path(os.environ.get("PROJECT_SHOTS", "/tmp/shots"))  # noqa: S108


@pytest.fixture(autouse=True)
def _no_worker(monkeypatch, settings, tmp_path):
    """No broker: events stay undispatched; files go to a temporary media folder."""
    monkeypatch.setattr(event_module, "enqueue_dispatch", lambda ids: 0)
    monkeypatch.setattr(notification_module, "enqueue_delivery", lambda ids: 0)
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def shot(page):
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def awarded(transactional_db):
    """An inquiry of 500 tumblers awarded to 株式会社燕バフ; a joint-order member that buffs
    stainless; the buyer and the secretariat."""
    buff = ProcessFactory(code="buff", name_ja="バフ研磨", name_en="Buff polishing")
    sus = MaterialFactory(code="sus", name_ja="ステンレス", name_en="Stainless steel")
    network = NetworkFactory(name="磨き屋シンジケート", name_en="Migakiya Syndicate")
    secretariat = NetworkStaffFactory(network=network, role=StaffRole.SECRETARIAT).user
    buyer = BuyerFactory(
        user__username="kitchen-buyer", name="佐藤 一郎", organisation="株式会社キッチン工房"
    ).user
    lead = CompanyUserFactory(username="lead", company__legal_name="株式会社燕バフ")
    MembershipFactory(network=network, company=lead.company, membership_class=MembershipClass.LEAD)
    CapabilityFactory(company=lead.company, process=buff, material=sus)
    worker = CompanyUserFactory(username="member", company__legal_name="有限会社ミガキ工房")
    MembershipFactory(network=network, company=worker.company)
    CapabilityFactory(
        company=worker.company, process=buff, material=sus, spare_capacity_per_month=800
    )
    inquiry = scenarios.awarded_inquiry(
        lead=lead,
        price_yen=1_200_000,
        lead_time_days=30,
        network=network,
        secretariat=secretariat,
        buyer=buyer,
        process=buff,
        material=sus,
        description="SUS304 タンブラー 500個、外側を鏡面に",
    ).inquiry
    return {"inquiry": inquiry, "lead": lead, "worker": worker, "buyer": buyer}


def success_message(page) -> str:
    return page.locator(".message.success").first.inner_text()


def test_a_project_from_the_award_to_the_buyers_acceptance(page, log_in, shot, awarded):
    inquiry, lead, worker, buyer = (
        awarded["inquiry"],
        awarded["lead"],
        awarded["worker"],
        awarded["buyer"],
    )

    # 1. The lead finds the won order under 「プロジェクト」 and opens the project.
    log_in(lead)
    page.click(f"nav.main-nav a[href='{reverse('project_list')}']")
    page.click(f"a[href='{reverse('project_open', args=[inquiry.pk])}']")
    assert page.locator("#id_order_value_yen").input_value() == "1,200,000"
    page.select_option("#id_payment_closing_day", value="31")
    page.select_option("#id_payment_month_offset", value="1")
    page.select_option("#id_payment_day", value="31")
    page.check("#id_share_buyer_identity")
    shot("5_01_project_open")
    page.click("form.form button[type=submit].primary")
    project = Project.objects.get()
    assert page.url.endswith(reverse("project_board", args=[project.pk]) + "#add-package")

    # 2. It adds one package (process and material come from the inquiry).
    due = timezone.localdate() + datetime.timedelta(days=40)
    page.fill("#id_package-unit_price_yen", "1,200")
    page.fill("#id_package-due_date", due.isoformat())
    page.fill("#id_package-packaging", "1個ずつ袋詰め、20個で1箱")
    page.fill("#id_package-inspection_criteria", "30cm で目視してキズ・くもりがないこと")
    page.click(f"form[action='{reverse('package_add', args=[project.pk])}'] button[type=submit]")
    assert success_message(page)
    package = WorkPackage.objects.get()
    assert (package.quantity, package.unit_price_yen) == (500, 1200)

    # 3. The member is suggested with its capacity; the lead invites it.
    invite = page.locator(
        f"button[name='invite-{package.pk}-company'][value='{worker.company.pk}']"
    )
    assert (
        "有限会社ミガキ工房"
        in page.locator(f"#package-{package.pk} table.suggestions").inner_text()
    )
    shot("5_01b_board_suggestions")
    invite.click()
    assert success_message(page)
    invitation = Invitation.objects.get()

    # 4. The member reads the request under 「担当作業」 and accepts it, then the agreement.
    log_in(worker)
    page.click(f"nav.main-nav a[href='{reverse('my_work')}']")
    request = page.locator(f"#invitation-{invitation.pk}").inner_text()
    assert "株式会社燕バフ" in request and "¥1,200" in request
    assert "株式会社キッチン工房" in request  # the lead shares the buyer's name
    shot("5_02_member_invitation")
    page.click(f"button[name='respond-{invitation.pk}-decision'][value='accept']")
    assert page.url.endswith(reverse("work_package", args=[package.pk]))
    page.click("form.accept-agreement button")
    agreement = Agreement.objects.get()
    assert agreement.member_accepted_by == worker

    # 5. The lead accepts the agreement on its board: the package is ready.
    log_in(lead)
    page.goto(reverse("project_board", args=[project.pk]))
    page.locator(f"#package-{package.pk} form.accept-agreement button").click()
    package.refresh_from_db()
    assert package.status == PackageStatus.READY

    # 6. The member starts and delivers all 500.
    log_in(worker)
    page.goto(reverse("work_package", args=[package.pk]))
    page.click(f"form[action='{reverse('package_start', args=[package.pk])}'] button")
    assert success_message(page)
    page.fill("#id_deliver-quantity", "500")
    page.fill("#id_deliver-note", "25箱、ヤマト運輸で発送")
    page.click(f"form[action='{reverse('delivery_record', args=[package.pk])}'] button")
    assert success_message(page)
    shot("5_03_member_work")

    # 7. The lead sees the delivery awaiting inspection on the board and opens the form.
    log_in(lead)
    page.goto(reverse("project_board", args=[project.pk]))
    shot("5_04_board_awaiting_inspection")
    delivery = package.deliveries.get()
    page.locator(
        f"a.button[href='{reverse('delivery_inspect', args=[delivery.pk])}']"
    ).first.click()
    default = sampling.plan(500, "II", "1.0")
    assert page.locator(".plan-sample strong").inner_text() == str(default.sample_size)
    page.select_option("#id_inspection_level", value="III")
    page.click("button[name=work_out]")
    tightened = sampling.plan(500, "III", "1.0")
    assert page.locator(".plan-sample strong").inner_text() == str(tightened.sample_size)
    assert page.locator("#id_inspection_level").input_value() == "III"
    assert not Inspection.objects.exists()
    page.fill("#id_defects_found", "0")
    shot("5_05_inspection_form")
    page.click("button[name=save]")
    inspection = Inspection.objects.get()
    assert (inspection.sample_size, inspection.quantity_passed) == (tightened.sample_size, 500)
    assert page.locator("#result").is_visible()
    shot("5_06_inspection_result")

    # 8. It ships the 500 to the buyer with the tracking number.
    page.goto(reverse("project_board", args=[project.pk]) + "#shipments")
    assert page.locator("#shipments .shippable strong").inner_text() == "500"
    page.fill("#id_ship-quantity", "500")
    page.fill("#id_ship-packaging", "20個入り 25箱")
    page.fill("#id_ship-carrier", "ヤマト運輸")
    page.fill("#id_ship-tracking_number", "4321-5678-9012")
    page.click(f"form[action='{reverse('shipment_send', args=[project.pk])}'] button")
    assert success_message(page)
    shot("5_07_board_shipped")

    # 9. The buyer finds the delivery under 「納品・検収」 and accepts it.
    log_in(buyer)
    page.click(f"nav.main-nav a[href='{reverse('buyer_projects')}']")
    page.click(f"a[href='{reverse('project_delivery', args=[project.pk])}'] >> nth=0")
    shipment = Shipment.objects.get()
    assert "4321-5678-9012" in page.locator(f"#shipment-{shipment.pk}").inner_text()
    shot("5_08_buyer_delivery")
    page.click(f"form[action='{reverse('shipment_accept', args=[shipment.pk])}'] button")
    assert success_message(page)
    shot("5_09_buyer_accepted")
    project.refresh_from_db()
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.ACCEPTED and shipment.accepted_by == buyer
    assert project.status == ProjectStatus.ACCEPTED
