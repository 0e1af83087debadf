import pytest
from django.core.exceptions import ValidationError

from members.validators import (
    corporate_number_check_digit,
    normalize_code,
    validate_corporate_number,
    validate_invoice_registration_number,
)


def test_check_digit_of_a_published_corporate_number():
    # 国税庁 (National Tax Agency): 7000012050002
    assert corporate_number_check_digit("000012050002") == 7
    validate_corporate_number("7000012050002")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("1000012050002", "corporate_number_check_digit"),
        ("700001205000", "corporate_number_format"),
        ("70000120500021", "corporate_number_format"),
        ("70000120500O2", "corporate_number_format"),
        ("", "corporate_number_format"),
    ],
)
def test_bad_corporate_numbers_are_refused_with_a_reason(value, code):
    with pytest.raises(ValidationError) as exc:
        validate_corporate_number(value)
    assert exc.value.code == code


def test_registration_number_is_t_plus_a_checked_number():
    validate_invoice_registration_number("T7000012050002")
    with pytest.raises(ValidationError) as exc:
        validate_invoice_registration_number("T1000012050002")
    assert exc.value.code == "registration_number_check_digit"
    with pytest.raises(ValidationError) as exc:
        validate_invoice_registration_number("7000012050002")
    assert exc.value.code == "registration_number_format"


def test_full_width_input_is_normalised():
    assert normalize_code("Ｔ７０００ ０１２０-５０００２") == "T7000012050002"
    assert normalize_code("ｔ7000012050002") == "T7000012050002"
