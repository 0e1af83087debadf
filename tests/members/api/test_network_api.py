import pytest
from django.utils import timezone

from members.models import AppointmentStatus, DirectoryEntry, Membership, MembershipClass
from tests.factories import (
    CompanyUserFactory,
    DirectoryEntryFactory,
    MembershipFactory,
    ProcessFactory,
    make_corporate_number,
)

ROLES = [
    "secretariat_user",
    "committee_user",
    "lead_user",
    "member_user",
    "other_member_user",
    "other_secretariat_user",
    "buyer_user",
]


@pytest.fixture
def as_role(request, api):
    def _as(role):
        return api.as_(request.getfixturevalue(role))

    return _as


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("secretariat_user", 201),
        ("committee_user", 403),
        ("lead_user", 403),
        ("member_user", 403),
        ("other_secretariat_user", 403),
        ("buyer_user", 403),
    ],
)
def test_who_may_admit_members(as_role, network, role, expected):
    company = MembershipFactory(network=network, membership_class="supporting").company
    # A visible company (a member already, in another class) so 403 is about the rule.
    response = as_role(role).post(
        "/api/v1/memberships/",
        {"network": network.id, "company": company.id, "membership_class": "joint_order"},
        format="json",
    )
    assert response.status_code == expected, response.json()
    created = Membership.objects.filter(company=company, membership_class="joint_order")
    assert created.exists() is (expected == 201)


