"""Consumption tax (消費税) on qualified invoices (適格請求書), in whole yen.

Pure rules, no database: integers only, so ¥9,999,999,999 lines add up exactly. Tax is computed
once per invoice per rate on that rate's total (never summed from rounded lines), with the
rounding mode the issuer chose.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class RoundingMode(models.TextChoices):
    """How the issuer rounds fractions of a yen (端数処理). Stored per issuer."""

    DOWN = "down", _("Round down (切り捨て)")
    HALF_UP = "half_up", _("Round half up (四捨五入)")
    UP = "up", _("Round up (切り上げ)")


DEFAULT_ROUNDING = RoundingMode.DOWN

STANDARD_RATE = 10  # 標準税率, percent
REDUCED_RATE = 8  # 軽減税率, percent
VALID_RATES = (STANDARD_RATE, REDUCED_RATE)
# Outside consumption tax (不課税), e.g. a voluntary association's membership fee (年会費):
# a rate of 0 that a line must ask for explicitly (`Line(non_taxable=True)`), so a forgotten
# rate is never silently untaxed.
NON_TAXABLE_RATE = 0


class MoneyRuleError(ValueError):
    """An amount, rate or date breaks a money rule. `field` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def _require_int(field: str, value: object) -> int:
    # bool is an int subclass and a float would bring rounding error: refuse both.
    if isinstance(value, bool) or not isinstance(value, int):
        raise MoneyRuleError(field, f"must be an integer, got {value!r}")
    return value


_MODES = {mode.value: mode for mode in RoundingMode}


def _rounding_mode(field: str, mode: RoundingMode | str) -> RoundingMode:
    # A dict lookup rather than RoundingMode(mode): a monthly close rounds ~100,000 times.
    try:
        return _MODES[mode]
    except (KeyError, TypeError):
        raise MoneyRuleError(field, f"unknown rounding mode {mode!r}") from None


def round_yen(numerator: int, denominator: int, mode: RoundingMode | str) -> int:
    """numerator / denominator rounded to whole yen, exactly.

    Modes work on the magnitude (down = toward zero, half_up = half away from zero, up = away
    from zero), so a negative amount rounds like its positive mirror, as on a return invoice.
    """
    _require_int("numerator", numerator)
    _require_int("denominator", denominator)
    if denominator <= 0:
        raise MoneyRuleError("denominator", "must be positive")
    mode = _rounding_mode("mode", mode)
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    carry = {
        RoundingMode.DOWN: False,
        RoundingMode.HALF_UP: 2 * remainder >= denominator,
        RoundingMode.UP: remainder > 0,
    }[mode]
    return sign * (quotient + carry)


def validate_rate(rate: int, field: str = "tax_rate", *, non_taxable: bool = False) -> int:
    """The rate, if it is 10 or 8 (integer percent), or 0 when `non_taxable` (不課税) is
    asked for; MoneyRuleError otherwise."""
    _require_int(field, rate)
    if non_taxable:
        if rate != NON_TAXABLE_RATE:
            raise MoneyRuleError(field, f"a non-taxable line has rate 0, got {rate}")
        return rate
    if rate not in VALID_RATES:
        raise MoneyRuleError(field, f"must be one of {VALID_RATES}, got {rate}")
    return rate


@dataclass(frozen=True)
class Line:
    """One invoice line (明細), tax excluded.

    A deduction (控除, e.g. a defect charge 不良品値引) is a line with `is_deduction=True` and a
    negative unit price; every other line has a unit price of zero or more. Quantity is at
    least 1 either way, so the sign lives in one place. A line outside consumption tax (不課税)
    has `non_taxable=True` and rate 0; its total is shown apart and bears no tax.
    """

    description: str
    quantity: int
    unit_price_yen: int
    tax_rate: int
    is_deduction: bool = False
    non_taxable: bool = False

    def __post_init__(self) -> None:
        if not self.description or not self.description.strip():
            raise MoneyRuleError("description", "must not be empty")
        if _require_int("quantity", self.quantity) < 1:
            raise MoneyRuleError("quantity", f"must be at least 1, got {self.quantity}")
        _require_int("unit_price_yen", self.unit_price_yen)
        if self.is_deduction and self.unit_price_yen >= 0:
            raise MoneyRuleError("unit_price_yen", "a deduction line needs a negative price")
        if not self.is_deduction and self.unit_price_yen < 0:
            raise MoneyRuleError(
                "unit_price_yen", "negative only on a deduction line (is_deduction=True)"
            )
        validate_rate(self.tax_rate, non_taxable=self.non_taxable)

    @property
    def amount_yen(self) -> int:
        return self.quantity * self.unit_price_yen

    @property
    def is_reduced_rate(self) -> bool:
        """The invoice must mark these lines (軽減税率対象, usually ※)."""
        return self.tax_rate == REDUCED_RATE


@dataclass(frozen=True)
class RateTotal:
    """One rate's net total of lines (税率ごとの対価の額) and the tax on it."""

    rate: int
    taxable_yen: int
    tax_yen: int


@dataclass(frozen=True)
class InvoiceTotals:
    """Totals as a qualified invoice shows them; `by_rate` holds the rates used, highest first."""

    by_rate: tuple[RateTotal, ...]
    subtotal_yen: int
    tax_yen: int
    total_yen: int
    rounding: RoundingMode


def compute_invoice_totals(lines: Iterable[Line], rounding: RoundingMode | str) -> InvoiceTotals:
    """Per-rate totals, tax once per rate, and the invoice totals.

    Deductions net against their own rate. A rate whose net total is negative raises
    MoneyRuleError: that needs a return invoice (返還インボイス) instead.
    """
    rounding = _rounding_mode("rounding", rounding)
    lines = list(lines)
    if not lines:
        raise MoneyRuleError("lines", "an invoice needs at least one line")
    net_by_rate: dict[int, int] = {}
    for line in lines:
        if not isinstance(line, Line):
            raise MoneyRuleError("lines", f"expected Line, got {type(line).__name__}")
        net_by_rate[line.tax_rate] = net_by_rate.get(line.tax_rate, 0) + line.amount_yen
    by_rate = []
    for rate in sorted(net_by_rate, reverse=True):
        taxable = net_by_rate[rate]
        if taxable < 0:
            raise MoneyRuleError(
                "lines",
                f"the {rate}% lines total ¥{taxable:,}: issue a return invoice instead",
            )
        by_rate.append(RateTotal(rate, taxable, round_yen(taxable * rate, 100, rounding)))
    subtotal = sum(r.taxable_yen for r in by_rate)
    tax = sum(r.tax_yen for r in by_rate)
    return InvoiceTotals(
        by_rate=tuple(by_rate),
        subtotal_yen=subtotal,
        tax_yen=tax,
        total_yen=subtotal + tax,
        rounding=rounding,
    )
