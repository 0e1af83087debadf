"""The monthly close: idempotent, resumable after a crash, reopened and recomputed; the
commission on a company's sales in its first months."""

import datetime

import pytest
from django.forms.models import model_to_dict

from billing import close, runs
from billing.models import Document, DocumentKind, DocumentLine, RunStatus, SettlementRun
from core.errors import BrokerageError, InvalidTransition, NotAllowed
from core.models import DomainEvent, StatusChange
from core.transitions import history
from members.models import Network
from tests.billing.books import Books, invoice_of, issued, statement_of, tokyo
from tests.factories import NetworkFactory


def five_projects(books: Books) -> list:
    lead = books.lead_user()
    members = [books.company_user() for _ in range(2)]
    return [
        books.project(
            lead=lead,
            order_value=100_000 * (i + 1),
            accepted_at=tokyo(2026, 10, 1 + i, 12),
            packages=[
                {"member": members[0], "quantity": 10 + i, "unit_price": 1_001},
                {"member": members[1], "quantity": 5, "unit_price": 2_345, "charges": [99 * i + 1]},
            ],
        )
        for i in range(5)
    ]


def summary(network) -> list[tuple]:
    """Per project in order: kind, issuer role and totals, for comparing two networks."""
    rows = []
    for document in Document.objects.filter(network=network).order_by("project_id", "kind", "id"):
        rows.append(
            (
                document.kind,
                document.status,
                document.issuer_company_id == document.project.lead_id,
                document.subtotal_yen,
                document.tax_yen,
                document.total_yen,
                document.due_date,
            )
        )
    return rows


# --- idempotent, resumable ------------------------------------------------------------------


def test_a_second_close_issues_nothing(books, secretariat_user):
    five_projects(books)
    run = books.close(actor=secretariat_user)
    assert run.status == "completed" and (run.progress_done, run.progress_total) == (5, 5)
    numbers = sorted(Document.objects.values_list("number", flat=True))
    assert len(numbers) == 15
    counts = (
        DocumentLine.objects.count(),
        StatusChange.objects.count(),
        DomainEvent.objects.count(),
    )
    again = books.close()
    assert again.pk == run.pk and again.status == "completed"
    assert sorted(Document.objects.values_list("number", flat=True)) == numbers
    assert (
        DocumentLine.objects.count(),
        StatusChange.objects.count(),
        DomainEvent.objects.count(),
    ) == counts
    assert [(c.from_status, c.to_status) for c in history(run)] == [
        ("", "running"),
        ("running", "completed"),
    ]
    event = DomainEvent.objects.get(kind="settlement_run.completed")
    assert event.payload["documents"] == 15


def test_numbers_are_consecutive_per_kind_and_network(books):
    five_projects(books)
    books.close()
    invoices = list(
        issued(kind=DocumentKind.INVOICE).order_by("project_id").values_list("number", flat=True)
    )
    year = datetime.date.today().year
    assert invoices == [f"MIGAKIYA-INV-{year}-{n:06d}" for n in range(1, 6)]
    statements = sorted(issued(kind=DocumentKind.STATEMENT).values_list("number", flat=True))
    assert statements[0].endswith("-000001") and statements[-1].endswith("-000010")


def test_resume_after_a_crash_equals_an_uninterrupted_close(books, monkeypatch, buff, stainless):
    twin = Books(NetworkFactory(slug="twin"), buff, stainless)
    five_projects(books)
    five_projects(twin)
    twin.close()

    real = close.settle_project
    calls = []

    def crash_on_the_third(**kwargs):
        calls.append(kwargs["project"].pk)
        if len(calls) == 3:
            raise RuntimeError("worker lost")
        return real(**kwargs)

    monkeypatch.setattr(close, "settle_project", crash_on_the_third)
    monkeypatch.setattr(runs, "CHUNK_SIZE", 2)  # projects 1–2 commit, 3–4 roll back
    with pytest.raises(RuntimeError):
        books.close()
    run = SettlementRun.objects.get(network=books.network)
    assert run.status == "failed" and "worker lost" in run.error
    assert run.progress_done == 2
    assert issued(network=books.network).count() == 6  # two projects, nothing of the third
    monkeypatch.setattr(close, "settle_project", real)

    run = books.close()
    assert run.status == "completed" and run.progress_done == 5 and run.error == ""
    assert summary(books.network) == summary(twin.network)
    assert [(c.from_status, c.to_status) for c in history(run)] == [
        ("", "running"),
        ("running", "failed"),
        ("failed", "running"),
        ("running", "completed"),
    ]


