"""The order record in a real browser: the secretariat opens the dashboard from its home
page, sees the figures and the server-drawn SVG charts (no script, nothing fetched from
elsewhere), filters by process, and downloads the CSV; a member sees its own scorecard."""

import shutil
from pathlib import Path

import pytest

from brokerage import notifications as notification_module
from brokerage import referral as referral_module
from core import events as event_module
from members.models import StaffRole
from tests.brokerage.record_history import build_history
from tests.factories import NetworkFactory, NetworkStaffFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FY = "from=2026-04-01&to=2027-03-31"
SHOTS = Path("/tmp/shots")  # noqa: S108 (where the review looks for it)


@pytest.fixture(autouse=True)
def _no_worker(monkeypatch):
    """No broker: events and e-mails stay in their tables."""
    monkeypatch.setattr(event_module, "enqueue_dispatch", lambda ids: 0)
    monkeypatch.setattr(notification_module, "enqueue_delivery", lambda ids: 0)
    monkeypatch.setattr(referral_module, "enqueue_offer_emails", lambda ids: 0)


@pytest.fixture
def history(transactional_db):
    network = NetworkFactory(
        name="磨き屋シンジケート", name_en="Migakiya Syndicate", slug="migakiya"
    )
    history = build_history(network)
    NetworkStaffFactory(network=network, role=StaffRole.COMMITTEE)
    return history


def test_dashboard_with_svg_charts(page, log_in, screenshot, history):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    log_in(history.secretariat)
    page.goto("/")
    page.get_by_role("link", name="受注実績と会員の実績表").first.click()
    page.wait_for_url(f"**/record/{history.network.pk}/")
    page.goto(f"/record/{history.network.pk}/?{FY}")

    assert page.locator("h1").inner_text().startswith("受注実績")
    charts = page.locator("svg.chart")
    assert charts.count() == 4
    assert page.locator("#chart-months rect").count() == 2  # June and July
    assert page.locator("#chart-processes rect").count() == 3
    box = page.locator("#chart-months").bounding_box()
    assert box["width"] > 500 and box["height"] > 150
    body = page.locator("main").inner_text()
    assert "¥1,900,000" in body and "77.8" in body
    assert history.m1.company.legal_name in body
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(screenshot("record"), SHOTS / "record.png")
    # Nothing but this server was asked for anything (no CDN, no script).
    assert all(url.startswith(page.context.pages[0].url.split("/record/")[0]) for url in requests)
    assert page.locator("script").count() == 0

    page.select_option("#id_process", "barrel")
    page.get_by_role("button", name="表示").click()
    page.wait_for_url("**process=barrel**")
    assert "¥300,000" in page.locator("main").inner_text()

    with page.expect_download() as download:
        page.get_by_role("link", name="数字（CSV）").click()
    path = download.value.path()
    assert Path(path).read_bytes().startswith("\ufeff".encode())


def test_member_scorecard(page, log_in, screenshot, history):
    log_in(history.m1)
    page.goto("/")
    page.get_by_role("link", name="自社の実績を見る").click()
    page.wait_for_url("**/my-scorecard/")
    page.goto(f"/my-scorecard/?{FY}")
    text = page.locator("main").inner_text()
    assert "50.0" in text and "3.0" in text
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(screenshot("my_scorecard"), SHOTS / "my_scorecard.png")


def test_probation_page(page, log_in, screenshot, history):
    from brokerage import probation

    probation.probation_rule_set(
        actor=history.secretariat,
        network=history.network,
        data={
            "min_on_time_rate_pct": 80,
            "max_defect_rate_pct": "2.5",
            "min_completed_packages": 2,
            "max_package_value_yen": 50_000,
        },
    )
    probation.probation_review(network=history.network)
    log_in(history.secretariat)
    page.goto(f"/record/{history.network.pk}/?{FY}")
    page.get_by_role("link", name="改善期間の基準").click()
    text = page.locator("main").inner_text()
    assert history.m1.company.legal_name in text and "¥50,000" in text
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(screenshot("record_probation"), SHOTS / "record_probation.png")
    page.fill("textarea[name=reason]", "面談で改善を確認")
    page.get_by_role("button", name="改善期間を解除").click()
    assert "改善期間中の会員はいません" in page.locator("main").inner_text()
