"""Payments: who records them, what is refused, the team-pay due date, reminders."""

import datetime

import pytest

from billing import fees, payments, runs, selectors
from billing.models import DocumentKind, Payment, SettlementRun
from core.errors import BrokerageError, InvalidTransition, NotAllowed
from core.models import DomainEvent
from members.models import Network
from tests.billing.books import invoice_of, issued, statement_of
from tests.factories import BuyerFactory

OCT_20 = datetime.date(2026, 10, 20)
NOV_10 = datetime.date(2026, 11, 10)


@pytest.fixture
def settled(books):
    """An October project (invoice 1,100,000; one statement 110,000 to a member), closed."""
    lead = books.lead_user()
    member = books.company_user()
    buyer = BuyerFactory()
    project = books.project(
        lead=lead,
        buyer=buyer,
        packages=[{"member": member, "quantity": 100, "unit_price": 1_000}],
    )
    books.close()
    return project, lead, member, buyer.user


def test_the_lead_records_the_buyers_payment_in_parts(settled):
    project, lead, _member, _buyer = settled
    invoice = invoice_of(project)
    first = payments.payment_record(
        actor=lead, document=invoice, amount_yen=600_000, paid_on=NOV_10, note="振込"
    )
    assert first.recorded_by == lead and not first.is_advance
    assert selectors.outstanding(invoice) == 500_000
    invoice.refresh_from_db()
    assert invoice.paid_in_full_on is None
    payments.payment_record(actor=lead, document=invoice, amount_yen=500_000, paid_on=NOV_10)
    invoice.refresh_from_db()
    assert selectors.outstanding(invoice) == 0 and invoice.paid_in_full_on == NOV_10
    event = DomainEvent.objects.filter(kind="payment.recorded").last()
    assert event.payload["outstanding_yen"] == 0 and event.payload["number"] == invoice.number


@pytest.mark.parametrize(
    ("amount", "paid_on", "field"),
    [
        (1_100_001, NOV_10, "amount_yen"),  # more than outstanding
        (0, NOV_10, "amount_yen"),
        (1_000.0, NOV_10, "amount_yen"),
        (True, NOV_10, "amount_yen"),
        (1_000, datetime.date.today() + datetime.timedelta(days=1), "paid_on"),
        (1_000, OCT_20, "paid_on"),  # October is closed
    ],
)
def test_refused_payments_name_the_field(settled, amount, paid_on, field):
    project, lead, _member, _buyer = settled
    with pytest.raises(BrokerageError) as exc:
        payments.payment_record(
            actor=lead, document=invoice_of(project), amount_yen=amount, paid_on=paid_on
        )
    assert exc.value.field == field
    assert not Payment.objects.exists()


def test_a_reopened_month_takes_payments_again(settled, secretariat_user):
    project, lead, _member, _buyer = settled
    runs.run_reopen(actor=secretariat_user, run=SettlementRun.objects.get(), reason="入金漏れ")
    payments.payment_record(
        actor=lead, document=invoice_of(project), amount_yen=1_000, paid_on=OCT_20
    )
    assert Payment.objects.count() == 1


def test_who_records_which_payment(settled, secretariat_user, other_secretariat_user):
    project, lead, member, buyer = settled
    invoice, statement = invoice_of(project), statement_of(project, member.company)
    for outsider in (member, buyer, secretariat_user, other_secretariat_user):
        with pytest.raises(NotAllowed):
            payments.payment_record(actor=outsider, document=invoice, amount_yen=1, paid_on=NOV_10)
    # The statement is paid by the lead, not recorded by the member that is owed.
    with pytest.raises(NotAllowed):
        payments.payment_record(actor=member, document=statement, amount_yen=1, paid_on=NOV_10)
    payment = payments.payment_record(
        actor=lead, document=statement, amount_yen=50_000, paid_on=NOV_10, is_advance=True
    )
    assert payment.is_advance
    with pytest.raises(BrokerageError) as exc:
        payments.payment_record(
            actor=lead, document=invoice, amount_yen=1, paid_on=NOV_10, is_advance=True
        )
    assert exc.value.field == "is_advance"
    assert Payment.objects.count() == 1


def test_the_secretariat_records_fees(books, secretariat_user):
    member = books.company_user(joined_on=datetime.date(2019, 6, 1))
    fees.annual_fees(network=books.network, fiscal_year_start=datetime.date(2026, 4, 1))
    fee = issued(kind=DocumentKind.FEE).get()
    with pytest.raises(NotAllowed):
        payments.payment_record(actor=member, document=fee, amount_yen=15_000, paid_on=NOV_10)
    payments.payment_record(actor=secretariat_user, document=fee, amount_yen=15_000, paid_on=NOV_10)
    assert selectors.outstanding(fee) == 0


