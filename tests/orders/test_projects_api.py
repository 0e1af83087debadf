import datetime

import pytest
from django.utils import timezone

from orders.models import PackageStatus
from tests.helpers import member


@pytest.fixture
def opened(api, awarded):
    inquiry, lead = awarded
    response = api.as_(lead).post(
        "/api/v1/projects/",
        {
            "inquiry": inquiry.id,
            "order_value_yen": 1_000_000,
            "delivery_date": (timezone.localdate() + datetime.timedelta(days=40)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json(), lead


def test_team_through_the_api(api, opened, network, buff, stainless, buyer_user):
    project, lead = opened
    due = (timezone.localdate() + datetime.timedelta(days=20)).isoformat()
    response = api.as_(lead).post(
        "/api/v1/packages/",
        {
            "project": project["id"],
            "process": "buff",
            "material": "stainless",
            "quantity": 200,
            "unit_price_yen": 900,
            "due_date": due,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    package = response.json()
    assert package["amount_yen"] == 180_000
    joiner = member(network, buff, stainless, spare=50)
    response = api.as_(lead).post(
        f"/api/v1/packages/{package['id']}/invite/", {"company": joiner.company.id}, format="json"
    )
    assert response.status_code == 201, response.json()
    invitation = response.json()
    assert len(invitation["warnings"]) == 1  # 50 spare against 200 needed

    # The member sees its invitation and the package, but not the buyer or the order value.
    assert api.as_(joiner).get("/api/v1/invitations/").json()["count"] == 1
    seen = api.as_(joiner).get(f"/api/v1/projects/{project['id']}/")
    assert seen.status_code == 404  # not on the team yet
    response = api.as_(joiner).post(
        f"/api/v1/invitations/{invitation['id']}/respond/", {"accept": True}, format="json"
    )
    assert response.json()["status"] == "accepted"
    seen = api.as_(joiner).get(f"/api/v1/projects/{project['id']}/").json()
    assert seen["buyer_name"] is None and seen["order_value_yen"] is None
    assert api.as_(lead).get(f"/api/v1/projects/{project['id']}/").json()["order_value_yen"] == (
        1_000_000
    )

    # Work cannot start before both sides accept the agreement.
    start = api.as_(joiner).post(f"/api/v1/packages/{package['id']}/start/")
    assert start.status_code == 409
    [agreement] = api.as_(joiner).get("/api/v1/agreements/").json()["results"]
    for user in (joiner, lead):
        response = api.as_(user).post(f"/api/v1/agreements/{agreement['id']}/accept/")
        assert response.status_code == 200
    assert response.json()["is_accepted"] is True
    start = api.as_(joiner).post(f"/api/v1/packages/{package['id']}/start/")
    assert start.json()["status"] == PackageStatus.IN_PROGRESS
    # The buyer sees none of the team's workings.
    assert api.as_(buyer_user).get("/api/v1/packages/").json()["count"] == 0
    assert api.as_(buyer_user).get("/api/v1/agreements/").json()["count"] == 0


def test_bad_input_and_strangers(api, opened, network, buff, stainless, other_member_user):
    project, lead = opened
    response = api.as_(lead).post(
        "/api/v1/packages/",
        {
            "project": project["id"],
            "process": "buff",
            "material": "stainless",
            "quantity": 0,
            "unit_price_yen": 900,
            "due_date": "2020-01-01",
        },
        format="json",
    )
    assert response.status_code == 400
    assert {e["attr"] for e in response.json()["errors"]} == {"quantity"}
    assert api.as_(other_member_user).get(f"/api/v1/projects/{project['id']}/").status_code == 404
    response = api.as_(other_member_user).post(
        "/api/v1/packages/",
        {
            "project": project["id"],
            "process": "buff",
            "material": "stainless",
            "quantity": 1,
            "unit_price_yen": 1,
            "due_date": (timezone.localdate() + datetime.timedelta(days=5)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 404
