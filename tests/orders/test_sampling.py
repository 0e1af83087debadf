"""ISO 2859-1 single sampling, normal inspection: values checked against Tables I and II-A."""

from decimal import Decimal

import pytest

from orders import sampling


@pytest.mark.parametrize(
    ("lot", "level", "letter"),
    [
        (2, "II", "A"),
        (8, "III", "B"),
        (50, "II", "D"),
        (51, "II", "E"),
        (500, "II", "H"),
        (1000, "II", "J"),
        (1000, "I", "G"),
        (1000, "III", "K"),
        (3200, "II", "K"),
        (10000, "S-4", "G"),
        (600000, "III", "R"),
        (90, "S-1", "B"),
    ],
)
def test_code_letters_follow_table_one(lot, level, letter):
    assert sampling.code_letter(lot, level) == letter


@pytest.mark.parametrize(
    ("lot", "level", "aql", "expected"),
    [
        # The textbook cases: lot 1,000, level II → J, 80 items.
        (1000, "II", "2.5", ("J", 80, 5, 6)),
        (1000, "II", "4.0", ("J", 80, 7, 8)),
        (1000, "II", "1.0", ("J", 80, 2, 3)),
        (1000, "II", "0.65", ("J", 80, 1, 2)),
        (1000, "II", "0.15", ("J", 80, 0, 1)),
        # Arrow down: use the next plan below (K, 125 items).
        (1000, "II", "0.40", ("K", 125, 1, 2)),
        # Arrow up: use the plan above (H, 50 items).
        (1000, "II", "0.25", ("H", 50, 0, 1)),
        (500, "II", "2.5", ("H", 50, 3, 4)),
        (3200, "II", "2.5", ("K", 125, 7, 8)),
        (300, "II", "1.5", ("H", 50, 2, 3)),
        (200, "II", "6.5", ("G", 32, 5, 6)),
        # Small lots at a strict AQL follow the arrows down to 0/1.
        (20, "II", "1.0", ("E", 13, 0, 1)),
        (10, "II", "0.10", ("K", 125, 0, 1)),
    ],
)
def test_plans_follow_table_two_a(lot, level, aql, expected):
    plan = sampling.plan(lot, level, aql)
    assert (plan.code_letter, plan.sample_size, plan.accept, plan.reject) == expected


def test_a_sample_as_large_as_the_lot_means_every_item():
    plan = sampling.plan(10, "II", Decimal("0.10"))
    assert plan.inspect_all
    assert not sampling.plan(1000, "II", "2.5").inspect_all


def test_acceptance_uses_the_acceptance_number():
    plan = sampling.plan(1000, "II", "2.5")
    assert plan.lot_accepted(5)
    assert not plan.lot_accepted(6)


def test_every_cell_of_the_table_resolves_to_a_plan():
    for lot in (2, 9, 16, 26, 51, 91, 151, 281, 501, 1201, 3201, 10001, 35001, 150001, 500001):
        for level in sampling.LEVELS:
            for aql in sampling.AQLS:
                plan = sampling.plan(lot, level, aql)
                assert plan.reject == plan.accept + 1
                assert plan.sample_size in sampling.SAMPLE_SIZES


@pytest.mark.parametrize(
    ("lot", "level", "aql"), [(1, "II", "1.0"), (10, "IV", "1.0"), (10, "II", "3")]
)
def test_bad_input_is_refused(lot, level, aql):
    with pytest.raises(ValueError):
        sampling.plan(lot, level, aql)
