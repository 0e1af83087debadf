"""Two-factor sign-in in a real browser on a phone-sized screen (390 px), as a clerk of a
network that requires it would meet it: sent to enrolment after the password, enrolled with
the authenticator's code, shown the backup codes once; next time asked for the code, a wrong
one refused on its field, a backup code accepted. No page is wider than the screen."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from members.models import StaffRole
from tests.e2e.conftest import FACTORY_PASSWORD
from tests.factories import NetworkFactory, NetworkStaffFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server):
    def open_page():
        context = browser.new_context(
            base_url=live_server.url, viewport=PHONE, locale="ja-JP", timezone_id="Asia/Tokyo"
        )
        context.set_default_timeout(10_000)
        return context.new_page()

    return open_page


def _fits(page) -> bool:
    """Nothing wider than the phone (a wide table scrolls inside its own frame)."""
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _password(page, user):
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", FACTORY_PASSWORD)
    page.click("form.form button[type=submit]")


def test_a_clerk_enrols_and_signs_in_with_a_code_on_a_phone(phone, live_server):
    network = NetworkFactory(two_factor_required_for_staff=True)
    clerk = NetworkStaffFactory(network=network, role=StaffRole.SECRETARIAT).user

    page = phone()
    _password(page, clerk)
    page.wait_for_url("**/account/two-factor/setup/**")
    assert _fits(page)
    assert page.locator("svg").first.is_visible()  # the QR code
    page.goto("/inquiries/")  # nothing else is reachable before enrolment
    page.wait_for_url("**/account/two-factor/setup/**")

    device = TOTPDevice.objects.get(user=clerk, confirmed=False)
    page.fill("#id_code", f"{totp(device.bin_key):06d}")
    page.click("form.form button[type=submit]")
    page.wait_for_selector("ul.backup-codes")
    assert _fits(page)
    codes = page.locator("ul.backup-codes code").all_inner_texts()
    assert len(codes) == 10
    page.click("a.button.primary")
    page.goto("/inquiries/")
    assert "/account/two-factor/" not in page.url and "/login" not in page.url
    page.context.close()

    # Another day, another browser: the password alone does not sign in.
    page = phone()
    _password(page, clerk)
    page.wait_for_url("**/login/code/**")
    assert _fits(page)
    page.fill("#id_code", "000000")
    page.click("form.form button[type=submit]")
    error = page.locator("#id_code").locator("xpath=..").get_by_text("確認コードが正しくありません")
    assert error.is_visible()
    page.fill("#id_code", codes[0])
    page.click("form.form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url
    page.goto("/inquiries/")
    assert "/login" not in page.url and "/account/two-factor/" not in page.url
    page.context.close()


def test_the_call_window_on_a_phone_extend_refuse_a_pull_in_decline(
    phone, live_server, secretariat_user, make_lead, submitted, monkeypatch
):
    """The secretariat extends a call's deadline from the inquiry page; an earlier time is
    refused on its field and changes nothing; a called lead declines the call."""
    import datetime

    from django.utils import timezone

    from core import events as event_module
    from orders import services
    from orders.models import DeadlineExtension, LeadCall

    monkeypatch.setattr(event_module, "enqueue_dispatch", lambda ids: 0)  # no broker here
    lead = make_lead()
    call = services.inquiry_publish(actor=secretariat_user, inquiry=submitted)
    current = call.application_deadline

    def local(moment):
        return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")

    page = phone()
    _password(page, secretariat_user)
    page.goto(f"/inquiries/{call.pk}/#deadline")
    form = page.locator("#deadline form")
    form.locator("input[name='deadline-deadline']").fill(
        local(current - datetime.timedelta(hours=2))
    )
    form.locator("textarea[name='deadline-reason']").fill("図面の差し替え")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("text=公開済みの締切は延長しかできません")
    assert _fits(page)
    call.refresh_from_db()
    assert call.application_deadline == current
    assert not DeadlineExtension.objects.exists()

    page.goto(f"/inquiries/{call.pk}/#deadline")
    form = page.locator("#deadline form")
    form.locator("input[name='deadline-deadline']").fill(
        local(current + datetime.timedelta(days=3))
    )
    form.locator("textarea[name='deadline-reason']").fill("図面の差し替えのため")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("text=締切を延長しました")
    assert DeadlineExtension.objects.get().reason == "図面の差し替えのため"
    page.context.close()

    page = phone()
    _password(page, lead)
    page.goto(f"/calls/{call.pk}/")
    page.click("#decline summary")
    page.fill("#decline textarea", "今月は設備が埋まっています")
    page.click("#decline button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert _fits(page)
    assert LeadCall.objects.get(inquiry=call, company=lead.company).declined_at is not None
    page.context.close()
