"""Settlement in a real browser: a member downloads its statement as a PDF; the lead's
invoices page (screenshot for review at /tmp/shots/billing.png)."""

from pathlib import Path

import pytest

from billing.models import DocumentKind, DocumentStatus
from tests.billing.books import Books, invoice_of, statement_of
from tests.factories import BuyerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")  # noqa: S108 (where the review looks for it)


@pytest.fixture(autouse=True)
def _no_worker(monkeypatch):
    from brokerage import notifications as notification_module
    from core import events as event_module

    monkeypatch.setattr(event_module, "enqueue_dispatch", lambda ids: 0)
    monkeypatch.setattr(notification_module, "enqueue_delivery", lambda ids: 0)


@pytest.fixture
def settled(network, buff, stainless):
    books = Books(network, buff, stainless)
    lead = books.lead_user()
    member = books.company_user()
    project = books.project(
        lead=lead,
        buyer=BuyerFactory(),
        packages=[{"member": member, "quantity": 100, "unit_price": 1_000}],
    )
    books.project(lead=lead, order_value=250_000)
    books.close()
    return lead, member, project


def test_a_member_downloads_its_statement_pdf(page, log_in, settled, tmp_path):
    _lead, member, project = settled
    statement = statement_of(project, member.company)
    log_in(member)
    page.goto("/billing/statements/")
    row = page.locator("tr", has_text=statement.number)
    with page.expect_download() as info:
        row.get_by_role("link", name="PDF").click()
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
    assert download.suggested_filename == f"{statement.number}.pdf"


def test_the_leads_invoices_page(page, log_in, settled):
    lead, _member, project = settled
    invoice = invoice_of(project)
    assert invoice.status == DocumentStatus.ISSUED and invoice.kind == DocumentKind.INVOICE
    log_in(lead)
    page.goto("/billing/invoices/")
    body = page.locator("main").inner_text()
    assert invoice.number in body and f"¥{invoice.total_yen:,}" in body
    amount = page.locator("td.num", has_text=f"¥{invoice.total_yen:,}").first
    assert amount.evaluate("e => getComputedStyle(e).textAlign") == "right"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "billing.png"), full_page=True)
