"""Consumption tax on qualified invoices: tax once per rate, exact integer rounding."""

import pytest

from billing.tax import (
    DEFAULT_ROUNDING,
    REDUCED_RATE,
    STANDARD_RATE,
    InvoiceTotals,
    Line,
    MoneyRuleError,
    RateTotal,
    RoundingMode,
    compute_invoice_totals,
    round_yen,
    validate_rate,
)


def line(price: int, qty: int = 1, rate: int = STANDARD_RATE, **kwargs) -> Line:
    return Line("研磨加工", quantity=qty, unit_price_yen=price, tax_rate=rate, **kwargs)


# round_yen


@pytest.mark.parametrize(
    ("numerator", "denominator", "mode", "expected"),
    [
        (3150, 100, RoundingMode.DOWN, 31),
        (3150, 100, RoundingMode.HALF_UP, 32),
        (3150, 100, RoundingMode.UP, 32),
        (3149, 100, RoundingMode.HALF_UP, 31),
        (3101, 100, RoundingMode.UP, 32),
        (3199, 100, RoundingMode.DOWN, 31),
        (3100, 100, RoundingMode.UP, 31),
        (0, 100, RoundingMode.UP, 0),
        (7, 12, "half_up", 1),
        # Negative amounts round like their positive mirror (return invoices).
        (-3150, 100, RoundingMode.DOWN, -31),
        (-3150, 100, RoundingMode.HALF_UP, -32),
        (-3101, 100, RoundingMode.UP, -32),
    ],
)
def test_round_yen(numerator, denominator, mode, expected):
    assert round_yen(numerator, denominator, mode) == expected


def test_round_yen_refuses_floats_zero_denominator_and_unknown_modes():
    with pytest.raises(MoneyRuleError, match="numerator") as caught:
        round_yen(31.5, 1, RoundingMode.DOWN)
    assert caught.value.field == "numerator"
    with pytest.raises(MoneyRuleError, match="denominator"):
        round_yen(1, 0, RoundingMode.DOWN)
    with pytest.raises(MoneyRuleError, match="mode"):
        round_yen(1, 2, "banker")


def test_rounding_mode_values_and_default():
    assert [m.value for m in RoundingMode] == ["down", "half_up", "up"]
    assert RoundingMode("half_up") is RoundingMode.HALF_UP
    assert DEFAULT_ROUNDING is RoundingMode.DOWN


# Lines


def test_line_amount_and_reduced_rate_mark():
    assert line(105, qty=3).amount_yen == 315
    assert line(500, rate=REDUCED_RATE).is_reduced_rate
    assert not line(500).is_reduced_rate
    assert line(-500, qty=3, is_deduction=True).amount_yen == -1500
    assert line(0).amount_yen == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -2}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"unit_price_yen": -1}, "unit_price_yen"),
        ({"unit_price_yen": 100.0}, "unit_price_yen"),
        ({"unit_price_yen": 100, "is_deduction": True}, "unit_price_yen"),
        ({"unit_price_yen": -100, "quantity": -1, "is_deduction": True}, "quantity"),
        ({"tax_rate": 5}, "tax_rate"),
        ({"tax_rate": 0}, "tax_rate"),
        ({"tax_rate": True}, "tax_rate"),
        ({"tax_rate": 10.0}, "tax_rate"),
        ({"description": "  "}, "description"),
    ],
)
def test_invalid_line_names_the_field(kwargs, field):
    values = {"description": "研磨加工", "quantity": 1, "unit_price_yen": 100, "tax_rate": 10}
    values.update(kwargs)
    with pytest.raises(ValueError, match=rf"^{field}:") as caught:
        Line(**values)
    assert caught.value.field == field


def test_validate_rate():
    assert validate_rate(10) == 10
    assert validate_rate(8) == 8
    with pytest.raises(MoneyRuleError, match="tax_rate"):
        validate_rate(5)


# Invoice totals


@pytest.mark.parametrize(
    ("mode", "tax"),
    [(RoundingMode.DOWN, 31), (RoundingMode.HALF_UP, 32), (RoundingMode.UP, 32)],
)
def test_three_lines_of_105_are_taxed_once_on_their_total(mode, tax):
    # 315 × 10% = 31.5; summing per-line tax (10.5 → 10, three times) would give 30.
    totals = compute_invoice_totals([line(105), line(105), line(105)], mode)
    assert totals == InvoiceTotals(
        by_rate=(RateTotal(rate=10, taxable_yen=315, tax_yen=tax),),
        subtotal_yen=315,
        tax_yen=tax,
        total_yen=315 + tax,
        rounding=mode,
    )


def test_rounding_given_as_stored_string():
    totals = compute_invoice_totals([line(105, qty=3)], "half_up")
    assert totals.rounding is RoundingMode.HALF_UP
    assert totals.tax_yen == 32


def test_half_up_at_exactly_half_and_just_below():
    # 10% of 1,005 = 100.5 exactly; of 1,004 = 100.4
    assert compute_invoice_totals([line(1005)], RoundingMode.HALF_UP).tax_yen == 101
    assert compute_invoice_totals([line(1004)], RoundingMode.HALF_UP).tax_yen == 100
    assert compute_invoice_totals([line(1005)], RoundingMode.DOWN).tax_yen == 100


