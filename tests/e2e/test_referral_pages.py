"""The referral path in a real browser: the secretariat refers an inquiry no member can
serve, sees the ranked candidates with their reasons and sends it to one with one click; the
non-member answers through its signed link (no account, confidential details withheld) and
accepts; the buyer's inbox names the company and how to reach it. Also the service-level
view with an overdue inquiry in red, and a tampered link."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from brokerage import notifications as notification_module
from brokerage import referral as referral_module
from brokerage.models import OfferStatus, Referral, ReferralStatus
from core import events as event_module
from members.models import StaffRole
from orders import services
from tests.factories import (
    BuyerFactory,
    CapabilityFactory,
    CompanyFactory,
    DirectoryEntryFactory,
    MaterialFactory,
    NetworkFactory,
    NetworkStaffFactory,
    ProcessFactory,
)
from tests.helpers import dispatch_all

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_worker(monkeypatch):
    """No broker: events wait for `dispatch_all()`; e-mails are not queued."""
    monkeypatch.setattr(event_module, "enqueue_dispatch", lambda ids: 0)
    monkeypatch.setattr(notification_module, "enqueue_delivery", lambda ids: 0)
    monkeypatch.setattr(referral_module, "enqueue_offer_emails", lambda ids: 0)


@pytest.fixture
def world(transactional_db):
    lapping = ProcessFactory(code="lapping", name_ja="ラップ研磨", name_en="Lapping")
    steel = MaterialFactory(code="steel", name_ja="鉄鋼", name_en="Steel")
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
        user__username="gauge-buyer", name="山本 一郎", organisation="株式会社極秘精機"
    ).user
    companies = {}
    for name, prefecture, lat, lon in (
        ("株式会社中部ラップテック", "23", "35.170000", "136.880000"),
        ("株式会社川崎ラップ", "14", "35.530000", "139.700000"),
    ):
        company = CompanyFactory(
            legal_name=name,
            prefecture=prefecture,
            latitude=lat,
            longitude=lon,
            phone="052-123-4567",
            email=f"info{prefecture}@example.jp",
        )
        DirectoryEntryFactory(network=syndicate, company=company)
        CapabilityFactory(company=company, process=lapping, material=steel)
        companies[name] = company
    inquiry = services.inquiry_submit(
        actor=buyer,
        network=syndicate,
        data={
            "title": "ゲージ部品のラップ仕上げ",
            "description": "極秘: 新型測定器のゲージ",
            "material": steel,
            "processes": [lapping],
            "finish_kind": "ra",
            "finish_ra_input": Decimal("0.2"),
            "quantity": 50,
            "length_mm": 100,
            "width_mm": 50,
            "height_mm": 20,
            "weight_kg": "0.5",
            "desired_delivery_date": timezone.localdate() + datetime.timedelta(days=60),
            "delivery_prefecture": "13",
            "nda_required": True,
        },
    )
    dispatch_all()
    return {
        "network": syndicate,
        "secretariat": secretariat,
        "buyer": buyer,
        "inquiry": inquiry,
        "companies": companies,
    }


def test_refer_send_accept_and_the_buyer_learns_whom_to_contact(page, log_in, screenshot, world):
    inquiry, secretariat, buyer = world["inquiry"], world["secretariat"], world["buyer"]

    # 1. The secretariat refers the inquiry (nobody laps); the referral job ranks candidates.
    services.inquiry_refer(
        actor=secretariat,
        inquiry=inquiry,
        reason="会員にラップ研磨の対応企業がないため、専門企業をご紹介します。",
        category="process",
    )
    dispatch_all()
    referral = Referral.objects.get(inquiry=inquiry)
    assert referral.status == ReferralStatus.AWAITING_CONFIRMATION

    log_in(secretariat)
    page.goto(reverse("referral_list"))
    assert inquiry.reference in page.locator("table.referrals").inner_text()
    screenshot("4r_01_referral_list")
    page.click(f"text={inquiry.reference}")
    rows = page.locator("table.candidates tbody tr")
    assert rows.count() == 2
    assert "株式会社川崎ラップ" in rows.nth(0).inner_text()  # nearest to Tokyo
    assert "株式会社中部ラップテック" in rows.nth(1).inner_text()
    assert "紹介への同意あり" in rows.nth(0).inner_text()
    assert " km" in rows.nth(0).inner_text()
    screenshot("4r_02_referral_screen")

    # 2. One click: send it to the second candidate.
    rows.nth(1).locator("button:has-text('この候補に送る')").click()
    assert (
        "株式会社中部ラップテック に紹介を送りました"
        in page.locator(".message.success").inner_text()
    )
    offer = referral.offers.get(company=world["companies"]["株式会社中部ラップテック"])
    assert offer.status == OfferStatus.OFFERED
    screenshot("4r_03_referral_sent")

    # 3. The non-member opens its signed link in a fresh browser: no account needed, NDA kept.
    page.context.clear_cookies()
    page.goto(reverse("referral_respond", args=[referral_module.referral_response_token(offer)]))
    body = page.locator("main").inner_text()
    assert "ゲージ部品のラップ仕上げ" in body
    assert "極秘" not in body
    assert "株式会社極秘精機" not in body
    screenshot("4r_04_target_page")
    page.click("button:has-text('受諾する')")
    assert "受諾されました" in page.locator(".message.success").inner_text()
    screenshot("4r_05_target_accepted")
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED

    # 4. The buyer's inbox names the company with its phone and e-mail.
    dispatch_all()
    log_in(buyer)
    page.goto(reverse("inbox"))
    inbox = page.locator("ul.inbox").inner_text()
    assert "株式会社中部ラップテック" in inbox
    assert "052-123-4567" in inbox
    assert "info23@example.jp" in inbox
    screenshot("4r_06_buyer_inbox")


def test_tampered_link_shows_a_clear_message(page, world):
    page.goto(reverse("referral_respond", args=["not-a-valid-token"]))
    assert "リンクは不完全か、変更されています" in page.locator("main").inner_text()


def test_service_level_view_shows_the_overdue_inquiry_in_red(page, log_in, screenshot, world):
    network = world["network"]
    network.sla_working_days = 2
    network.save()
    log_in(world["secretariat"])
    with time_machine.travel(timezone.now() + datetime.timedelta(days=10)):
        page.goto(reverse("service_level"))
        row = page.locator("table.service-level tbody tr").first
        assert world["inquiry"].reference in row.inner_text()
        assert "営業日超過" in row.inner_text()
        assert "overdue" in row.get_attribute("class")
        screenshot("4r_07_service_level")
