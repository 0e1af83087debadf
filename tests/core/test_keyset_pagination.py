"""Keyset pagination of the growing lists (notifications, applications; inquiries in
tests/orders/test_inquiry_list_pages.py): every row once, in order, while rows arrive; no
count; a bad cursor is a 400 naming it; the OpenAPI schema describes the cursor."""

import datetime

import pytest
import time_machine

from brokerage.models import Notification
from orders import services
from tests.factories import CompanyUserFactory

NOW = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)


def _notify(user, n):
    return Notification.objects.create(
        recipient=user, event_key=f"test:{n}", kind="test", subject=f"通知{n}", body="本文"
    ).pk


def _walk(client, url, params, between=lambda: None):
    ids, response = [], client.get(url, params)
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        assert "count" not in body
        ids += [row["id"] for row in body["results"]]
        if body["next"] is None:
            return ids
        between()
        response = client.get(body["next"])


@pytest.mark.parametrize("ordering", [None, "created_at", "-created_at"])
def test_the_inbox_walks_every_notification_once_while_more_arrive(api, db, ordering):
    me = CompanyUserFactory()
    with time_machine.travel(NOW, tick=False):  # one instant: only the id orders them
        before = [_notify(me, n) for n in range(5)]
        arrived = []

        def arrive():
            if len(arrived) < 2:
                arrived.append(_notify(me, 100 + len(arrived)))

        params = {"page_size": 2, **({"ordering": ordering} if ordering else {})}
        walked = _walk(api.as_(me), "/api/v1/notifications/", params, between=arrive)
    if ordering == "created_at":
        assert walked == before + arrived  # oldest first: the new ones come at the end
    else:
        assert walked == before[::-1]  # newest first: the new ones are behind the cursor


def test_applications_are_walked_by_cursor(
    api, network, open_inquiry, make_lead, secretariat_user, inquiry_data, buyer_user
):
    leads = [make_lead() for _ in range(3)]
    placed = [
        services.application_place(
            actor=lead, inquiry=open_inquiry, price_yen=100_000, lead_time_days=10
        ).pk
        for lead in leads
    ]
    walked = _walk(api.as_(secretariat_user), "/api/v1/applications/", {"page_size": 1})
    assert walked == placed
    response = api.as_(secretariat_user).get(
        "/api/v1/applications/", {"cursor": "x:y", "page_size": 1}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "cursor"
    # The cursor carries ordering values: a sealed price must never be one.
    response = api.as_(secretariat_user).get("/api/v1/applications/", {"ordering": "price_yen"})
    assert [r["id"] for r in response.json()["results"]] == placed


def test_the_schema_describes_the_cursor_and_no_count(api, secretariat_user):
    schema = api.as_(secretariat_user).get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/inquiries/",
        "/api/v1/applications/",
        "/api/v1/notifications/",
        "/api/v1/documents/",
    ):
        operation = schema["paths"][path]["get"]
        names = {p["name"] for p in operation["parameters"]}
        assert {"cursor", "page_size"} <= names, path
        assert "page" not in names, path
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert set(page["properties"]) == {"next", "results"}, path
    # The bounded lists keep their page numbers and exact count.
    companies = schema["paths"]["/api/v1/companies/"]["get"]
    assert "page" in {p["name"] for p in companies["parameters"]}
