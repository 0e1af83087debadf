"""The Content-Security-Policy in a real browser: Swagger UI and Redoc render the API under
it, and the main pages of every role (login, homes, inquiry pages, the record dashboard's
SVG charts, the admin) report no violation in the console."""

import pytest
from django.urls import reverse

from brokerage import notifications as notification_module
from brokerage import referral as referral_module
from core import events as event_module
from members.models import StaffRole
from tests.brokerage.record_history import build_history
from tests.factories import NetworkFactory, NetworkStaffFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FY = "from=2026-04-01&to=2027-03-31"


@pytest.fixture(autouse=True)
def _no_worker(monkeypatch):
    """No broker: events and e-mails stay in their tables."""
    monkeypatch.setattr(event_module, "enqueue_dispatch", lambda ids: 0)
    monkeypatch.setattr(notification_module, "enqueue_delivery", lambda ids: 0)
    monkeypatch.setattr(referral_module, "enqueue_offer_emails", lambda ids: 0)


@pytest.fixture
def violations(page):
    """Console messages and page errors about the policy, collected while the test runs."""
    found = []

    def on_console(message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            found.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: found.append(f"{page.url}: page error {error}"))
    return found


@pytest.fixture
def history(transactional_db):
    network = NetworkFactory(
        name="磨き屋シンジケート", name_en="Migakiya Syndicate", slug="migakiya"
    )
    history = build_history(network)
    NetworkStaffFactory(network=network, role=StaffRole.COMMITTEE)
    return history


def test_swagger_ui_renders_the_operations_under_the_policy(page, violations, screenshot):
    response = page.goto("/api/docs/")
    assert "'nonce-" in response.headers["content-security-policy"]
    operations = page.locator(".opblock")
    operations.first.wait_for()
    assert operations.count() > 20
    assert page.locator(".opblock-summary-path", has_text="/api/v1/inquiries/").count() >= 1
    page.locator(".opblock-summary", has_text="/api/v1/inquiries/").first.click()
    page.locator(".opblock-body").first.wait_for()  # its parameters and responses open
    screenshot("csp-swagger-ui")
    assert violations == []


def test_redoc_renders_the_api_under_the_policy(page, violations):
    page.goto("/api/redoc/")
    page.locator("h1", has_text="Joint-order brokerage API").wait_for(timeout=60_000)
    assert page.locator("[data-section-id^='operation/']").count() > 20
    page.locator("[role=search] input").fill("inquiries")  # the search worker (blob:) runs
    page.locator("[data-role='search:results']").wait_for()
    # Only Redocly's logo on its CDN is refused: the platform fetches nothing from elsewhere.
    assert [v for v in violations if "cdn.redoc.ly" not in v] == []


def test_main_pages_report_no_violation(page, log_in, violations, history, screenshot):
    inquiry = next(iter(history.inquiries.values()))
    network = history.network.pk
    page.goto("/login/")
    page.goto(reverse("guest_inquiry"))
    visits = {
        history.secretariat: [
            "/",
            reverse("inquiry_queue"),
            reverse("inquiry_detail", args=[inquiry.pk]),
            f"{reverse('record_dashboard', args=[network])}?{FY}",
        ],
        history.buyer: ["/", reverse("inquiry_detail", args=[inquiry.pk])],
        history.lead1: ["/", reverse("call_board"), reverse("project_list")],
        history.m1: ["/"],
    }
    for user, urls in visits.items():
        page.context.clear_cookies()
        log_in(user)
        for url in urls:
            page.goto(url)
            assert page.locator("main").count() == 1
    page.context.clear_cookies()
    page.goto(f"{reverse('record_dashboard', args=[network])}?{FY}")  # to the login
    log_in(history.secretariat)
    page.goto(f"{reverse('record_dashboard', args=[network])}?{FY}")
    box = page.locator("svg.chart").first.bounding_box()  # sized by app.css, not style=
    assert box["width"] > 300 and box["height"] > 100
    screenshot("csp-record-dashboard")
    assert violations == []


def test_the_admin_reports_no_violation(page, violations):
    admin = UserFactory(is_superuser=True, is_staff=True, username="admin-csp")
    # The admin's login redirects to the one login page (the two-factor step lives there).
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", "pass-for-tests-1")
    page.press("#id_password", "Enter")
    page.wait_for_url("**/admin/")
    page.goto("/admin/auth/group/add/")
    page.locator("#id_permissions_add_all").wait_for()  # the JS filter widget ran
    page.goto("/admin/auth/group/")
    assert violations == []
