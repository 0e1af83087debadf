"""Annual fees (年会費): the fee table per class, prorated by month, outside consumption tax."""

import datetime

import pytest

from billing import fees, periods, runs
from billing.models import Document, DocumentKind, SettlementRun
from core.errors import BrokerageError, NotAllowed
from core.transitions import history
from members.models import MembershipClass, MembershipFee, MembershipStatus, Network
from tests.billing.books import issued

FY2026 = datetime.date(2026, 4, 1)


def fee_of(company) -> Document:
    return issued(kind=DocumentKind.FEE, recipient_company=company).get()


def test_fees_from_the_table_prorated_at_the_joining_month(books, secretariat_user):
    full = books.company_user(joined_on=datetime.date(2019, 6, 1))
    october = books.company_user(joined_on=datetime.date(2026, 10, 15))
    march_lead = books.lead_user(joined_on=datetime.date(2027, 3, 1))
    supporter = books.company_user(
        membership_class=MembershipClass.SUPPORTING, joined_on=datetime.date(2026, 4, 30)
    )
    ended = books.company_user(joined_on=datetime.date(2019, 6, 1))
    ended.company.memberships.update(status=MembershipStatus.ENDED)
    next_year = books.company_user(joined_on=datetime.date(2027, 4, 1))

    run = fees.annual_fees(network=books.network, fiscal_year_start=FY2026, actor=secretariat_user)

    assert run.status == "completed" and run.kind == "annual_fees" and run.period == FY2026
    assert fee_of(full.company).total_yen == 15_000
    assert fee_of(october.company).total_yen == 7_500  # 6 of 12 months
    assert fee_of(march_lead.company).total_yen == 2_916  # 35,000 / 12, rounded down
    assert fee_of(supporter.company).total_yen == 30_000  # the first month counts whole
    assert not issued(recipient_company=ended.company).exists()
    assert not issued(recipient_company=next_year.company).exists()
    document = fee_of(october.company)
    line = document.lines.get()
    assert line.tax_rate == 0 and line.description == "2026年度 年会費（共同受注部会員） 6/12か月分"
    assert (document.tax_yen, document.subtotal_yen) == (0, 7_500)
    assert list(document.tax_lines.values_list("rate", "taxable_yen", "tax_yen")) == [(0, 7_500, 0)]
    assert not document.issuer_unregistered  # nothing to deduct on a non-taxable fee
    assert document.source_key == f"fee:2026:membership:{document.membership_id}"
    assert document.number.startswith("MIGAKIYA-FEE-")
    assert document.transaction_date == datetime.date(2026, 10, 15)


def test_without_proration_everyone_pays_the_full_fee(books):
    Network.objects.filter(pk=books.network.pk).update(prorate_fees=False)
    books.network.refresh_from_db()
    october = books.company_user(joined_on=datetime.date(2026, 10, 15))
    fees.annual_fees(network=books.network, fiscal_year_start=FY2026)
    assert fee_of(october.company).total_yen == 15_000


def test_a_later_run_bills_only_the_new_members(books):
    first = books.company_user(joined_on=datetime.date(2019, 6, 1))
    fees.annual_fees(network=books.network, fiscal_year_start=FY2026)
    billed = fee_of(first.company)
    newcomer = books.company_user(joined_on=datetime.date(2026, 12, 1))
    run = fees.annual_fees(network=books.network, fiscal_year_start=FY2026)
    assert fee_of(first.company).pk == billed.pk
    assert fee_of(newcomer.company).total_yen == 5_000  # 4 of 12 months
    assert Document.objects.count() == 2
    assert [(c.from_status, c.to_status) for c in history(run)] == [
        ("", "running"),
        ("running", "completed"),
        ("completed", "running"),
        ("running", "completed"),
    ]


def test_a_class_missing_from_the_fee_table_bills_nothing(books):
    books.company_user(joined_on=datetime.date(2019, 6, 1))
    books.company_user(membership_class=MembershipClass.SKILL_DIVISION)
    MembershipFee.objects.filter(
        network=books.network, membership_class=MembershipClass.SKILL_DIVISION
    ).delete()
    with pytest.raises(BrokerageError) as exc:
        fees.annual_fees(network=books.network, fiscal_year_start=FY2026)
    assert exc.value.field == "membership_class"
    assert str(MembershipClass.SKILL_DIVISION.label) in str(exc.value)
    assert not Document.objects.exists() and not SettlementRun.objects.exists()


def test_the_fiscal_year_and_the_actor_are_checked(books, lead_user):
    with pytest.raises(BrokerageError) as exc:
        fees.annual_fees(network=books.network, fiscal_year_start=datetime.date(2026, 1, 1))
    assert exc.value.field == "fiscal_year_start"
    with pytest.raises(NotAllowed):
        fees.annual_fees(network=books.network, fiscal_year_start=FY2026, actor=lead_user)
    assert not SettlementRun.objects.exists()


def test_a_reopened_fee_run_reissues_changed_fees(books, secretariat_user):
    member = books.company_user(joined_on=datetime.date(2019, 6, 1))
    run = fees.annual_fees(network=books.network, fiscal_year_start=FY2026)
    old = fee_of(member.company)
    MembershipFee.objects.filter(
        network=books.network, membership_class=MembershipClass.JOINT_ORDER
    ).update(annual_fee_yen=18_000)
    fees.annual_fees(network=books.network, fiscal_year_start=FY2026)  # rerun: no change
    assert fee_of(member.company).pk == old.pk
    runs.run_reopen(actor=secretariat_user, run=run, reason="総会で会費改定")
    fees.annual_fees(network=books.network, fiscal_year_start=FY2026)
    new = fee_of(member.company)
    assert new.replaces == old and new.total_yen == 18_000
    old.refresh_from_db()
    assert old.status == "cancelled" and old.cancel_reason == "総会で会費改定"


def test_fiscal_year_of(network):
    assert periods.fiscal_year_of(network, datetime.date(2027, 3, 31)) == FY2026
    assert periods.fiscal_year_of(network, datetime.date(2026, 4, 1)) == FY2026
    network.fiscal_year_start_month = 1
    assert periods.fiscal_year_of(network, datetime.date(2026, 12, 31)) == datetime.date(2026, 1, 1)
