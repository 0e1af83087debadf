"""Japanese identifiers: the corporate number (法人番号) and the invoice registration number."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def normalize_code(value: str) -> str:
    """Full-width to half-width (users type `Ｔ１２３…`), spaces and hyphens removed, upper case."""
    value = unicodedata.normalize("NFKC", value or "")
    return re.sub(r"[\s\-‐−ー]", "", value).upper()


def corporate_number_check_digit(base12: str) -> int:
    """Check digit of a corporate number: 9 − (Σ Pn·Qn mod 9), n counted from the lowest digit,
    Qn = 1 for odd n and 2 for even n."""
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(base12), start=1))
    return 9 - total % 9


def validate_corporate_number(value: str) -> None:
    if not re.fullmatch(r"\d{13}", value or ""):
        raise ValidationError(_("A corporate number is 13 digits."), code="corporate_number_format")
    if int(value[0]) != corporate_number_check_digit(value[1:]):
        raise ValidationError(
            _("The check digit of this corporate number is wrong."),
            code="corporate_number_check_digit",
        )


def validate_invoice_registration_number(value: str) -> None:
    if not re.fullmatch(r"T\d{13}", value or ""):
        raise ValidationError(
            _("A registration number is T followed by 13 digits."),
            code="registration_number_format",
        )
    if int(value[1]) != corporate_number_check_digit(value[2:]):
        raise ValidationError(
            _("The check digit of this registration number is wrong."),
            code="registration_number_check_digit",
        )


def validate_postal_code(value: str) -> None:
    if not re.fullmatch(r"\d{3}-?\d{4}", value or ""):
        raise ValidationError(_("A postal code is 7 digits, e.g. 959-1200."), code="postal_code")
