"""A visitor without an account sends an inquiry through the guest form in a real browser:
the honeypot is out of sight and out of the tab order, a person's submission is saved (not
taken for a bot), the e-mail goes out after commit, and the link creates the inquiry."""

import re

import pytest
from django.core import mail

from orders import guests
from orders.models import GuestInquiryRequest, Inquiry
from tests.factories import MaterialFactory, NetworkFactory, ProcessFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_worker(monkeypatch):
    """No broker here: the e-mail is sent below by calling what the task calls."""
    monkeypatch.setattr(guests, "enqueue_guest_emails", lambda ids: 0)


@pytest.fixture
def catalogue(transactional_db):
    ProcessFactory(code="buff", name_ja="バフ研磨", name_en="Buff polishing")
    MaterialFactory(code="sus", name_ja="ステンレス", name_en="Stainless steel")
    return NetworkFactory(name="磨き屋シンジケート", name_en="Migakiya Syndicate", slug="migakiya")


def test_a_visitor_sends_and_confirms_a_guest_inquiry(page, catalogue, live_server, screenshot):
    page.goto("/inquiries/guest/")

    trap = page.locator("#id_buyer-website")
    box = trap.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 0  # off-screen, by the class
    assert trap.get_attribute("tabindex") == "-1"
    page.focus("#id_buyer-phone")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") != "id_buyer-website"

    screenshot("guest-form")
    page.check("input[name=buyer-kind][value=individual]")
    page.fill("#id_buyer-name", "燕 花子")
    page.fill("#id_buyer-email", "hanako@example.jp")
    page.fill("#id_title", "ステンレス製タンブラーの鏡面研磨")
    page.fill("#id_description", "SUS304 のタンブラー。外側を鏡面に。")
    page.select_option("#id_material", label="ステンレス")
    page.get_by_label("バフ研磨").check()
    page.fill("#id_quantity", "300")
    page.fill("#id_length_mm", "90")
    page.fill("#id_width_mm", "90")
    page.fill("#id_height_mm", "150")
    page.fill("#id_weight_kg", "0.4")
    page.fill("#id_desired_delivery_date", "2099-03-31")
    page.select_option("#id_delivery_prefecture", value="13")
    page.click("button:has-text('確認用のリンクを送ってもらう')")
    page.wait_for_selector("h1:has-text('メールをご確認ください')")
    screenshot("guest-sent")

    guest = GuestInquiryRequest.objects.get()
    assert (guest.email, guest.status) == ("hanako@example.jp", "pending")
    assert mail.outbox == []
    assert guests.guest_inquiry_email_send(request_id=guest.pk) is True
    (message,) = mail.outbox
    assert message.subject == f"【磨き屋シンジケート】お問い合わせ内容のご確認 ({guest.reference})"

    path = re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)
    page.goto(path)
    page.click("button:has-text('引き合いを送信する')")
    inquiry = Inquiry.objects.get()
    page.wait_for_url(f"**/inquiries/{inquiry.pk}/")
    assert inquiry.title == "ステンレス製タンブラーの鏡面研磨"
    guest.refresh_from_db()
    assert guest.inquiry == inquiry
