"""Payment terms (支払条件) and prorated fees, with the standard library's calendar only.

Day numbers past a month's end mean its last day, so 31 is "month end" (月末) in every month.
"""

import calendar
import datetime

from .tax import DEFAULT_ROUNDING, MoneyRuleError, RoundingMode, _require_int, round_yen


def _day_in_month(year: int, month: int, day: int) -> datetime.date:
    """`day` of the month, or its last day when the month is shorter (Feb 28/29, 30-day months)."""
    return datetime.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later (earlier when negative), or that month's last day when it
    is shorter: 2026-01-31 + 1 month → 2026-02-28."""
    year, month = _add_months(day.year, day.month, _require_int("months", months))
    return _day_in_month(year, month, day.day)


def _require_day(field: str, day: int) -> int:
    if not 1 <= _require_int(field, day) <= 31:
        raise MoneyRuleError(field, f"must be between 1 and 31 (31 = month end), got {day}")
    return day


def closing_date(transaction_date: datetime.date, closing_day: int) -> datetime.date:
    """The closing date (締め日) that takes in this transaction.

    On or before the closing day of its month: that month's closing; after it: next month's.
    """
    _require_day("closing_day", closing_day)
    this_month = _day_in_month(transaction_date.year, transaction_date.month, closing_day)
    if transaction_date.day <= this_month.day:
        return this_month
    year, month = _add_months(transaction_date.year, transaction_date.month, 1)
    return _day_in_month(year, month, closing_day)


def due_date(
    transaction_date: datetime.date, *, closing_day: int, month_offset: int, payment_day: int
) -> datetime.date:
    """When payment is due under "<closing_day>締め<month_offset>ヶ月後<payment_day>払い".

    月末締め翌月末払い: closing_day=31, month_offset=1, payment_day=31.
    20日締め翌月10日払い: closing_day=20, month_offset=1, payment_day=10.
    A due date before the closing date (e.g. 20日締め当月10日払い) raises MoneyRuleError.
    """
    closing = closing_date(transaction_date, closing_day)
    if _require_int("month_offset", month_offset) < 0:
        raise MoneyRuleError("month_offset", f"must be 0 or more, got {month_offset}")
    _require_day("payment_day", payment_day)
    year, month = _add_months(closing.year, closing.month, month_offset)
    due = _day_in_month(year, month, payment_day)
    if due < closing:
        raise MoneyRuleError("payment_day", f"due {due} would precede the closing on {closing}")
    return due


def pay_team_due(collected_on: datetime.date, within_days: int) -> datetime.date:
    """When the lead must pay its team: `within_days` calendar days after collecting."""
    if _require_int("within_days", within_days) < 0:
        raise MoneyRuleError("within_days", f"must be 0 or more, got {within_days}")
    return collected_on + datetime.timedelta(days=within_days)


# What the network itself bills (fees, commissions): month-end close, paid at the end of the
# next month (月末締め翌月末払い).
NETWORK_TERMS = {"closing_day": 31, "month_offset": 1, "payment_day": 31}


def network_due_date(transaction_date: datetime.date) -> datetime.date:
    """When a fee or commission billed on `transaction_date` is due (NETWORK_TERMS)."""
    return due_date(transaction_date, **NETWORK_TERMS)


def prorate_annual_fee(
    annual_fee_yen: int,
    *,
    fiscal_year_start: datetime.date,
    joined_on: datetime.date,
    mode: RoundingMode | str = DEFAULT_ROUNDING,
) -> int:
    """The annual fee (年会費) for the months left in the fiscal year, the joining month counted
    whole (月割り): fiscal year from April, joining 2026-10-15 → 6/12 of the fee.

    Joining before the year starts pays the full fee; joining after it ends raises.
    """
    if _require_int("annual_fee_yen", annual_fee_yen) < 0:
        raise MoneyRuleError("annual_fee_yen", f"must be 0 or more, got {annual_fee_yen}")
    if fiscal_year_start.day != 1:
        raise MoneyRuleError("fiscal_year_start", "must be the first day of a month")
    months_elapsed = (joined_on.year - fiscal_year_start.year) * 12 + (
        joined_on.month - fiscal_year_start.month
    )
    if months_elapsed < 0:
        return annual_fee_yen
    if months_elapsed >= 12:
        raise MoneyRuleError("joined_on", f"{joined_on} is after the fiscal year's end")
    return round_yen(annual_fee_yen * (12 - months_elapsed), 12, mode)