def test_no_payment_on_a_cancelled_document(books, settled, secretariat_user):
    project, lead, member, _buyer = settled
    old = statement_of(project, member.company)
    books.charge(project.packages.get(), 1_000, by=lead)
    runs.run_reopen(actor=secretariat_user, run=SettlementRun.objects.get(), reason="控除漏れ")
    books.close()
    with pytest.raises(InvalidTransition) as exc:
        payments.payment_record(actor=lead, document=old, amount_yen=1, paid_on=NOV_10)
    assert exc.value.field == "document"
    assert not Payment.objects.exists()


def test_payments_carry_over_to_the_reissued_document(books, settled, secretariat_user):
    project, lead, member, _buyer = settled
    old = statement_of(project, member.company)
    payments.payment_record(actor=lead, document=old, amount_yen=110_000, paid_on=NOV_10)
    books.charge(project.packages.get(), 10_000, by=lead)
    runs.run_reopen(actor=secretariat_user, run=SettlementRun.objects.get(), reason="控除漏れ")
    books.close()
    new = statement_of(project, member.company)
    assert new.total_yen == 99_000
    assert selectors.outstanding(new) == -11_000  # overpaid: the member owes the lead 11,000
    assert new.paid_in_full_on is not None


def test_team_pay_due_is_set_when_the_buyer_has_paid_in_full(books):
    Network.objects.filter(pk=books.network.pk).update(pay_team_within_days=10)
    books.network.refresh_from_db()
    lead = books.lead_user()
    members = [books.company_user(), books.company_user()]
    project = books.project(
        lead=lead,
        packages=[{"member": m, "quantity": 1, "unit_price": 10_000} for m in members],
    )
    books.close()
    invoice = invoice_of(project)
    payments.payment_record(actor=lead, document=invoice, amount_yen=100_000, paid_on=NOV_10)
    assert not issued(kind=DocumentKind.STATEMENT, team_pay_due__isnull=False).exists()
    payments.payment_record(
        actor=lead, document=invoice, amount_yen=1_000_000, paid_on=datetime.date(2026, 11, 25)
    )
    dues = set(issued(kind=DocumentKind.STATEMENT).values_list("team_pay_due", flat=True))
    assert dues == {datetime.date(2026, 12, 5)}


def test_without_a_team_pay_rule_statements_keep_the_terms(settled):
    project, lead, member, _buyer = settled
    payments.payment_record(
        actor=lead, document=invoice_of(project), amount_yen=1_100_000, paid_on=NOV_10
    )
    statement = statement_of(project, member.company)
    assert statement.team_pay_due is None and statement.due_date == datetime.date(2026, 11, 30)


# --- reminders ---------------------------------------------------------------------------


def kinds():
    return sorted(
        DomainEvent.objects.filter(kind__startswith="document.").values_list("kind", flat=True)
    )


def test_reminders_once_before_and_once_after_the_due_date(settled):
    project, lead, _member, _buyer = settled
    due = datetime.date(2026, 11, 30)
    assert payments.documents_remind_due(today=due - datetime.timedelta(days=4)) == 0
    assert payments.documents_remind_due(today=due - datetime.timedelta(days=3)) == 2
    assert payments.documents_remind_due(today=due - datetime.timedelta(days=1)) == 0
    assert payments.documents_remind_due(today=due) == 0
    # The buyer pays in time; the lead has not paid its member.
    payments.payment_record(
        actor=lead, document=invoice_of(project), amount_yen=1_100_000, paid_on=NOV_10
    )
    assert payments.documents_remind_due(today=due + datetime.timedelta(days=1)) == 1
    assert payments.documents_remind_due(today=due + datetime.timedelta(days=5)) == 0
    assert kinds() == ["document.due_soon", "document.due_soon", "document.overdue"]
    overdue = DomainEvent.objects.get(kind="document.overdue")
    assert overdue.payload["document_kind"] == "statement"
    assert overdue.payload["outstanding_yen"] == 110_000


def test_pay_when_paid_statements_fall_due_after_collection(books):
    Network.objects.filter(pk=books.network.pk).update(pay_team_within_days=10)
    books.network.refresh_from_db()
    lead = books.lead_user()
    member = books.company_user()
    project = books.project(
        lead=lead, packages=[{"member": member, "quantity": 1, "unit_price": 10_000}]
    )
    books.close()
    # Terms say 11/30, but the buyer has not paid: only the invoice is reminded.
    assert payments.documents_remind_due(today=datetime.date(2026, 12, 1)) == 1
    payments.payment_record(
        actor=lead,
        document=invoice_of(project),
        amount_yen=1_100_000,
        paid_on=datetime.date(2026, 11, 20),
    )
    assert payments.documents_remind_due(today=datetime.date(2026, 11, 27)) == 1  # due 11/30
    statement = statement_of(project, member.company)
    assert statement.due_soon_reminded_on == datetime.date(2026, 11, 27)
