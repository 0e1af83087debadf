"""Settling an accepted project: the lead's invoice to the buyer and the members' statements."""

import datetime

import pytest

from billing import close, settlement
from billing.models import Document, DocumentKind, RunKind, SettlementRun
from core.errors import BrokerageError, InvalidTransition, NotAllowed
from orders import execution
from orders.models import Project
from tests.billing.books import OCTOBER, invoice_of, issued, statement_of, tokyo


def deliver_and_pass(package, worker, lead, quantity):
    delivery = execution.delivery_record(actor=worker, package=package, quantity=quantity)
    execution.inspection_record(
        actor=lead, delivery=delivery, quantity_received=quantity, quantity_passed=quantity
    )


def test_worked_example_through_the_real_flow(team_package, running_project, buyer_user):
    """500 items, one member package 500 × ¥1,200, 3 items scrapped at inspection and charged
    ¥3,600: statement 596,400 + tax 59,640 = 656,040."""
    package, worker, lead = team_package
    delivery = execution.delivery_record(actor=worker, package=package, quantity=500)
    execution.inspection_record(
        actor=lead,
        delivery=delivery,
        quantity_received=500,
        inspection_level="II",
        aql="2.5",
        defects_found=3,
        defect_reason="打痕",
        disposition="charge",
        charge_yen=3600,
    )
    deliver_and_pass(package, worker, lead, 3)  # the scrapped items, made again
    shipment = execution.shipment_send(actor=lead, project=running_project, quantity=500)
    execution.shipment_accept(actor=buyer_user, shipment=shipment)
    # Pin the acceptance in a month that is over.
    Project.objects.filter(pk=running_project.pk).update(accepted_at=tokyo(2026, 10, 15, 10))

    run = close.monthly_close(network=running_project.network, period=OCTOBER)

    assert run.status == "completed" and (run.progress_done, run.progress_total) == (1, 1)
    statement = statement_of(running_project, worker.company)
    assert (statement.subtotal_yen, statement.tax_yen, statement.total_yen) == (
        596_400,
        59_640,
        656_040,
    )
    assert statement.recipient_company == lead.company
    assert statement.issuer_registration_number == worker.company.invoice_registration_number
    assert not statement.issuer_unregistered
    assert statement.due_date == datetime.date(2026, 11, 30)  # 月末締め翌月末払い
    assert statement.transaction_date == datetime.date(2026, 10, 15)
    lines = list(statement.lines.values_list("quantity", "unit_price_yen", "amount_yen"))
    assert lines == [(500, 1200, 600_000), (1, -3600, -3600)]
    deduction = statement.lines.get(is_deduction=True)
    assert deduction.charge.amount_yen == 3600 and "検品不良 3個" in deduction.description
    assert list(statement.tax_lines.values_list("rate", "taxable_yen", "tax_yen")) == [
        (10, 596_400, 59_640)
    ]
    invoice = invoice_of(running_project)
    assert invoice.recipient_buyer == buyer_user.buyer and invoice.issuer_company == lead.company
    assert (invoice.subtotal_yen, invoice.tax_yen, invoice.total_yen) == (
        1_000_000,
        100_000,
        1_100_000,
    )
    assert invoice.lines.get().description.endswith("一式")
    assert invoice.number.startswith("MIGAKIYA-INV-")
    assert statement.number.startswith("MIGAKIYA-STM-")


def test_three_lines_of_105_are_taxed_once(books):
    lead = books.lead_user()
    member = books.company_user()
    project = books.project(
        lead=lead,
        packages=[{"member": member, "quantity": 1, "unit_price": 105} for _ in range(3)],
    )
    books.close()
    statement = statement_of(project, member.company)
    assert (statement.subtotal_yen, statement.tax_yen, statement.total_yen) == (315, 31, 346)
    assert statement.rounding == "down"


def test_each_issuer_rounds_its_own_way(books):
    lead = books.lead_user(rounding="up")
    half_up = books.company_user(rounding="half_up")
    down = books.company_user()
    project = books.project(
        lead=lead,
        order_value=1_005,
        packages=[
            {"member": half_up, "quantity": 3, "unit_price": 105},
            {"member": down, "quantity": 3, "unit_price": 105},
        ],
    )
    books.close()
    assert statement_of(project, half_up.company).tax_yen == 32
    assert statement_of(project, half_up.company).rounding == "half_up"
    assert statement_of(project, down.company).tax_yen == 31
    assert invoice_of(project).tax_yen == 101  # 100.5 rounded up by the lead


