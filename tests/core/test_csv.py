"""core.csv: the one CSV writer for people. Text that a spreadsheet would run is written with
a leading `'`; numbers, dates and plain text are written as they are."""

import csv
import datetime
import io
from decimal import Decimal

import pytest

from core.csv import escape_cell, excel_bytes

FORMULAS = [
    '=HYPERLINK("http://x","y")',
    "+1",
    "-2+3",
    "@SUM(A1)",
    "\tX",
    "\rX",
    "-100",  # text that looks like a number is still text (OWASP)
    "＝1+1",  # full-width, as Japanese input types it
    "＠SUM(A1)",
]


def _parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize("text", FORMULAS)
def test_a_formula_text_is_written_as_text(text):
    rows = _parse(excel_bytes([["名前", "金額"], [text, 1_000]]))
    assert rows[1] == ["'" + text, "1000"]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (-1_500, "-1500"),  # a negative amount stays a number
        (Decimal("-2.5"), "-2.5"),
        (0, "0"),
        ("株式会社=研磨", "株式会社=研磨"),  # only the first character counts
        (" =1+1", " =1+1"),  # a leading space makes it text already
        ("", ""),
        (None, ""),
        (datetime.date(2026, 11, 1), "2026-11-01"),
        ("2026-04-01 – 2027-03-31", "2026-04-01 – 2027-03-31"),
    ],
)
def test_numbers_and_plain_text_are_written_as_they_are(value, written):
    assert _parse(excel_bytes([[value]])) == [[written]]


def test_escape_cell_keeps_numbers_as_numbers():
    assert escape_cell(-3) == -3
    assert escape_cell(Decimal("-1")) == Decimal("-1")
    assert escape_cell("-3") == "'-3"


def test_the_file_has_a_bom_and_crlf_and_quotes_what_needs_quoting():
    data = excel_bytes([["a", 'say "hi"'], ["\rX", "b,c"]])
    assert data.startswith("\ufeff".encode())
    assert data.decode("utf-8-sig") == 'a,"say ""hi"""\r\n"\'\rX","b,c"\r\n'
