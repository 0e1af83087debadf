"""One inquiry from the buyer's form to the award, through the pages, in a real browser:
buyer → secretariat (queue, match list, publish) → two lead companies apply → the scheduled
job closes the window → the secretariat confirms the proposed award → the buyer sees its lead
and offer, the other lead that it was not chosen, and everyone's inbox has the news."""

import pytest
from django.urls import reverse

from brokerage import notifications as notification_module
from brokerage.models import Notification
from core import events as event_module
from members.models import MembershipClass, StaffRole
from orders import services
from orders.models import Application, Inquiry, InquiryStatus
from tests.factories import (
    BuyerFactory,
    CapabilityFactory,
    CompanyFactory,
    CompanyUserFactory,
    MaterialFactory,
    MembershipFactory,
    NetworkFactory,
    NetworkStaffFactory,
    ProcessFactory,
)
from tests.helpers import dispatch_all, pass_deadline

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _no_worker(monkeypatch, settings, tmp_path):
    """No broker in this test: events stay undispatched until `dispatch_all()` runs them,
    and files go to a temporary media folder."""
    monkeypatch.setattr(event_module, "enqueue_dispatch", lambda ids: 0)
    monkeypatch.setattr(notification_module, "enqueue_delivery", lambda ids: 0)
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def people(transactional_db):
    buff = ProcessFactory(code="buff", name_ja="バフ研磨", name_en="Buff polishing")
    ProcessFactory(code="barrel", name_ja="バレル研磨", name_en="Barrel polishing")
    sus = MaterialFactory(code="sus", name_ja="ステンレス", name_en="Stainless steel")
    syndicate = NetworkFactory(
        name="磨き屋シンジケート", name_en="Migakiya Syndicate", slug="migakiya"
    )
    secretariat = NetworkStaffFactory(
        network=syndicate,
        role=StaffRole.SECRETARIAT,
        user__username="tsubame-cci",
        user__last_name="商工",
        user__first_name="花子",
    ).user
    buyer = BuyerFactory(
        user__username="kitchen-buyer",
        name="佐藤 一郎",
        organisation="株式会社キッチン工房",
    ).user
    leads = []
    for username, name in (("lead-a", "株式会社燕バフ"), ("lead-b", "有限会社三条研磨")):
        user = CompanyUserFactory(username=username, company__legal_name=name)
        MembershipFactory(
            network=syndicate, company=user.company, membership_class=MembershipClass.LEAD
        )
        CapabilityFactory(company=user.company, process=buff, material=sus)
        leads.append(user)
    teammate = CompanyFactory(legal_name="有限会社ミガキ工房")
    MembershipFactory(network=syndicate, company=teammate)
    CapabilityFactory(company=teammate, process=buff, material=sus, spare_capacity_per_month=50)
    return {
        "network": syndicate,
        "secretariat": secretariat,
        "buyer": buyer,
        "lead_a": leads[0],
        "lead_b": leads[1],
        "teammate": teammate,
    }


def apply_through_the_board(page, log_in, lead, *, price, days, team=None, shot=None):
    log_in(lead)
    page.click("nav.main-nav >> text=募集中の案件")
    row = page.locator("table.board tbody tr").first
    assert "タンブラー" in row.inner_text()
    row.locator("a:has-text('応募する')").click()
    assert "貴社の応募内容" not in page.content()
    if shot:
        shot()
    page.fill("#id_price_yen", price)
    page.fill("#id_lead_time_days", days)
    if team is not None:
        page.check(f"input[name=proposed_team][value='{team.pk}']")
    page.fill("#id_notes", "自社の自動バフ機で対応します。")
    page.click("form button[type=submit]:has-text('応募する')")
    assert "応募しました" in page.locator(".message.success").inner_text()


