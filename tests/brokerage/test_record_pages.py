"""The order record's pages, CSV files and API: who may see what (every role), the figures
as shown, the filters, the probation page, and a query budget that does not grow with the
number of inquiries or members."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from brokerage import probation as probation_services
from members.models import Probation, ProbationRule, StaffRole
from orders import services as order_services
from tests import scenarios
from tests.factories import (
    BuyerFactory,
    InvitationFactory,
    NetworkStaffFactory,
    WorkPackageFactory,
)

from .record_history import build_history, travel

pytestmark = pytest.mark.django_db

FY = "from=2026-04-01&to=2027-03-31"
RULE = {
    "is_active": "on",
    "min_on_time_rate_pct": 80,
    "max_defect_rate_pct": "2.5",
    "min_completed_packages": 2,
    "window_months": 12,
    "max_package_value_yen": 50_000,
    "minimum_months": 3,
}


@pytest.fixture
def history(network):
    return build_history(network)


@pytest.fixture
def today(history):
    """Requests on 2026-11-25, in fiscal year 2026 (April 2026 to March 2027)."""
    with travel("2026-11-25"):
        yield datetime.date(2026, 11, 25)


@pytest.fixture
def people(history, other_network):
    return {
        "secretariat": history.secretariat,
        "committee": NetworkStaffFactory(network=history.network, role=StaffRole.COMMITTEE).user,
        "other_secretariat": NetworkStaffFactory(
            network=other_network, role=StaffRole.SECRETARIAT
        ).user,
        "lead": history.lead1,
        "member": history.m1,
        "buyer": history.buyer,
        "other_buyer": BuyerFactory().user,
        "other_member": scenarios.company_user(other_network),
    }


def _pages(network_id):
    return [
        reverse("record_dashboard", args=[network_id]),
        reverse("record_csv", args=[network_id]),
        reverse("record_scorecards_csv", args=[network_id]),
        reverse("record_probation", args=[network_id]),
    ]


# --- who sees what --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("secretariat", 200),
        ("committee", 200),
        ("other_secretariat", 404),
        ("lead", 403),
        ("member", 403),
        ("buyer", 403),
        ("anonymous", 302),
    ],
)
def test_dashboard_csv_and_probation_pages_by_role(client, history, people, today, who, status):
    if who != "anonymous":
        client.force_login(people[who])
    for url in _pages(history.network.pk):
        response = client.get(url)
        assert response.status_code == status, url
        if status == 302:
            assert response["Location"].startswith(reverse("login"))
    # Seeing is not acting: nobody but the secretariat lifts or sets anything.
    response = client.post(reverse("record_probation", args=[history.network.pk]), RULE)
    assert response.status_code == (
        302 if who == "secretariat" else 403 if status == 200 else status
    )
    assert ProbationRule.objects.exists() == (who == "secretariat")


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("member", 200),
        ("lead", 200),
        ("other_member", 200),
        ("secretariat", 403),
        ("buyer", 403),
        ("anonymous", 302),
    ],
)
def test_my_scorecard_by_role(client, history, people, today, who, status):
    if who != "anonymous":
        client.force_login(people[who])
    response = client.get(reverse("my_scorecard"))
    assert response.status_code == status


def test_a_member_sees_its_own_scorecard_only(client, history, today):
    client.force_login(history.m1)
    response = client.get(reverse("my_scorecard"))
    text = response.content.decode()
    assert history.network.name in text
    assert "50.0" in text and "3.0" in text  # on-time and defect rates
    assert "¥13,000" in text and "¥200,000" in text
    for other in (history.m2, history.m3, history.lead2):
        assert other.company.legal_name not in text
    assert response.context["sections"][0]["card"].probation is None


def test_the_member_sees_why_it_is_on_probation_and_the_limit(client, history, today):
    probation_services.probation_rule_set(
        actor=history.secretariat,
        network=history.network,
        data={
            "min_on_time_rate_pct": 80,
            "min_completed_packages": 2,
            "max_package_value_yen": 50_000,
        },
    )
    probation_services.probation_review(network=history.network)
    probation = Probation.objects.get()
    client.force_login(history.m1)
    text = client.get(reverse("my_scorecard")).content.decode()
    assert escape(probation.reason) in text
    assert "¥50,000" in text
    assert probation.until.strftime("%Y-%m-%d") in text


# --- the dashboard ------------------------------------------------------------------------


def test_dashboard_shows_the_figures_and_svg_charts(client, history, today):
    client.force_login(history.secretariat)
    response = client.get(reverse("record_dashboard", args=[history.network.pk]))
    record = response.context["record"]
    assert (record.period.start, record.period.end) == (
        datetime.date(2026, 4, 1),
        datetime.date(2027, 3, 31),
    )
    assert (record.counts.received, record.order_value_yen) == (10, 1_900_000)
    text = response.content.decode()
    assert text.count("<svg") == 4  # month, process, material, fiscal year
    assert 'id="chart-months"' in text and "<rect" in text
    assert "¥1,900,000" in text
    assert "77.8" in text  # rate answered
    assert "http://" not in text.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org/2000/svg", ""
    )  # nothing fetched from elsewhere
    cards = response.context["cards"]
    assert {c.company.legal_name for c in cards} >= {history.m1.company.legal_name}
    assert "<script" not in text


def test_dashboard_filters(client, history, today):
    client.force_login(history.secretariat)
    url = reverse("record_dashboard", args=[history.network.pk])
    record = client.get(url, {"process": "barrel"}).context["record"]
    assert (record.counts.received, record.order_value_yen, record.process.code) == (
        1,
        300_000,
        "barrel",
    )
    record = client.get(url, {"material": "stainless", "from": "2026-06-01", "to": "2026-06-30"})
    record = record.context["record"]
    assert (record.counts.received, record.order_value_yen, len(record.by_month)) == (
        9,
        1_000_000,
        1,
    )
    # A wrong period is shown as an error and the fiscal year is used meanwhile.
    response = client.get(url, {"from": "2026-07-01", "to": "2026-06-01"})
    assert response.status_code == 200
    assert response.context["form"].errors["to"]
    assert response.context["record"].period.start == datetime.date(2026, 4, 1)
    response = client.get(url, {"process": "nonsense"})
    assert response.context["form"].errors["process"]
    assert response.context["record"].process is None


def test_dashboard_queries_do_not_grow_with_inquiries_or_members(
    client, history, today, django_assert_max_num_queries
):
    client.force_login(history.secretariat)
    url = reverse("record_dashboard", args=[history.network.pk])
    client.get(url)  # warm the content-type cache and the session

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = count()
    # Five more inquiries and three more members with packages and invitations.
    data = {
        "title": "追加",
        "description": "x",
        "material": history.stainless,
        "processes": [history.buff],
        "quantity": 10,
        "length_mm": 10,
        "width_mm": 10,
        "height_mm": 10,
        "weight_kg": "0.1",
        "desired_delivery_date": datetime.date(2027, 1, 31),
        "delivery_prefecture": "13",
    }
    for _ in range(5):
        order_services.inquiry_submit(actor=history.buyer, network=history.network, data=data)
    project = history.projects["A"]
    for _ in range(3):
        user = scenarios.company_user(history.network)
        package = WorkPackageFactory(
            project=project,
            process=history.buff,
            material=history.stainless,
            quantity=5,
            unit_price_yen=100,
            due_date=datetime.date(2026, 12, 1),
            member=user.company,
            status="in_progress",
        )
        InvitationFactory(
            package=package,
            company=user.company,
            invited_by=history.lead1,
            expires_at=project.opened_at,
            status="accepted",
        )
    after = count()
    assert after == before
    with django_assert_max_num_queries(22, info=""):
        client.get(url)


# --- CSV ----------------------------------------------------------------------------------


def _rows(response):
    body = response.content
    assert body.startswith("\ufeff".encode())  # Excel needs the BOM to read UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_record_csv(client, history, today):
    client.force_login(history.secretariat)
    response = client.get(reverse("record_csv", args=[history.network.pk]) + "?" + FY)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="record-migakiya-20260401-20270331.csv"'
    )
    rows = _rows(response)
    assert len({len(r) for r in rows}) == 1  # one table, four columns
    assert rows[1][1] == "2026-04-01 – 2027-03-31"
    assert [r[2:] for r in rows[4:13]] == [
        ["10", ""],  # received
        ["3", ""],  # awarded
        ["2", ""],  # referred
        ["1", ""],  # of which taken
        ["2", ""],  # declined
        ["1", ""],  # withdrawn
        ["2", ""],  # without an answer
        ["77.8", ""],  # rate answered
        ["3", "1900000"],  # orders, value
    ]
    months = [r for r in rows if r[1] in ("2026-06", "2026-07")]
    assert [r[1:] for r in months] == [["2026-06", "1", "1000000"], ["2026-07", "2", "900000"]]
    assert ["バフ研磨", "2", "1600000"] in [r[1:] for r in rows]
    assert ["アルミ", "1", "300000"] in [r[1:] for r in rows]


def test_scorecards_csv(client, history, today):
    client.force_login(history.secretariat)
    response = client.get(reverse("record_scorecards_csv", args=[history.network.pk]))
    rows = _rows(response)
    header, body = rows[0], rows[1:]
    assert len(header) == 19 and len(body) == 5
    m1 = next(r for r in body if r[0] == history.m1.company.legal_name)
    assert m1[2:17] == [
        "2",
        "200000",
        "2",
        "1",
        "50.0",
        "305",
        "5",
        "4",
        "3.0",
        "2",
        "2",
        "0",
        "0",
        "2",
        "13000",
    ]
    m3 = next(r for r in body if r[0] == history.m3.company.legal_name)
    assert (m3[6], m3[10], m3[13], m3[14]) == ("", "", "1", "1")


# --- probation page -----------------------------------------------------------------------


def test_the_secretariat_sets_the_rule_and_lifts_a_probation(client, history, today):
    client.force_login(history.secretariat)
    url = reverse("record_probation", args=[history.network.pk])
    response = client.post(
        url,
        {
            "is_active": "on",
            "min_completed_packages": 2,
            "window_months": 12,
            "max_package_value_yen": 50_000,
            "minimum_months": 3,
        },
    )
    assert response.status_code == 200  # neither threshold
    assert response.context["form"].errors
    response = client.post(url, RULE)
    assert response.status_code == 302
    rule = ProbationRule.objects.get()
    assert (rule.min_on_time_rate_pct, rule.max_package_value_yen, rule.updated_by) == (
        80,
        50_000,
        history.secretariat,
    )
    probation_services.probation_review(network=history.network)
    probation = Probation.objects.get()
    page = client.get(url).content.decode()
    assert history.m1.company.legal_name in page and escape(probation.reason) in page
    lift = reverse("probation_lift", args=[probation.pk])
    client.post(lift, {"reason": ""})
    assert Probation.objects.open().count() == 1
    response = client.post(lift, {"reason": "面談で改善を確認"})
    assert response.status_code == 302
    probation.refresh_from_db()
    assert (probation.lifted_by, probation.lift_reason) == (history.secretariat, "面談で改善を確認")


@pytest.mark.parametrize("who", ["committee", "other_secretariat", "member", "lead"])
def test_only_the_secretariat_lifts(client, history, people, today, who):
    probation_services.probation_rule_set(
        actor=history.secretariat,
        network=history.network,
        data={"min_on_time_rate_pct": 80, "min_completed_packages": 2, "max_package_value_yen": 1},
    )
    probation_services.probation_review(network=history.network)
    probation = Probation.objects.get()
    client.force_login(people[who])
    response = client.post(reverse("probation_lift", args=[probation.pk]), {"reason": "x"})
    assert response.status_code == (404 if who == "other_secretariat" else 403)
    assert Probation.objects.open().count() == 1


def test_home_pages_link_the_record(client, history, people, today):
    client.force_login(history.secretariat)
    assert (
        reverse("record_dashboard", args=[history.network.pk]) in client.get("/").content.decode()
    )
    client.force_login(people["committee"])
    assert (
        reverse("record_dashboard", args=[history.network.pk]) in client.get("/").content.decode()
    )
    client.force_login(history.m1)
    assert reverse("my_scorecard") in client.get("/").content.decode()


# --- API ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("secretariat", 200),
        ("committee", 200),
        ("other_secretariat", 404),
        ("lead", 404),
        ("member", 404),
        ("buyer", 404),
        ("anonymous", 401),  # no credentials: 401 with a Basic challenge
    ],
)
def test_record_api_by_role(api, history, people, today, who, status):
    client = api if who == "anonymous" else api.as_(people[who])
    response = client.get("/api/v1/record/", {"network": history.network.pk})
    assert response.status_code == status


def test_record_api_figures_and_filters(api, history, today):
    client = api.as_(history.secretariat)
    body = client.get("/api/v1/record/", {"network": history.network.pk}).json()
    assert body["period"] == {"start": "2026-04-01", "end": "2027-03-31"}
    assert body["inquiries"] == {
        "received": 10,
        "awarded": 3,
        "referred": 2,
        "referral_taken": 1,
        "rejected": 2,
        "withdrawn": 1,
        "unanswered": 2,
        "answered_rate": 77.8,
    }
    assert body["order_value"]["total_yen"] == 1_900_000
    assert [m for m in body["order_value"]["by_month"] if m["orders"]] == [
        {"month": "2026-06-01", "value_yen": 1_000_000, "orders": 1},
        {"month": "2026-07-01", "value_yen": 900_000, "orders": 2},
    ]
    assert [(y["year"], y["value_yen"]) for y in body["order_value"]["by_fiscal_year"]] == [
        (2025, 2_000_000),
        (2026, 1_900_000),
    ]
    assert body["response_time"] == {
        "answered": 7,
        "median_working_days": 3,
        "p90_working_days": 23,
        "within_limit": 5,
        "limit_working_days": 10,
        "within_limit_rate": 71.4,
    }
    filtered = client.get(
        "/api/v1/record/",
        {"network": history.network.pk, "process": "barrel", "from": "2026-07-01"},
    ).json()
    assert (filtered["process"], filtered["inquiries"]["received"]) == ("barrel", 0)
    assert filtered["order_value"]["total_yen"] == 300_000  # C awarded on 07-02
    for params, attr in (
        ({}, "network"),
        ({"network": "x"}, "network"),
        ({"network": history.network.pk, "from": "2026-13-01"}, "from"),
        ({"network": history.network.pk, "from": "2026-07-01", "to": "2026-06-01"}, "to"),
        ({"network": history.network.pk, "process": "nonsense"}, "process"),
    ):
        response = client.get("/api/v1/record/", params)
        assert response.status_code == 400, params
        assert response.json()["errors"][0]["attr"] == attr


@pytest.mark.parametrize(
    ("who", "companies"),
    [
        ("secretariat", 5),
        ("committee", 5),
        ("member", 1),
        ("lead", 1),
        ("other_secretariat", 1),  # the other network's member
        ("other_member", 1),  # its own, in its own network
        ("buyer", 0),
    ],
)
def test_scorecards_api_by_role(api, history, people, today, who, companies):
    client = api.as_(people[who])
    body = client.get("/api/v1/scorecards/").json()
    assert len(body) == companies
    if who in ("member", "lead"):
        assert body[0]["company"] == people[who].company_id
    mine = client.get("/api/v1/scorecards/", {"network": history.network.pk})
    if who in ("other_secretariat", "other_member", "buyer"):
        assert mine.status_code == 404
    else:
        assert mine.status_code == 200


def test_scorecards_api_figures(api, history, today):
    body = api.as_(history.m1).get("/api/v1/scorecards/").json()
    assert body == [
        {
            "network": history.network.pk,
            "period": {"start": "2026-04-01", "end": "2027-03-31"},
            "company": history.m1.company_id,
            "company_name": history.m1.company.legal_name,
            "membership_class": "joint_order",
            "packages_taken": 2,
            "package_value_yen": 200_000,
            "completed": 2,
            "on_time": 1,
            "on_time_rate": 50.0,
            "inspected": 305,
            "rejected": 5,
            "claimed": 4,
            "defect_rate": 3.0,
            "invitations": 2,
            "accepted": 2,
            "declined": 0,
            "expired": 0,
            "charges": 2,
            "charges_yen": 13_000,
            "probation": None,
        }
    ]
    assert api.get("/api/v1/scorecards/").status_code == 401  # anonymous: a challenge
