"""Who sees which document, payment and run; a company's ledger."""

import datetime

import pytest
from django.utils import timezone

from billing import fees, payments, runs, selectors
from billing.models import DocumentKind, SettlementRun
from core.errors import NotAllowed
from members.models import Network
from tests.billing.books import Books, invoice_of, statement_of
from tests.factories import BuyerFactory, UserFactory


@pytest.fixture
def world(books, buff, stainless, secretariat_user, other_secretariat_user, committee_user):
    """October closed in two networks; in ours a lead, its member, a member of the same
    network outside the project, the buyer, another buyer; commissions and fees too."""
    Network.objects.filter(pk=books.network.pk).update(
        commission_basis_points=100, commission_months=12
    )
    books.network.refresh_from_db()
    lead = books.lead_user(joined_on=datetime.date(2026, 3, 1))
    member = books.company_user()
    bystander = books.company_user()
    buyer = BuyerFactory()
    project = books.project(
        lead=lead,
        buyer=buyer,
        packages=[{"member": member, "quantity": 10, "unit_price": 1_000}],
    )
    books.close()
    fees.annual_fees(network=books.network, fiscal_year_start=datetime.date(2026, 4, 1))
    today = timezone.localdate()
    payments.payment_record(
        actor=lead, document=invoice_of(project), amount_yen=1_000, paid_on=today
    )
    payments.payment_record(
        actor=lead, document=statement_of(project, member.company), amount_yen=500, paid_on=today
    )
    elsewhere = Books(other_secretariat_user.network_seats.get().network, buff, stainless)
    elsewhere_lead = elsewhere.lead_user()
    elsewhere.project(lead=elsewhere_lead)
    elsewhere.close()
    return {
        "project": project,
        "lead": lead,
        "member": member,
        "other_member": bystander,
        "buyer": buyer.user,
        "other_buyer": BuyerFactory().user,
        "secretariat": secretariat_user,
        "committee": committee_user,
        "other_secretariat": other_secretariat_user,
        "admin": UserFactory(is_superuser=True),
        "anonymous": None,
    }


def kinds_seen(viewer) -> list[str]:
    return sorted((d.kind, d.network.slug) for d in selectors.document_list(viewer=viewer))


EXPECTED = {
    # the invoice it issued, the statement it received, its commission and its fee
    "lead": [
        ("commission", "migakiya"),
        ("fee", "migakiya"),
        ("invoice", "migakiya"),
        ("statement", "migakiya"),
    ],
    "member": [("fee", "migakiya"), ("statement", "migakiya")],
    "other_member": [("fee", "migakiya")],
    "buyer": [("invoice", "migakiya")],
    "other_buyer": [],
    "other_secretariat": [("invoice", "other")],
    "anonymous": [],
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_documents_each_role_sees(world, role):
    assert kinds_seen(world[role]) == EXPECTED[role]


@pytest.mark.parametrize("role", ["secretariat", "committee", "admin"])
def test_staff_see_every_document_of_their_network(world, role):
    seen = kinds_seen(world[role])
    ours = [k for k in seen if k[1] == "migakiya"]
    assert len(ours) == 3 + 3  # invoice, statement, commission; three members' fees
    if role != "admin":
        assert all(slug == "migakiya" for _kind, slug in seen)
    else:
        assert ("invoice", "other") in seen


@pytest.mark.parametrize(
    ("role", "count"),
    [
        ("lead", 2),
        ("member", 1),
        ("buyer", 1),
        ("other_member", 0),
        ("other_buyer", 0),
        ("secretariat", 2),
        ("other_secretariat", 0),
        ("anonymous", 0),
    ],
)
def test_payments_each_role_sees(world, role, count):
    assert selectors.payment_list(viewer=world[role]).count() == count


@pytest.mark.parametrize(
    ("role", "runs"),
    [
        ("secretariat", 2),
        ("committee", 2),
        ("admin", 3),
        ("other_secretariat", 1),
        ("lead", 0),
        ("member", 0),
        ("buyer", 0),
        ("anonymous", 0),
    ],
)
def test_runs_are_for_staff(world, role, runs):
    assert selectors.run_list(viewer=world[role]).count() == runs


def test_ledger_rows_and_running_balance(world, secretariat_user, books):
    lead, project = world["lead"], world["project"]
    rows = selectors.ledger(company=lead.company, viewer=lead)
    assert [(r.entry, r.amount_yen) for r in rows] == [
        ("billed", 1_100_000),
        ("owes", -11_000),  # the member's statement
        ("owes", -10_890),  # commission: 1% of 1,000,000 − 10,000, plus tax
        ("owes", -35_000),  # the annual fee (the lead joined before the year)
        ("received", -1_000),
        ("paid", 500),
    ]
    assert [r.balance_yen for r in rows] == [
        1_100_000,
        1_089_000,
        1_078_110,
        1_043_110,
        1_042_110,
        1_042_610,
    ]
    assert rows[0].counterparty == str(project.inquiry.buyer)
    # The staff see the same rows; a correction shows the cancellation and the reissue.
    books.charge(project.packages.get(), 1_000, by=lead)
    runs.run_reopen(
        actor=secretariat_user,
        run=SettlementRun.objects.get(network=books.network, kind="monthly_close"),
        reason="控除漏れ",
    )
    books.close()
    rows = selectors.ledger(company=lead.company, viewer=secretariat_user)
    entries = [(r.entry, r.amount_yen) for r in rows]
    assert entries[-4:] == [
        ("cancelled", 11_000),
        ("owes", -9_900),  # the statement less the charge
        ("cancelled", 10_890),
        ("owes", -10_901),  # 1% of 991,000, plus tax
    ]
    assert rows[-1].balance_yen == 1_042_610 + 11_000 + 10_890 - 9_900 - 10_901


@pytest.mark.parametrize("role", ["member", "buyer", "other_secretariat", "anonymous"])
def test_the_ledger_is_private(world, role):
    with pytest.raises(NotAllowed):
        selectors.ledger(company=world["lead"].company, viewer=world[role])


def test_list_queries_do_not_grow_with_the_rows(world, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        rows = list(selectors.document_list(viewer=world["secretariat"]))
        names = [(d.network.name, d.issuer_company, d.recipient_buyer, d.project) for d in rows]
    assert len(names) == 6


def test_outstanding_of_a_document(world):
    invoice = invoice_of(world["project"])
    assert selectors.outstanding(invoice) == 1_099_000
    assert invoice.kind == DocumentKind.INVOICE