def test_mixed_rates_on_one_invoice():
    lines = [
        line(1_234, qty=3, rate=STANDARD_RATE),  # 3,702
        line(987, qty=2, rate=REDUCED_RATE),  # 1,974
        line(555, rate=STANDARD_RATE),  # 555
        line(99, qty=7, rate=REDUCED_RATE),  # 693
    ]
    totals = compute_invoice_totals(lines, RoundingMode.DOWN)
    # 10%: 4,257 → 425.7 → 425; 8%: 2,667 → 213.36 → 213
    assert totals.by_rate == (
        RateTotal(rate=10, taxable_yen=4_257, tax_yen=425),
        RateTotal(rate=8, taxable_yen=2_667, tax_yen=213),
    )
    assert totals.subtotal_yen == 6_924
    assert totals.tax_yen == 638
    assert totals.total_yen == 7_562
    up = compute_invoice_totals(lines, RoundingMode.UP)
    assert [r.tax_yen for r in up.by_rate] == [426, 214]


def test_deductions_net_against_their_own_rate():
    lines = [
        line(12_000, qty=10),  # 120,000 at 10%
        line(-12_000, qty=2, is_deduction=True),  # defect charge 不良品値引 -24,000 at 10%
        line(3_000, rate=REDUCED_RATE),
    ]
    totals = compute_invoice_totals(lines, RoundingMode.DOWN)
    assert totals.by_rate == (
        RateTotal(rate=10, taxable_yen=96_000, tax_yen=9_600),
        RateTotal(rate=8, taxable_yen=3_000, tax_yen=240),
    )
    assert totals.total_yen == 108_840


def test_deduction_to_exactly_zero_is_allowed():
    totals = compute_invoice_totals([line(500), line(-500, is_deduction=True)], RoundingMode.DOWN)
    assert totals.by_rate == (RateTotal(rate=10, taxable_yen=0, tax_yen=0),)
    assert totals.total_yen == 0


def test_negative_net_for_a_rate_needs_a_return_invoice():
    # The 10% total is fine; the 8% one is negative even though the invoice as a whole is not.
    lines = [
        line(10_000),
        line(1_000, rate=REDUCED_RATE),
        line(-1_001, rate=REDUCED_RATE, is_deduction=True),
    ]
    with pytest.raises(ValueError, match="return invoice") as caught:
        compute_invoice_totals(lines, RoundingMode.DOWN)
    assert caught.value.field == "lines"


def test_big_amounts_stay_exact():
    lines = [line(9_999_999_999, qty=3), line(9_999_999_999, qty=1, rate=REDUCED_RATE)]
    totals = compute_invoice_totals(lines, RoundingMode.HALF_UP)
    # 29,999,999,997 × 10% = 2,999,999,999.7; 9,999,999,999 × 8% = 799,999,999.92
    assert totals.by_rate == (
        RateTotal(rate=10, taxable_yen=29_999_999_997, tax_yen=3_000_000_000),
        RateTotal(rate=8, taxable_yen=9_999_999_999, tax_yen=800_000_000),
    )
    assert totals.subtotal_yen == 39_999_999_996
    assert totals.total_yen == 43_799_999_996
    down = compute_invoice_totals(lines, RoundingMode.DOWN)
    assert [r.tax_yen for r in down.by_rate] == [2_999_999_999, 799_999_999]


def test_amounts_beyond_float_precision_stay_exact():
    # The taxable total × 10 passes 2**53, where a float would start dropping yen.
    totals = compute_invoice_totals([line(9_999_999_999, qty=100_001)], RoundingMode.DOWN)
    assert totals.subtotal_yen == 1_000_009_999_899_999
    assert totals.tax_yen == 100_000_999_989_999
    assert totals.total_yen == 1_100_010_999_889_998


def test_empty_invoice_and_unknown_rounding_are_refused():
    with pytest.raises(MoneyRuleError, match=r"^lines:"):
        compute_invoice_totals([], RoundingMode.DOWN)
    with pytest.raises(MoneyRuleError, match=r"^rounding:"):
        compute_invoice_totals([line(100)], "nearest")


# Outside consumption tax (不課税): membership fees


def test_a_non_taxable_line_has_rate_zero_and_bears_no_tax():
    fee = Line("年会費", quantity=1, unit_price_yen=15_000, tax_rate=0, non_taxable=True)
    totals = compute_invoice_totals([fee, line(1_005)], RoundingMode.UP)
    assert totals.by_rate == (
        RateTotal(rate=10, taxable_yen=1_005, tax_yen=101),
        RateTotal(rate=0, taxable_yen=15_000, tax_yen=0),
    )
    assert (totals.subtotal_yen, totals.tax_yen, totals.total_yen) == (16_005, 101, 16_106)


@pytest.mark.parametrize("rate", [10, 8, 5])
def test_a_non_taxable_line_refuses_a_rate(rate):
    with pytest.raises(MoneyRuleError, match=r"^tax_rate:"):
        Line("年会費", quantity=1, unit_price_yen=15_000, tax_rate=rate, non_taxable=True)
    assert validate_rate(0, non_taxable=True) == 0


def test_rounding_modes_by_value_member_and_subclass():
    from members.models import TaxRounding

    assert round_yen(3150, 100, TaxRounding.HALF_UP) == 32
    with pytest.raises(MoneyRuleError, match="mode"):
        round_yen(1, 2, ["down"])