def test_membership_actions_and_errors(api, network, secretariat_user):
    membership = MembershipFactory(network=network)
    client = api.as_(secretariat_user)
    url = f"/api/v1/memberships/{membership.id}/"
    response = client.post(url + "suspend/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "reason"
    assert client.post(url + "suspend/", {"reason": "会費未納"}, format="json").json()[
        "status"
    ] == ("suspended")
    assert client.post(url + "end/", {"reason": "退会"}, format="json").json()["status"] == "ended"
    response = client.post(url + "reactivate/", {"reason": "再開"}, format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "invalid_transition"


def test_duplicate_membership_is_409_and_lead_class_is_400(api, network, secretariat_user):
    company = MembershipFactory(network=network).company
    client = api.as_(secretariat_user)
    body = {"network": network.id, "company": company.id, "membership_class": "joint_order"}
    response = client.post("/api/v1/memberships/", body, format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["attr"] == "membership_class"
    body["membership_class"] = "lead"
    response = client.post("/api/v1/memberships/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "membership_class"


def test_the_whole_appointment_through_the_api(api, network, secretariat_user, committee_user):
    candidate = MembershipFactory(network=network).company
    recommenders = []
    for _ in range(2):
        user = CompanyUserFactory()
        MembershipFactory(network=network, company=user.company)
        recommenders.append(user)

    response = api.as_(secretariat_user).post(
        "/api/v1/appointments/",
        {"network": network.id, "company": candidate.id, "statement": "技能士多数"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    url = f"/api/v1/appointments/{response.json()['id']}/"
    for user in recommenders:
        response = api.as_(user).post(url + "recommend/", {"comment": "推薦"}, format="json")
        assert response.status_code == 200, response.json()
    assert len(response.json()["recommendations"]) == 2
    decision = {
        "approve": True,
        "decided_on": timezone.localdate().isoformat(),
        "votes_for": 6,
        "votes_against": 0,
        "reason": "全会一致",
    }
    response = api.as_(recommenders[0]).post(url + "decide/", decision, format="json")
    assert response.status_code == 403
    response = api.as_(committee_user).post(url + "decide/", decision, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == AppointmentStatus.APPROVED
    assert Membership.objects.filter(
        company=candidate, membership_class=MembershipClass.LEAD, status="active"
    ).exists()


def test_appointments_of_a_network_are_hidden_from_outsiders(
    api, network, secretariat_user, other_member_user, buyer_user, member_user
):
    candidate = MembershipFactory(network=network).company
    created = api.as_(secretariat_user).post(
        "/api/v1/appointments/", {"network": network.id, "company": candidate.id}, format="json"
    )
    url = f"/api/v1/appointments/{created.json()['id']}/"
    assert api.as_(member_user).get(url).status_code == 200
    for outsider in (other_member_user, buyer_user):
        assert api.as_(outsider).get(url).status_code == 404
        assert api.as_(outsider).post(url + "recommend/", {}, format="json").status_code == 404


def test_directory_is_for_the_networks_staff_only(
    api, network, secretariat_user, member_user, other_secretariat_user
):
    entry = DirectoryEntryFactory(network=network)
    assert api.as_(secretariat_user).get("/api/v1/directory/").json()["count"] == 1
    for user in (member_user, other_secretariat_user):
        assert api.as_(user).get("/api/v1/directory/").json()["count"] == 0
        assert api.as_(user).get(f"/api/v1/directory/{entry.id}/").status_code == 404


def test_secretariat_registers_a_non_member_then_lists_it(
    api, network, secretariat_user, member_user
):
    client = api.as_(secretariat_user)
    response = client.post(
        "/api/v1/companies/",
        {
            "legal_name": "遠方研磨所",
            "legal_name_kana": "エンポウケンマ",
            "prefecture": "27",
            "city": "東大阪市",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    company_id = response.json()["id"]
    response = client.post(
        "/api/v1/directory/",
        {"network": network.id, "company": company_id, "consents_to_referrals": True},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["consent_recorded_on"] == timezone.localdate().isoformat()
    # Not visible to member companies: it is not a member.
    assert api.as_(member_user).get(f"/api/v1/companies/{company_id}/").status_code == 404


def test_directory_refuses_a_member(api, network, secretariat_user, member_user):
    response = api.as_(secretariat_user).post(
        "/api/v1/directory/",
        {"network": network.id, "company": member_user.company.id, "consents_to_referrals": True},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "company"
    assert not DirectoryEntry.objects.exists()


def test_network_rules_and_fees(api, network, secretariat_user, member_user):
    url = f"/api/v1/networks/{network.id}/"
    response = api.as_(member_user).patch(url, {"application_window_days": 3}, format="json")
    assert response.status_code == 403
    response = api.as_(secretariat_user).patch(url, {"application_window_days": 3}, format="json")
    assert response.status_code == 200
    assert response.json()["application_window_days"] == 3
    response = api.as_(secretariat_user).post(
        url + "fees/", {"membership_class": "supporting", "annual_fee_yen": 25000}, format="json"
    )
    assert response.status_code == 200
    fees = {
        f["membership_class"]: f["annual_fee_yen"]
        for f in api.as_(member_user).get(url).json()["fees"]
    }
    assert fees["supporting"] == 25000
    response = api.as_(secretariat_user).post(
        url + "fees/", {"membership_class": "supporting", "annual_fee_yen": -1}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "annual_fee_yen"


def test_catalogue_is_public_and_extended_by_secretariats(api, db, secretariat_user, member_user):
    ProcessFactory(code="buff", name_ja="バフ研磨")
    response = api.get("/api/v1/processes/")
    assert response.status_code == 200
    assert [p["code"] for p in response.json()["results"]] == ["buff"]
    body = {"code": "lapping", "name_ja": "ラップ研磨", "name_en": "Lapping"}
    assert api.as_(member_user).post("/api/v1/processes/", body, format="json").status_code == 403
    assert (
        api.as_(secretariat_user).post("/api/v1/processes/", body, format="json").status_code == 201
    )
    response = api.as_(secretariat_user).post("/api/v1/processes/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "code"


def test_me_tells_the_roles(api, network, secretariat_user, member_user):
    me = api.as_(secretariat_user).get("/api/v1/me/").json()
    assert me["secretariat_of"] == [network.id]
    me = api.as_(member_user).get("/api/v1/me/").json()
    assert me["company"] == member_user.company.id
    assert me["secretariat_of"] == []


def test_openapi_schema_documents_the_actions(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in (
        "/api/v1/appointments/{id}/decide/",
        "/api/v1/appointments/{id}/recommend/",
        "/api/v1/memberships/{id}/suspend/",
        "/api/v1/capabilities/",
        "/api/v1/directory/",
    ):
        assert path in text
    assert client.get("/api/docs/").status_code == 200


def test_the_secretariat_sets_the_networks_registration_number(api, network, secretariat_user):
    url = f"/api/v1/networks/{network.id}/"
    client = api.as_(secretariat_user)
    response = client.patch(url, {"invoice_registration_number": "T123"}, format="json")
    assert response.status_code == 400
    assert [e["attr"] for e in response.json()["errors"]] == ["invoice_registration_number"]
    network.refresh_from_db()
    assert network.invoice_registration_number == ""
    number = "T" + make_corporate_number(7)
    response = client.patch(
        url, {"invoice_registration_number": number, "pay_team_within_days": 10}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["invoice_registration_number"] == number
    assert response.json()["pay_team_within_days"] == 10
