"""Payment terms (締め日・支払日) and the prorated annual fee (年会費の月割り)."""

from datetime import date

import pytest

from billing.tax import MoneyRuleError, RoundingMode
from billing.terms import add_months, closing_date, due_date, pay_team_due, prorate_annual_fee

MONTH_END = 31


def month_end_next_month(day: date) -> date:
    """月末締め翌月末払い"""
    return due_date(day, closing_day=MONTH_END, month_offset=1, payment_day=MONTH_END)


@pytest.mark.parametrize(
    ("transaction", "closing", "due"),
    [
        (date(2027, 1, 31), date(2027, 1, 31), date(2027, 2, 28)),
        (date(2027, 2, 1), date(2027, 2, 28), date(2027, 3, 31)),
        (date(2026, 12, 15), date(2026, 12, 31), date(2027, 1, 31)),
        (date(2026, 11, 30), date(2026, 11, 30), date(2026, 12, 31)),
        (date(2028, 1, 31), date(2028, 1, 31), date(2028, 2, 29)),
        (date(2027, 3, 31), date(2027, 3, 31), date(2027, 4, 30)),
    ],
)
def test_month_end_close_paid_at_the_end_of_next_month(transaction, closing, due):
    assert closing_date(transaction, MONTH_END) == closing
    assert month_end_next_month(transaction) == due


@pytest.mark.parametrize(
    ("transaction", "closing", "due"),
    [
        (date(2026, 10, 20), date(2026, 10, 20), date(2026, 11, 10)),
        (date(2026, 10, 21), date(2026, 11, 20), date(2026, 12, 10)),
        (date(2026, 12, 21), date(2027, 1, 20), date(2027, 2, 10)),
        (date(2026, 10, 1), date(2026, 10, 20), date(2026, 11, 10)),
    ],
)
def test_twentieth_close_paid_on_the_tenth_of_next_month(transaction, closing, due):
    """20日締め翌月10日払い"""
    assert closing_date(transaction, 20) == closing
    assert due_date(transaction, closing_day=20, month_offset=1, payment_day=10) == due


@pytest.mark.parametrize(
    ("transaction", "closing"),
    [
        (date(2028, 2, 10), date(2028, 2, 29)),  # leap year
        (date(2028, 2, 29), date(2028, 2, 29)),
        (date(2027, 2, 10), date(2027, 2, 28)),  # non-leap year
        (date(2027, 2, 28), date(2027, 2, 28)),
    ],
)
def test_closing_day_31_in_february_is_its_last_day(transaction, closing):
    assert closing_date(transaction, MONTH_END) == closing


def test_closing_day_30_in_february_and_after_it():
    # Feb 28 is past neither the 30th nor the month: it closes in February.
    assert closing_date(date(2027, 2, 28), 30) == date(2027, 2, 28)
    assert closing_date(date(2027, 3, 31), 30) == date(2027, 4, 30)


@pytest.mark.parametrize(
    ("transaction", "due"),
    [
        (date(2027, 1, 15), date(2027, 2, 28)),
        (date(2028, 1, 15), date(2028, 2, 29)),
        (date(2027, 2, 15), date(2027, 3, 30)),
    ],
)
def test_payment_day_30_in_february_is_its_last_day(transaction, due):
    """月末締め翌月30日払い"""
    assert due_date(transaction, closing_day=MONTH_END, month_offset=1, payment_day=30) == due


def test_month_offset_zero_pays_in_the_closing_month():
    """15日締め当月末払い"""
    assert due_date(date(2027, 2, 3), closing_day=15, month_offset=0, payment_day=MONTH_END) == (
        date(2027, 2, 28)
    )
    assert due_date(date(2027, 2, 16), closing_day=15, month_offset=0, payment_day=25) == (
        date(2027, 3, 25)
    )


