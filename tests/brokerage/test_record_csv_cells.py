# ruff: noqa: F811  (the fixtures are imported, then requested by name)
"""CSV injection in the order record's CSV files: member names and catalogue names that a
spreadsheet would run as formulas are written as text (a leading `'`); counts and amounts
stay numbers."""

import csv
import io

from django.urls import reverse

from core.csv import FORMULA_STARTS
from members.models import Company, Material, Process
from tests.brokerage.test_record_pages import FY, history, today  # noqa: F401 (fixtures)

COMPANIES = {"m1": '=HYPERLINK("http://x","y")', "m2": "+1", "m3": "-2+3"}
CATALOGUE = {"buff": "@SUM(A1)", "electro": "\tX", "aluminium": "\rX"}


def _rename(history):
    for who, name in COMPANIES.items():
        company_id = getattr(history, who).company_id
        Company.objects.filter(pk=company_id).update(legal_name=name, name_en=name)
    for what, name in CATALOGUE.items():
        model = Material if what == "aluminium" else Process
        model.objects.filter(pk=getattr(history, what).pk).update(name_ja=name, name_en=name)


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _unsafe(rows) -> list[str]:
    return [c for row in rows for c in row if c.startswith(FORMULA_STARTS)]


def test_the_record_csv_writes_formula_names_as_text(client, history, today):
    _rename(history)
    client.force_login(history.secretariat)
    rows = _rows(client.get(reverse("record_csv", args=[history.network.pk]) + "?" + FY))
    assert not _unsafe(rows)
    by_item = {row[1]: row for row in rows}
    for name in CATALOGUE.values():
        row = by_item["'" + name]
        assert int(row[2]) >= 1 and int(row[3]) >= 0  # orders and value stay numbers
    assert by_item["'@SUM(A1)"][2:] == ["2", "1600000"]


def test_the_scorecards_csv_writes_formula_names_as_text(client, history, today):
    _rename(history)
    client.force_login(history.secretariat)
    rows = _rows(client.get(reverse("record_scorecards_csv", args=[history.network.pk])))
    assert not _unsafe(rows)
    by_company = {row[0]: row for row in rows[1:]}
    for name in COMPANIES.values():
        assert "'" + name in by_company
    m1 = by_company["'" + COMPANIES["m1"]]
    assert m1[2:4] == ["2", "200000"]  # packages taken and their value: plain integers
