"""Settlement over HTTP: documents as PDF and CSV, the permission matrix of documents,
payments, runs and the ledger, payment refusals naming their field."""

import csv
import datetime
import io
from dataclasses import dataclass

import pytest
from django.utils import timezone

from billing import documents as paper
from billing import enqueue, tasks
from billing.models import Document, DocumentStatus, Payment, RunStatus, SettlementRun
from core.transitions import history
from members.models import StaffRole
from tests.billing.books import invoice_of, statement_of
from tests.factories import BuyerFactory, NetworkStaffFactory

NOV_10 = datetime.date(2026, 11, 10)
ROLES = [
    "secretariat",
    "other_secretariat",
    "lead",
    "member",
    "other_member",
    "buyer",
    "other_buyer",
    "anonymous",
]


@dataclass
class Month:
    run: SettlementRun
    invoice: Document
    statement: Document
    users: dict


@pytest.fixture
def month(books, secretariat_user, other_secretariat_user):
    """October closed: one project of a lead for a buyer, with one member's package."""
    lead = books.lead_user()
    member = books.company_user()
    other_member = books.company_user()
    buyer = BuyerFactory()
    project = books.project(
        lead=lead,
        buyer=buyer,
        packages=[{"member": member, "quantity": 100, "unit_price": 1_000}],
    )
    run = books.close()
    users = {
        "secretariat": secretariat_user,
        "other_secretariat": other_secretariat_user,
        "lead": lead,
        "member": member,
        "other_member": other_member,
        "buyer": buyer.user,
        "other_buyer": BuyerFactory().user,
        "anonymous": None,
    }
    return Month(run, invoice_of(project), statement_of(project, member.company), users)


def client_for(api, month, role):
    user = month.users[role]
    return api if user is None else api.as_(user)


def attr(response):
    return [e["attr"] for e in response.json()["errors"]]


# --- PDF and CSV ----------------------------------------------------------------------


def test_the_pdf_is_a_pdf_with_pages(month):
    data = paper.document_pdf(month.statement)
    assert data.startswith(b"%PDF")
    assert data.count(b"/Type /Page") >= 2  # the page tree and at least one page


def test_the_pdf_layout_names_the_qualified_invoice_facts(month):
    spec = paper.document_pdf_spec(month.invoice)
    assert spec.title == "請求書"
    text = repr(spec.blocks)
    assert month.invoice.number in text
    assert f"{month.invoice.recipient_name} 御中" in text
    assert month.invoice.issuer_registration_number in text
    assert "10% 対象" in text and "2026年10月15日" in text  # per-rate total, transaction date


def test_an_unregistered_issuer_is_flagged(books, month):
    Document.objects.filter(pk=month.statement.pk).update(
        issuer_registration_number="", issuer_unregistered=True
    )
    month.statement.refresh_from_db()
    assert paper.UNREGISTERED in repr(paper.document_pdf_spec(month.statement).blocks)


def test_a_cancelled_document_shows_torikeshi_and_its_reason(month):
    Document.objects.filter(pk=month.statement.pk).update(
        status=DocumentStatus.CANCELLED, cancelled_at=timezone.now(), cancel_reason="数量訂正"
    )
    month.statement.refresh_from_db()
    spec = paper.document_pdf_spec(month.statement)
    assert spec.title.startswith("【取消】") and "数量訂正" in repr(spec.blocks)
    assert paper.document_pdf(month.statement).startswith(b"%PDF")


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_rows_and_totals_match_the_document(month):
    document = month.statement
    rows = _csv(paper.document_csv(document))
    header, body = rows[0], rows[1:]
    assert header == paper.LINE_HEADER
    at = {name: i for i, name in enumerate(header)}
    lines = [r for r in body if r[at["行区分"]] == "明細"]
    assert len(lines) == document.lines.count()
    assert sum(int(r[at["金額（税抜）"]]) for r in lines) == document.subtotal_yen
    per_rate = [r for r in body if r[at["行区分"]] == "税率別合計"]
    assert [
        (r[at["税率"]], int(r[at["金額（税抜）"]]), int(r[at["消費税額"]])) for r in per_rate
    ] == [(f"{t.rate}%", t.taxable_yen, t.tax_yen) for t in document.tax_lines.order_by("-rate")]
    total = next(r for r in body if r[at["行区分"]] == "合計")
    assert int(total[at["金額（税抜）"]]) + int(total[at["消費税額"]]) == document.total_yen
    assert all(r[at["書類番号"]] == document.number for r in body)


def test_the_list_csv_has_one_row_per_document_with_what_is_left(api, month):
    response = api.as_(month.users["lead"]).get("/api/v1/documents/export/?kind=invoice")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = _csv(response.content)
    assert len(rows) == 2
    at = {name: i for i, name in enumerate(rows[0])}
    assert rows[1][at["書類番号"]] == month.invoice.number
    assert int(rows[1][at["合計（税込）"]]) == month.invoice.total_yen
    assert int(rows[1][at["未払"]]) == month.invoice.total_yen


