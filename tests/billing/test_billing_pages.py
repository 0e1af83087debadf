# ruff: noqa: F811  (the `month` fixture is imported, then requested by name)
"""The settlement pages: each renders for its role and refuses the others; payments and
reopening through the forms; downloads."""

import datetime

import pytest

from billing import documents as paper
from billing import enqueue, selectors
from billing.models import Payment, RunStatus
from tests.billing.test_billing_api import month  # noqa: F401 (the fixture)

NOV_10 = datetime.date(2026, 11, 10)

PAGES = {
    "/billing/runs/": {"secretariat"},
    "/billing/invoices/": {"lead"},
    "/billing/statements/": {"lead", "member", "other_member"},
    "/billing/my-invoices/": {"buyer", "other_buyer"},
}


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize(
    "role", ["secretariat", "lead", "member", "other_member", "buyer", "other_buyer"]
)
def test_pages_render_for_their_roles_only(client, month, url, role):
    client.force_login(month.users[role])
    response = client.get(url)
    assert response.status_code == (200 if role in PAGES[url] else 403)


def test_anonymous_is_sent_to_log_in(client, month):
    assert client.get("/billing/invoices/").status_code == 302


def test_the_leads_invoices_page_shows_amounts_and_downloads(client, month):
    client.force_login(month.users["lead"])
    body = client.get("/billing/invoices/").content.decode()
    assert month.invoice.number in body and month.statement.number in body
    assert f"¥{month.invoice.total_yen:,}" in body
    assert f"/billing/documents/{month.invoice.pk}/pdf/" in body


def test_the_member_sees_its_statement_and_ledger(client, month):
    client.force_login(month.users["member"])
    body = client.get("/billing/statements/").content.decode()
    assert month.statement.number in body and month.invoice.number not in body
    ledger = client.get("/billing/ledger/").content.decode()
    assert month.statement.number in ledger
    response = client.get(f"/billing/documents/{month.statement.pk}/pdf/")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    company = month.users["member"].company_id
    assert f"/billing/ledger/{company}.pdf" in ledger
    printed = client.get(f"/billing/ledger/{company}.pdf")
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF")
    assert printed["Content-Disposition"].startswith("attachment")


def test_the_ledger_pdf_lists_every_movement_with_its_balance(month):
    company = month.users["member"].company
    rows = selectors.ledger(company=company, viewer=month.users["member"])
    spec = paper.ledger_pdf_spec(company, rows)
    text = repr(spec.blocks)
    assert spec.title.startswith("取引台帳")
    assert month.statement.number in text and "請求" in text
    assert rows[-1].balance_yen == month.statement.total_yen
    assert spec.blocks[-1].totals[0][-1] == month.statement.total_yen


@pytest.mark.parametrize("role", ["other_member", "lead", "buyer", "other_secretariat"])
def test_another_companys_ledger_pdf_is_not_found(client, month, role):
    client.force_login(month.users[role])
    company = month.users["member"].company_id
    assert client.get(f"/billing/ledger/{company}.pdf").status_code == 404


@pytest.mark.parametrize("role", ["other_member", "other_buyer", "secretariat"])
def test_documents_of_others_are_not_found(client, month, role):
    client.force_login(month.users[role])
    status = 200 if role == "secretariat" else 404
    for suffix in ("", "pdf/", "csv/"):
        assert client.get(f"/billing/documents/{month.statement.pk}/{suffix}").status_code == status


def test_the_lead_records_a_payment_on_the_page(client, month):
    client.force_login(month.users["lead"])
    url = f"/billing/documents/{month.invoice.pk}/"
    too_much = client.post(url, {"amount_yen": 9_999_999, "paid_on": NOV_10.isoformat()})
    assert too_much.status_code == 200
    assert "amount_yen" in too_much.context["form"].errors
    assert not Payment.objects.exists()
    done = client.post(url, {"amount_yen": 100_000, "paid_on": NOV_10.isoformat()})
    assert done.status_code == 302
    assert Payment.objects.get().amount_yen == 100_000


def test_the_buyer_cannot_record_a_payment(client, month):
    client.force_login(month.users["buyer"])
    url = f"/billing/documents/{month.invoice.pk}/"
    assert client.get(url).context["form"] is None
    response = client.post(url, {"amount_yen": 1, "paid_on": NOV_10.isoformat()})
    assert response.status_code == 403 and not Payment.objects.exists()


def test_the_secretariat_reopens_with_a_reason(client, month):
    client.force_login(month.users["secretariat"])
    url = f"/billing/runs/{month.run.pk}/"
    page = client.get(url).content.decode()
    assert month.invoice.number in page
    empty = client.post(url, {"reason": ""})
    assert "reason" in empty.context["form"].errors
    month.run.refresh_from_db()
    assert month.run.status == RunStatus.COMPLETED
    assert client.post(url, {"reason": "数量の訂正"}).status_code == 302
    month.run.refresh_from_db()
    assert month.run.status == RunStatus.REOPENED and month.run.reopen_reason == "数量の訂正"


@pytest.mark.parametrize("role", ["other_secretariat", "lead"])
def test_others_cannot_open_or_reopen_a_run(client, month, role):
    client.force_login(month.users[role])
    response = client.post(f"/billing/runs/{month.run.pk}/", {"reason": "x"})
    assert response.status_code == 404
    month.run.refresh_from_db()
    assert month.run.status == RunStatus.COMPLETED


def test_the_secretariat_starts_a_month(
    client,
    month,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    sent = []
    monkeypatch.setattr(enqueue, "enqueue", lambda name, *args: sent.append((name, *args)))
    client.force_login(month.users["secretariat"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/billing/runs/",
            {"network": month.run.network_id, "kind": "monthly_close", "period": "2026-09-01"},
        )
    assert response.status_code == 302
    assert sent == [
        (
            "billing.monthly_close_task",
            month.run.network_id,
            "2026-09-01",
            month.users["secretariat"].pk,
        )
    ]
    closed = client.post(
        "/billing/runs/",
        {"network": month.run.network_id, "kind": "monthly_close", "period": "2026-10-01"},
    )
    assert "period" in closed.context["form"].errors and len(sent) == 1


def test_the_list_csv_page_is_scoped(client, month):
    client.force_login(month.users["member"])
    body = client.get("/billing/documents.csv").content.decode("utf-8-sig")
    assert month.statement.number in body and month.invoice.number not in body


def test_a_lead_finds_a_document_by_amount_or_number(client, month):
    client.force_login(month.users["lead"])
    total = month.invoice.total_yen
    found = client.get("/billing/invoices/", {"amount_min": total, "amount_max": total})
    assert month.invoice.number in found.content.decode()
    missed = client.get("/billing/invoices/", {"amount_min": total + 1})
    assert month.invoice.number not in missed.content.decode()
    by_number = client.get("/billing/invoices/", {"q": month.invoice.number[-6:]})
    assert month.invoice.number in by_number.content.decode()
    wrong = client.get("/billing/invoices/", {"amount_min": 10, "amount_max": 5})
    assert "amount_max" in wrong.context["search"].errors
    assert month.invoice.number in wrong.content.decode()  # a bad search narrows nothing
