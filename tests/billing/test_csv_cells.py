"""CSV injection: names and texts that a spreadsheet would run as formulas come out of every
settlement CSV (pages and API) as text, with a leading `'`; amounts stay numbers."""

import csv
import io

import pytest
from django.utils import timezone

from billing import documents as paper
from billing.models import Document, DocumentLine, DocumentStatus
from core.csv import FORMULA_STARTS
from tests.billing.books import invoice_of, statement_of
from tests.factories import BuyerFactory

LEAD_NAME = '=HYPERLINK("http://x","y")'
MEMBER_NAME = "+1"
BUYER_NAME = "-2+3"
DESCRIPTION = "@SUM(A1)"
CANCEL_REASON = "\tX"
RECIPIENT_NAME = "\rX"
AMOUNTS = ["数量", "単価", "金額（税抜）", "消費税額"]
LIST_AMOUNTS = ["10%対象額", "10%消費税", "小計（税抜）", "合計（税込）", "入金済", "未払"]


@pytest.fixture
def hostile(books):
    """A month closed for a lead, a member and a buyer whose names are formulas; then one
    line's text and one cancellation reason are formulas too."""
    lead = books.lead_user()
    member = books.company_user()
    type(lead.company).objects.filter(pk=lead.company_id).update(legal_name=LEAD_NAME)
    type(member.company).objects.filter(pk=member.company_id).update(legal_name=MEMBER_NAME)
    buyer = BuyerFactory(organisation="", name=BUYER_NAME)
    project = books.project(
        lead=lead,
        buyer=buyer,
        packages=[{"member": member, "quantity": 100, "unit_price": 1_000}],
    )
    books.close()
    invoice, statement = invoice_of(project), statement_of(project, member.company)
    DocumentLine.objects.filter(document=invoice).update(description=DESCRIPTION)
    Document.objects.filter(pk=statement.pk).update(
        status=DocumentStatus.CANCELLED,
        cancelled_at=timezone.now(),
        cancel_reason=CANCEL_REASON,
        recipient_name=RECIPIENT_NAME,
    )
    return {"lead": lead, "member": member, "invoice": invoice, "statement": statement}


def _rows(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _assert_defused(rows, expected, amounts):
    cells = [cell for row in rows for cell in row]
    for text in expected:
        assert "'" + text in cells, text
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    at = {name: i for i, name in enumerate(rows[0])}
    for row in rows[1:]:
        for column in amounts:
            if row[at[column]]:
                int(row[at[column]])  # a plain integer, not quoted text


def test_a_documents_csv_page_writes_formula_names_as_text(client, hostile):
    client.force_login(hostile["lead"])
    invoice = client.get(f"/billing/documents/{hostile['invoice'].pk}/csv/")
    assert invoice.status_code == 200
    _assert_defused(_rows(invoice.content), [LEAD_NAME, BUYER_NAME, DESCRIPTION], AMOUNTS)
    client.force_login(hostile["member"])
    statement = client.get(f"/billing/documents/{hostile['statement'].pk}/csv/")
    _assert_defused(_rows(statement.content), [MEMBER_NAME, RECIPIENT_NAME], AMOUNTS)


def test_the_list_csv_page_writes_formula_names_as_text(client, hostile):
    client.force_login(hostile["lead"])
    response = client.get("/billing/documents.csv")
    expected = [LEAD_NAME, BUYER_NAME, MEMBER_NAME, RECIPIENT_NAME, CANCEL_REASON]
    rows = _rows(response.content)
    _assert_defused(rows, expected, LIST_AMOUNTS)
    at = {name: i for i, name in enumerate(rows[0])}
    invoice = next(r for r in rows if r[0] == hostile["invoice"].number)
    assert int(invoice[at["合計（税込）"]]) == hostile["invoice"].total_yen


def test_the_api_csv_and_export_write_formula_names_as_text(api, hostile):
    client = api.as_(hostile["lead"])
    one = client.get(f"/api/v1/documents/{hostile['invoice'].pk}/csv/")
    assert one.status_code == 200 and one["Content-Type"].startswith("text/csv")
    _assert_defused(_rows(one.content), [LEAD_NAME, BUYER_NAME, DESCRIPTION], AMOUNTS)
    listed = client.get("/api/v1/documents/export/")
    assert listed.status_code == 200
    _assert_defused(
        _rows(listed.content),
        [LEAD_NAME, BUYER_NAME, MEMBER_NAME, RECIPIENT_NAME, CANCEL_REASON],
        LIST_AMOUNTS,
    )


def test_a_plain_document_csv_is_unchanged(books):
    """Ordinary Japanese names and dates are written as they are: nothing gets a quote."""
    lead = books.lead_user()
    project = books.project(lead=lead)
    books.close()
    rows = _rows(paper.document_csv(invoice_of(project)))
    assert not [c for row in rows for c in row if c.startswith("'")]
    assert rows[1][0] == invoice_of(project).number