# --- Documents: who sees what ----------------------------------------------------------

SEES = {
    "statement": {"secretariat", "lead", "member"},
    "invoice": {"secretariat", "lead", "buyer"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["statement", "invoice"])
@pytest.mark.parametrize("suffix", ["", "pdf/", "csv/"])
def test_document_permission_matrix(api, month, role, which, suffix):
    document = getattr(month, which)
    response = client_for(api, month, role).get(f"/api/v1/documents/{document.pk}/{suffix}")
    if role == "anonymous":
        assert response.status_code in (401, 403)
    elif role in SEES[which]:
        assert response.status_code == 200
        if suffix == "pdf/":
            assert response.content.startswith(b"%PDF")
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES[:-1])
def test_document_list_is_scoped(api, month, role, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        response = client_for(api, month, role).get("/api/v1/documents/")
    numbers = {d["number"] for d in response.json()["results"]}
    for which in ("statement", "invoice"):
        assert (getattr(month, which).number in numbers) == (role in SEES[which])


def test_document_filters(api, month):
    client = api.as_(month.users["secretariat"])
    numbers = {
        d["number"] for d in client.get("/api/v1/documents/?kind=statement").json()["results"]
    }
    assert numbers == {month.statement.number}
    lead_company = month.users["lead"].company_id
    got = client.get(f"/api/v1/documents/?issuer={lead_company}&from=2026-01-01&to=2027-01-01")
    assert {d["number"] for d in got.json()["results"]} == {month.invoice.number}
    assert client.get("/api/v1/documents/?from=2027-01-01").json()["results"] == []
    bad = client.get("/api/v1/documents/?from=yesterday")
    assert bad.status_code == 400 and attr(bad) == ["from"]


def test_documents_found_by_amount_and_number(api, month):
    client = api.as_(month.users["secretariat"])

    def found(query):
        return {d["number"] for d in client.get(f"/api/v1/documents/?{query}").json()["results"]}

    total = month.statement.total_yen
    assert month.statement.number in found(f"amount_min={total}&amount_max={total}")
    assert month.statement.number not in found(f"amount_max={total - 1}")
    assert found(f"q={month.invoice.number}") == {month.invoice.number}
    assert month.invoice.number in found(f"q={month.invoice.recipient_name[:3]}")
    bad = client.get("/api/v1/documents/?amount_min=10&amount_max=5")
    assert bad.status_code == 400 and attr(bad) == ["amount_max"]


# --- Payments ----------------------------------------------------------------------------

# Who may record a payment on the invoice: the lead; the others who see it are refused (403).
PAYS = {"lead": 201, "secretariat": 403, "buyer": 403}


@pytest.mark.parametrize("role", ROLES)
def test_payment_permission_matrix(api, month, role):
    response = client_for(api, month, role).post(
        f"/api/v1/documents/{month.invoice.pk}/payments/",
        {"amount_yen": 100_000, "paid_on": NOV_10.isoformat()},
        format="json",
    )
    expected = PAYS.get(role, 404) if role != "anonymous" else (401, 403)
    if isinstance(expected, tuple):
        assert response.status_code in expected
    else:
        assert response.status_code == expected
    assert Payment.objects.count() == (1 if role == "lead" else 0)


def test_the_lead_pays_its_member_and_lists_it(api, month):
    lead = api.as_(month.users["lead"])
    response = lead.post(
        f"/api/v1/documents/{month.statement.pk}/payments/",
        {"amount_yen": 10_000, "paid_on": NOV_10.isoformat(), "is_advance": True},
        format="json",
    )
    assert response.status_code == 201
    listed = api.as_(month.users["member"]).get("/api/v1/payments/").json()["results"]
    assert [(p["document_number"], p["amount_yen"]) for p in listed] == [
        (month.statement.number, 10_000)
    ]
    assert api.as_(month.users["other_member"]).get("/api/v1/payments/").json()["results"] == []
    detail = api.as_(month.users["member"]).get(f"/api/v1/documents/{month.statement.pk}/")
    assert detail.json()["outstanding_yen"] == month.statement.total_yen - 10_000


@pytest.mark.parametrize(
    ("amount", "paid_on", "status", "field"),
    [
        (2_000_000, NOV_10, 400, "amount_yen"),  # more than outstanding
        (0, NOV_10, 400, "amount_yen"),
        ("abc", NOV_10, 400, "amount_yen"),
        (1_000, datetime.date(2026, 10, 20), 400, "paid_on"),  # October is closed
        (1_000, timezone.localdate() + datetime.timedelta(days=1), 400, "paid_on"),
    ],
)
def test_payment_errors_name_the_field_and_save_nothing(api, month, amount, paid_on, status, field):
    response = api.as_(month.users["lead"]).post(
        f"/api/v1/documents/{month.invoice.pk}/payments/",
        {"amount_yen": amount, "paid_on": paid_on.isoformat()},
        format="json",
    )
    assert response.status_code == status and attr(response) == [field]
    assert not Payment.objects.exists()


def test_no_payment_on_a_cancelled_document(api, month):
    Document.objects.filter(pk=month.invoice.pk).update(
        status=DocumentStatus.CANCELLED, cancelled_at=timezone.now(), cancel_reason="訂正"
    )
    response = api.as_(month.users["lead"]).post(
        f"/api/v1/documents/{month.invoice.pk}/payments/",
        {"amount_yen": 1_000, "paid_on": NOV_10.isoformat()},
        format="json",
    )
    assert response.status_code == 409 and attr(response) == ["document"]
    assert not Payment.objects.exists()


# --- Runs --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_run_visibility(api, month, role):
    client = client_for(api, month, role)
    response = client.get(f"/api/v1/settlement-runs/{month.run.pk}/")
    if role == "anonymous":
        assert response.status_code in (401, 403)
    elif role == "secretariat":
        assert response.status_code == 200
        assert response.json()["status"] == RunStatus.COMPLETED
    else:
        assert response.status_code == 404


@pytest.fixture
def queued(monkeypatch):
    sent = []
    monkeypatch.setattr(enqueue, "enqueue", lambda name, *args: sent.append((name, *args)))
    return sent


def test_the_secretariat_queues_a_close_after_commit(
    api, month, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_(month.users["secretariat"]).post(
            "/api/v1/settlement-runs/",
            {"network": month.run.network_id, "kind": "monthly_close", "period": "2026-09-01"},
            format="json",
        )
    assert response.status_code == 202 and response.json()["run"] is None
    secretariat = month.users["secretariat"]
    assert queued == [
        ("billing.monthly_close_task", month.run.network_id, "2026-09-01", secretariat.pk)
    ]
    # The worker runs it in the name of the person who started it.
    assert tasks.monthly_close_task(*queued[0][1:]) == "completed"
    run = SettlementRun.objects.get(network=month.run.network_id, period="2026-09-01")
    assert run.started_by == secretariat
    assert history(run).filter(actor=secretariat).exists()


@pytest.mark.parametrize(
    ("role", "body", "status", "field"),
    [
        ("secretariat", {"period": "2026-10-01"}, 409, "period"),  # closed: reopen first
        ("secretariat", {"period": "2026-09-15"}, 400, "period"),
        ("secretariat", {"period": "2099-01-01"}, 400, "period"),  # not over
        ("other_secretariat", {"period": "2026-09-01"}, 400, "network"),
        ("lead", {"period": "2026-09-01"}, 403, None),
        ("buyer", {"period": "2026-09-01"}, 403, None),
    ],
)
def test_starting_a_run_is_refused(api, month, queued, role, body, status, field):
    body = {"network": month.run.network_id, "kind": "monthly_close", **body}
    response = client_for(api, month, role).post("/api/v1/settlement-runs/", body, format="json")
    assert response.status_code == status
    if field:
        assert attr(response) == [field]
    assert queued == []


def test_reopen_needs_a_reason(api, month):
    client = api.as_(month.users["secretariat"])
    response = client.post(f"/api/v1/settlement-runs/{month.run.pk}/reopen/", {}, format="json")
    assert response.status_code == 400 and attr(response) == ["reason"]
    month.run.refresh_from_db()
    assert month.run.status == RunStatus.COMPLETED
    response = client.post(
        f"/api/v1/settlement-runs/{month.run.pk}/reopen/", {"reason": "数量の訂正"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == RunStatus.REOPENED


@pytest.mark.parametrize("role", ["other_secretariat", "lead", "member", "buyer"])
def test_only_the_secretariat_reopens(api, month, role):
    response = client_for(api, month, role).post(
        f"/api/v1/settlement-runs/{month.run.pk}/reopen/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 404
    month.run.refresh_from_db()
    assert month.run.status == RunStatus.COMPLETED


def test_the_committee_sees_runs_but_cannot_reopen(api, month):
    committee = NetworkStaffFactory(network=month.run.network, role=StaffRole.COMMITTEE).user
    client = api.as_(committee)
    assert client.get(f"/api/v1/settlement-runs/{month.run.pk}/").status_code == 200
    response = client.post(
        f"/api/v1/settlement-runs/{month.run.pk}/reopen/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 403


# --- Ledger ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("member", 200),
        ("secretariat", 200),
        ("other_secretariat", 404),
        ("lead", 404),
        ("other_member", 404),
        ("buyer", 404),
    ],
)
def test_ledger_access(api, month, role, status):
    company = month.users["member"].company_id
    response = client_for(api, month, role).get(f"/api/v1/ledger/?company={company}")
    assert response.status_code == status
    if status == 200:
        rows = response.json()
        assert rows[0]["document_number"] == month.statement.number
        assert rows[-1]["balance_yen"] == month.statement.total_yen


def test_the_schema_documents_the_billing_endpoints(api, month):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"] if response["Content-Type"].endswith("json") else {}
    if paths:
        assert "/api/v1/documents/{id}/pdf/" in paths
        assert "/api/v1/settlement-runs/{id}/reopen/" in paths