def test_month_offset_two_crosses_the_year_end():
    """月末締め翌々月末払い"""
    assert due_date(date(2026, 11, 5), closing_day=31, month_offset=2, payment_day=31) == (
        date(2027, 1, 31)
    )
    assert due_date(date(2026, 12, 31), closing_day=31, month_offset=2, payment_day=31) == (
        date(2027, 2, 28)
    )
    assert due_date(date(2027, 12, 21), closing_day=20, month_offset=2, payment_day=10) == (
        date(2028, 3, 10)
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"closing_day": 0}, "closing_day"),
        ({"closing_day": 32}, "closing_day"),
        ({"payment_day": 0}, "payment_day"),
        ({"month_offset": -1}, "month_offset"),
        ({"month_offset": 1.0}, "month_offset"),
        # 20日締め当月10日払い would fall due before the closing.
        ({"closing_day": 20, "month_offset": 0, "payment_day": 10}, "payment_day"),
    ],
)
def test_invalid_terms_name_the_field(kwargs, field):
    terms = {"closing_day": 31, "month_offset": 1, "payment_day": 31} | kwargs
    with pytest.raises(ValueError, match=rf"^{field}:") as caught:
        due_date(date(2026, 10, 5), **terms)
    assert caught.value.field == field


def test_pay_team_due_counts_calendar_days():
    assert pay_team_due(date(2026, 12, 25), 10) == date(2027, 1, 4)
    assert pay_team_due(date(2028, 2, 20), 10) == date(2028, 3, 1)
    assert pay_team_due(date(2026, 10, 5), 0) == date(2026, 10, 5)
    with pytest.raises(MoneyRuleError, match=r"^within_days:"):
        pay_team_due(date(2026, 10, 5), -1)


APRIL_2026 = date(2026, 4, 1)


@pytest.mark.parametrize(
    ("joined_on", "fee"),
    [
        (date(2025, 11, 20), 120_000),  # before the year: full fee
        (date(2026, 3, 31), 120_000),
        (date(2026, 4, 1), 120_000),  # first month counts whole
        (date(2026, 4, 30), 120_000),
        (date(2026, 5, 1), 110_000),
        (date(2026, 10, 15), 60_000),  # 6 of 12 months
        (date(2026, 12, 31), 40_000),
        (date(2027, 1, 1), 30_000),  # across the calendar year
        (date(2027, 3, 1), 10_000),  # last month: 1 of 12
        (date(2027, 3, 31), 10_000),
    ],
)
def test_prorated_annual_fee(joined_on, fee):
    assert prorate_annual_fee(120_000, fiscal_year_start=APRIL_2026, joined_on=joined_on) == fee


def test_prorated_fee_rounds_down_unless_told_otherwise():
    # 50,000 × 7 / 12 = 29,166.67
    joined = date(2026, 9, 1)
    assert prorate_annual_fee(50_000, fiscal_year_start=APRIL_2026, joined_on=joined) == 29_166
    assert (
        prorate_annual_fee(
            50_000, fiscal_year_start=APRIL_2026, joined_on=joined, mode=RoundingMode.HALF_UP
        )
        == 29_167
    )


def test_prorated_fee_for_a_calendar_fiscal_year():
    january = date(2027, 1, 1)
    assert prorate_annual_fee(36_000, fiscal_year_start=january, joined_on=date(2027, 12, 9)) == (
        3_000
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"joined_on": date(2027, 4, 1)}, "joined_on"),  # after the year's end
        ({"fiscal_year_start": date(2026, 4, 15)}, "fiscal_year_start"),
        ({"annual_fee_yen": -1}, "annual_fee_yen"),
        ({"annual_fee_yen": 12_000.0}, "annual_fee_yen"),
    ],
)
def test_invalid_proration_names_the_field(kwargs, field):
    args = {
        "annual_fee_yen": 12_000,
        "fiscal_year_start": APRIL_2026,
        "joined_on": date(2026, 10, 15),
    } | kwargs
    with pytest.raises(ValueError, match=rf"^{field}:") as caught:
        prorate_annual_fee(args.pop("annual_fee_yen"), **args)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 10, 20), 12, date(2027, 10, 20)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2027, 1, 15), -13, date(2025, 12, 15)),
        (date(2026, 5, 5), 0, date(2026, 5, 5)),
    ],
)
def test_add_months_keeps_the_day_or_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


def test_add_months_refuses_fractions():
    with pytest.raises(MoneyRuleError, match=r"^months:"):
        add_months(date(2026, 1, 1), 1.0)