def test_a_killed_worker_leaves_a_running_run_that_the_next_call_continues(books, monkeypatch):
    projects = five_projects(books)
    real = close.settle_project
    calls = []

    def killed_on_the_fourth(**kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise SystemExit("SIGKILL")  # not an Exception: the run is not marked failed
        return real(**kwargs)

    monkeypatch.setattr(close, "settle_project", killed_on_the_fourth)
    monkeypatch.setattr(runs, "CHUNK_SIZE", 1)
    with pytest.raises(SystemExit):
        books.close()
    run = SettlementRun.objects.get()
    assert run.status == "running" and run.cursor == projects[2].pk
    monkeypatch.setattr(close, "settle_project", real)
    assert books.close().status == "completed"
    assert issued().count() == 15
    assert sorted(set(issued().values_list("project_id", flat=True))) == [p.pk for p in projects]


# --- period and permission ------------------------------------------------------------------


def test_close_refuses_an_unfinished_month_a_bad_period_and_non_staff(
    books, lead_user, other_secretariat_user
):
    this_month = datetime.date.today().replace(day=1)
    with pytest.raises(BrokerageError) as exc:
        books.close(period=this_month)
    assert exc.value.field == "period"
    with pytest.raises(BrokerageError) as exc:
        books.close(period=datetime.date(2026, 10, 2))
    assert exc.value.field == "period"
    for outsider in (lead_user, other_secretariat_user):
        with pytest.raises(NotAllowed):
            books.close(actor=outsider)
    assert not SettlementRun.objects.exists()


def test_an_empty_month_closes_too(books):
    run = books.close()
    assert run.status == "completed" and run.progress_total == 0


# --- reopen ------------------------------------------------------------------------------


def test_reopen_reissues_what_changed_and_keeps_the_rest(books, secretariat_user, member_user):
    books.network.commission_basis_points, books.network.commission_months = 100, 12
    books.network.save()
    lead = books.lead_user()
    late = books.company_user(joined_on=datetime.date(2026, 3, 1))
    punctual = books.company_user()
    project = books.project(
        lead=lead,
        packages=[
            {"member": late, "quantity": 100, "unit_price": 1_000},
            {"member": punctual, "quantity": 100, "unit_price": 500},
        ],
    )
    books.close()
    old_statement = statement_of(project, late.company)
    before = model_to_dict(old_statement)
    old_lines = list(old_statement.lines.values())
    kept = statement_of(project, punctual.company)
    invoice = invoice_of(project)
    old_commission = issued(kind=DocumentKind.COMMISSION).get()
    assert old_commission.subtotal_yen == 1_000  # 1% of 100,000

    # After the close the lead charges the late member; the month is reopened to correct it.
    books.charge(project.packages.get(member=late.company), 10_000, by=lead)
    run = SettlementRun.objects.get()
    with pytest.raises(NotAllowed):
        runs.run_reopen(actor=member_user, run=run, reason="x")
    with pytest.raises(BrokerageError) as exc:
        runs.run_reopen(actor=secretariat_user, run=run, reason="  ")
    assert exc.value.field == "reason"
    runs.run_reopen(actor=secretariat_user, run=run, reason="遅延ペナルティ計上漏れ")
    run.refresh_from_db()
    assert run.status == "reopened" and run.reopened_by == secretariat_user
    assert books.close().status == "completed"

    old_statement.refresh_from_db()
    after = model_to_dict(old_statement)
    assert (
        after.pop("status") == "cancelled"
        and after.pop("cancel_reason") == "遅延ペナルティ計上漏れ"
    )
    assert after.pop("cancelled_by") == secretariat_user.pk
    assert after.pop("cancelled_at") is not None
    for field in ("status", "cancel_reason", "cancelled_by", "cancelled_at"):
        before.pop(field)
    assert after == before
    assert list(old_statement.lines.values()) == old_lines
    new = statement_of(project, late.company)
    assert new.replaces == old_statement and new.number != old_statement.number
    assert new.subtotal_yen == 90_000 and new.total_yen == 99_000
    assert statement_of(project, punctual.company).pk == kept.pk
    assert invoice_of(project).pk == invoice.pk
    commission = issued(kind=DocumentKind.COMMISSION).get()
    assert commission.replaces == old_commission and commission.subtotal_yen == 900
    assert DomainEvent.objects.filter(kind="document.replaced").count() == 2
    assert [(c.from_status, c.to_status) for c in history(run)][-3:] == [
        ("completed", "reopened"),
        ("reopened", "running"),
        ("running", "completed"),
    ]
    # A second close after the recomputation issues nothing.
    count = Document.objects.count()
    books.close()
    assert Document.objects.count() == count


def test_a_recomputation_without_changes_keeps_every_document(books, secretariat_user):
    five_projects(books)
    books.close()
    numbers = sorted(Document.objects.values_list("number", flat=True))
    runs.run_reopen(actor=secretariat_user, run=SettlementRun.objects.get(), reason="確認")
    books.close()
    assert sorted(issued().values_list("number", flat=True)) == numbers


def test_only_a_completed_run_is_reopened(books, secretariat_user, monkeypatch):
    five_projects(books)
    monkeypatch.setattr(close, "settle_project", lambda **kw: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        books.close()
    run = SettlementRun.objects.get()
    with pytest.raises(InvalidTransition):
        runs.run_reopen(actor=secretariat_user, run=run, reason="x")
    assert SettlementRun.objects.get().status == RunStatus.FAILED


# --- commission ----------------------------------------------------------------------------


def months_before(day: datetime.date, months: int) -> datetime.date:
    from billing.terms import add_months

    return add_months(day, -months)


ACCEPTED = tokyo(2026, 10, 20, 15)


@pytest.fixture
def commission_network(books):
    Network.objects.filter(pk=books.network.pk).update(
        commission_basis_points=100, commission_months=12
    )
    books.network.refresh_from_db()
    return books


def test_commission_inside_and_outside_the_window(commission_network):
    books = commission_network
    lead = books.lead_user(joined_on=datetime.date(2015, 4, 1))
    newcomer = books.company_user(joined_on=months_before(ACCEPTED.date(), 11))
    veteran = books.company_user(joined_on=months_before(ACCEPTED.date(), 13))
    project = books.project(
        lead=lead,
        accepted_at=ACCEPTED,
        packages=[
            {"member": newcomer, "quantity": 1, "unit_price": 123_456},
            {"member": veteran, "quantity": 1, "unit_price": 200_000},
        ],
    )
    books.close()
    commission = issued(kind=DocumentKind.COMMISSION).get()
    assert commission.recipient_company == newcomer.company
    assert commission.issuer_company is None and commission.issuer_name == books.network.name
    assert commission.source_key == f"commission:2026-10:company:{newcomer.company_id}"
    line = commission.lines.get()
    assert (line.amount_yen, line.project_id) == (1_234, project.pk)  # 1,234.56 rounded down
    assert (commission.tax_yen, commission.total_yen) == (123, 1_357)
    assert commission.due_date == datetime.date(2026, 11, 30)
    assert commission.issuer_unregistered  # the network has no registration number


def test_a_registered_network_issues_qualified_commissions(commission_network):
    books = commission_network
    Network.objects.filter(pk=books.network.pk).update(invoice_registration_number="T1234567890123")
    books.network.refresh_from_db()
    lead = books.lead_user(joined_on=datetime.date(2015, 4, 1))
    newcomer = books.company_user(joined_on=months_before(ACCEPTED.date(), 2))
    books.project(
        lead=lead,
        accepted_at=ACCEPTED,
        packages=[{"member": newcomer, "quantity": 1, "unit_price": 100_000}],
    )
    books.close()
    commission = issued(kind=DocumentKind.COMMISSION).get()
    assert commission.issuer_registration_number == "T1234567890123"
    assert not commission.issuer_unregistered


def test_the_lead_pays_commission_on_what_it_keeps(commission_network):
    books = commission_network
    lead = books.lead_user(joined_on=datetime.date(2026, 9, 1))
    member = books.company_user(joined_on=datetime.date(2015, 4, 1))
    first = books.project(
        lead=lead,
        order_value=1_000_000,
        packages=[{"member": member, "quantity": 100, "unit_price": 6_000}],
    )
    second = books.project(lead=lead, order_value=50_000)
    books.close()
    commission = issued(kind=DocumentKind.COMMISSION).get()
    assert commission.recipient_company == lead.company
    assert sorted(commission.lines.values_list("project_id", "amount_yen")) == [
        (first.pk, 4_000),  # 1% of 1,000,000 − 600,000
        (second.pk, 500),
    ]
    assert commission.subtotal_yen == 4_500


def test_no_commission_window_means_no_commission(books):
    Network.objects.filter(pk=books.network.pk).update(
        commission_basis_points=100, commission_months=0
    )
    books.network.refresh_from_db()
    lead = books.lead_user(joined_on=datetime.date(2026, 10, 1))
    books.project(lead=lead)
    books.close()
    assert not issued(kind=DocumentKind.COMMISSION).exists()