def test_accepted_quantity_is_capped_and_self_performed_work_bills_nothing(books):
    lead = books.lead_user()
    member = books.company_user(registered=False)
    project = books.project(
        lead=lead,
        packages=[
            {"member": member, "quantity": 100, "unit_price": 50, "passed": [60, 60]},
            {"member": member, "quantity": 10, "unit_price": 70, "passed": [4]},
            {"member": None, "quantity": 500, "unit_price": 300},  # the lead's own work
        ],
    )
    books.close()
    assert issued(project=project).count() == 2  # the invoice and one statement
    statement = statement_of(project, member.company)
    assert list(statement.lines.values_list("quantity", "amount_yen")) == [(100, 5000), (4, 280)]
    assert statement.issuer_unregistered and statement.issuer_registration_number == ""
    assert not issued(issuer_company=lead.company, kind=DocumentKind.STATEMENT).exists()


def test_charges_above_the_work_stop_the_close_with_the_project_named(books):
    lead = books.lead_user()
    member = books.company_user()
    project = books.project(
        lead=lead,
        packages=[{"member": member, "quantity": 1, "unit_price": 1000, "charges": [1500]}],
    )
    with pytest.raises(BrokerageError) as exc:
        books.close()
    assert exc.value.field == "lines" and "return invoice" in str(exc.value)
    run = SettlementRun.objects.get()
    assert run.status == "failed" and project.inquiry.reference in run.error
    assert not Document.objects.exists()


def test_only_an_accepted_project_is_settled(running_project, secretariat_user, network):
    run = SettlementRun.objects.create(network=network, kind=RunKind.MONTHLY_CLOSE, period=OCTOBER)
    with pytest.raises(InvalidTransition, match=running_project.inquiry.reference) as exc:
        settlement.settle_project(project=running_project, run=run, actor=secretariat_user)
    assert exc.value.field == "project"
    assert not Document.objects.exists()


def test_settle_project_directly_skips_what_is_issued(books, secretariat_user, lead_user):
    lead = books.lead_user()
    project = books.project(
        lead=lead, packages=[{"member": books.company_user(), "quantity": 2, "unit_price": 10}]
    )
    run = SettlementRun.objects.create(
        network=books.network, kind=RunKind.MONTHLY_CLOSE, period=OCTOBER
    )
    with pytest.raises(NotAllowed):
        settlement.settle_project(project=project, run=run, actor=lead_user)
    first = settlement.settle_project(project=project, run=run, actor=secretariat_user)
    assert sorted(d.kind for d in first) == ["invoice", "statement"]
    assert settlement.settle_project(project=project, run=run) == []
    assert Document.objects.count() == 2


@pytest.mark.parametrize(
    ("accepted_at", "terms", "period", "due"),
    [
        # 月末締め翌月末払い across the year end
        (
            tokyo(2026, 12, 15, 9),
            (31, 1, 31),
            datetime.date(2026, 12, 1),
            datetime.date(2027, 1, 31),
        ),
        # 23:30 on New Year's Eve in Tokyo is still December (14:30 UTC)
        (
            tokyo(2026, 12, 31, 23, 30),
            (31, 1, 31),
            datetime.date(2026, 12, 1),
            datetime.date(2027, 1, 31),
        ),
        # 20日締め翌月10日払い: the 21st closes in January
        (
            tokyo(2026, 12, 21, 9),
            (20, 1, 10),
            datetime.date(2026, 12, 1),
            datetime.date(2027, 2, 10),
        ),
        # 月末締め翌々月末払い
        (
            tokyo(2026, 11, 30, 9),
            (31, 2, 31),
            datetime.date(2026, 11, 1),
            datetime.date(2027, 1, 31),
        ),
        # January: due at the end of February
        (tokyo(2027, 1, 31, 9), (31, 1, 31), datetime.date(2027, 1, 1), datetime.date(2027, 2, 28)),
    ],
)
def test_due_dates_follow_the_project_terms(books, time_machine, accepted_at, terms, period, due):
    time_machine.move_to(tokyo(2027, 3, 1, 9))
    lead = books.lead_user()
    member = books.company_user()
    project = books.project(
        lead=lead,
        accepted_at=accepted_at,
        terms=terms,
        packages=[{"member": member, "quantity": 1, "unit_price": 100}],
    )
    books.close(period=period)
    assert invoice_of(project).due_date == due
    assert statement_of(project, member.company).due_date == due
    assert invoice_of(project).transaction_date == accepted_at.date()


def test_the_month_is_cut_in_tokyo_time(books, time_machine):
    time_machine.move_to(tokyo(2027, 3, 1, 9))
    lead = books.lead_user()
    december = books.project(lead=lead, accepted_at=tokyo(2026, 12, 31, 23, 59))
    january = books.project(lead=lead, accepted_at=tokyo(2027, 1, 1, 0, 1))
    books.close(period=datetime.date(2026, 12, 1))
    assert issued(project=december).count() == 1
    assert not issued(project=january).exists()