def test_one_inquiry_from_the_form_to_the_award(page, log_in, screenshot, people, tmp_path):
    buyer, secretariat = people["buyer"], people["secretariat"]
    lead_a, lead_b = people["lead_a"], people["lead_b"]
    drawing = tmp_path / "タンブラー図面.pdf"
    drawing.write_bytes(PDF)

    # 1. The buyer sends the inquiry with its drawing.
    log_in(buyer)
    page.click("nav.main-nav >> text=新規引き合い")
    page.fill("#id_title", "ステンレス製タンブラーの鏡面研磨")
    page.fill("#id_description", "SUS304 のタンブラー。外側を鏡面に仕上げたい。")
    page.select_option("#id_material", label="ステンレス")
    page.get_by_label("バフ研磨").check()
    page.check("input[name=finish_kind][value=grit]")
    page.fill("#id_finish_grit", "400")
    page.fill("#id_quantity", "300")
    page.fill("#id_length_mm", "90")
    page.fill("#id_width_mm", "90")
    page.fill("#id_height_mm", "150")
    page.fill("#id_weight_kg", "0.4")
    page.fill("#id_desired_delivery_date", "2099-03-31")
    page.select_option("#id_delivery_prefecture", value="13")
    page.fill("#id_delivery_city", "大田区")
    page.fill("#id_budget_yen", "1500000")
    page.set_input_files("#id_files", str(drawing))
    screenshot("2x_01_buyer_form")
    page.click("button:has-text('引き合いを送信する')")
    assert "を送信しました" in page.locator(".message.success").inner_text()
    inquiry = Inquiry.objects.get()
    assert page.locator("h1 small").inner_text() == inquiry.reference
    assert "タンブラー図面.pdf" in page.locator(".attachments").inner_text()
    screenshot("2x_02_buyer_inquiry_received")

    # 2. The secretariat finds it in its queue, reads the match list and publishes.
    log_in(secretariat)
    page.click("nav.main-nav >> text=引き合い一覧")
    assert inquiry.title in page.locator("table.queue tbody").inner_text()
    screenshot("2x_02b_queue")
    page.click(f"text={inquiry.reference}")
    page.click("nav.page-nav >> text=対応可能な会員")
    matches = page.locator("#matches table tbody")
    for name in ("株式会社燕バフ", "有限会社三条研磨", "有限会社ミガキ工房"):
        assert name in matches.inner_text()
    assert page.locator("#matches .no-mark").count() >= 1  # the small shop lacks capacity
    screenshot("2x_03_staff_inquiry")
    with page.expect_download() as download:
        page.click(".attachments a")
    assert download.value.suggested_filename == "タンブラー図面.pdf"
    page.click("#publish button:has-text('公開する')")
    assert "引き合いを公開し" in page.locator(".message.success").inner_text()
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.OPEN

    # 3. Two lead companies apply through their board; prices stay sealed.
    apply_through_the_board(
        page,
        log_in,
        lead_a,
        price="1,200,000",
        days="30",
        team=people["teammate"],
        shot=lambda: screenshot("2x_04_lead_call"),
    )
    screenshot("2x_04b_lead_call_applied")
    apply_through_the_board(page, log_in, lead_b, price="1380000", days="21")
    assert "1,200,000" not in page.content()
    log_in(secretariat)
    page.goto(reverse("inquiry_detail", args=[inquiry.pk]))
    assert page.locator("#applications .sealed").count() == 2

    # 4. The deadline passes; the scheduled job closes the window and proposes the lead.
    pass_deadline(inquiry)
    assert services.inquiries_close_due() == 1

    # 5. The secretariat reads the proposal and its breakdown, and confirms.
    page.reload()
    rows = page.locator("table.breakdown tbody tr")
    assert rows.count() == 2
    assert "株式会社燕バフ" in rows.nth(0).inner_text()
    assert "¥1,200,000" in rows.nth(0).inner_text()
    assert "¥1,380,000" in rows.nth(1).inner_text()
    screenshot("2x_05_award_proposal")
    page.click("#confirm button:has-text('受注決定を確定する')")
    assert "受注決定を確定しました" in page.locator(".message.success").inner_text()

    # 6. The buyer sees the chosen lead and its offer.
    log_in(buyer)
    page.click("nav.main-nav >> text=自分の引き合い")
    page.click(f"text={inquiry.reference}")
    offer = page.locator(".next-step").inner_text()
    assert "株式会社燕バフ" in offer
    assert "¥1,200,000" in offer
    assert "30日" in offer
    assert "有限会社三条研磨" not in page.content()
    screenshot("2x_06_buyer_award")

    # 7. The other lead sees it was not chosen.
    log_in(lead_b)
    page.click("nav.main-nav >> text=自社の応募")
    assert "選ばれず" in page.locator("table.data tbody").inner_text()
    page.click(f"text={inquiry.reference}")
    assert "今回は選ばれませんでした" in page.locator(".next-step").inner_text()

    # 8. The events become notifications; the inbox shows them, unread first in bold.
    assert dispatch_all() > 0
    expected = list(Notification.objects.filter(recipient=buyer).values_list("subject", flat=True))
    assert len(expected) == 3  # received, published, awarded
    log_in(buyer)
    page.click("nav.main-nav >> text=通知")
    assert page.locator("nav.main-nav .count-badge").inner_text() == "3"
    items = page.locator("ul.inbox li.notification.unread")
    assert items.count() == 3
    assert items.first.locator(".notification-subject").inner_text().endswith(expected[0])
    screenshot("2x_07_buyer_inbox")
    items.first.locator("button:has-text('開く')").click()
    assert page.url.endswith(reverse("inquiry_detail", args=[inquiry.pk]))
    assert page.locator("nav.main-nav .count-badge").inner_text() == "2"

    log_in(lead_a)
    page.click("nav.main-nav >> text=通知")
    won = Notification.objects.get(recipient=lead_a, kind="award.confirmed")
    assert won.subject in page.locator("ul.inbox").inner_text()
    assert page.locator("ul.inbox li.notification").count() == 2  # the call, the award
    assert Application.objects.get(company=lead_a.company).price_yen == 1_200_000
