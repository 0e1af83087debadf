import pytest

from members.models import Company
from tests.factories import (
    CapabilityFactory,
    CompanyFactory,
    DirectoryEntryFactory,
    MaterialFactory,
    MembershipFactory,
    ProcessFactory,
)

URL = "/api/v1/companies/"


def test_anonymous_gets_401(api, network):
    assert api.get(URL).status_code in (401, 403)


def test_member_catalogue_is_visible_but_non_members_only_to_their_secretariat(
    api, network, member_user, secretariat_user, other_secretariat_user, buyer_user
):
    listed = DirectoryEntryFactory(network=network).company
    for user, sees_listed in (
        (secretariat_user, True),
        (member_user, False),
        (buyer_user, False),
        (other_secretariat_user, False),
    ):
        ids = {c["id"] for c in api.as_(user).get(URL).json()["results"]}
        assert member_user.company.id in ids
        assert (listed.id in ids) is sees_listed
        status = api.as_(user).get(f"{URL}{listed.id}/").status_code
        assert status == (200 if sees_listed else 404)


def test_company_user_patches_its_own_company(api, member_user):
    response = api.as_(member_user).patch(
        f"{URL}{member_user.company.id}/", {"city": "三条市"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["city"] == "三条市"


def test_company_user_cannot_patch_another_visible_company(api, network, member_user):
    other = MembershipFactory(network=network).company
    response = api.as_(member_user).patch(f"{URL}{other.id}/", {"city": "x"}, format="json")
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.city == "燕市"


def test_bad_corporate_number_is_a_400_naming_the_field(api, secretariat_user):
    response = api.as_(secretariat_user).post(
        URL,
        {
            "legal_name": "株式会社新規",
            "legal_name_kana": "シンキ",
            "corporate_number": "1000012050002",
            "prefecture": "15",
            "city": "燕市",
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert [e["attr"] for e in body["errors"]] == ["corporate_number"]
    assert body["errors"][0]["code"] == "corporate_number_check_digit"
    assert not Company.objects.filter(legal_name="株式会社新規").exists()


def test_secretariat_registers_a_company_with_full_width_digits(api, secretariat_user):
    response = api.as_(secretariat_user).post(
        URL,
        {
            "legal_name": "株式会社新規",
            "legal_name_kana": "シンキ",
            "corporate_number": "７００００１２０５０００２",
            "invoice_registration_number": "Ｔ７００００１２０５０００２",
            "prefecture": "15",
            "city": "燕市",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["corporate_number"] == "7000012050002"


def test_member_cannot_register_companies(api, member_user):
    response = api.as_(member_user).post(
        URL,
        {"legal_name": "x", "legal_name_kana": "x", "prefecture": "15", "city": "燕市"},
        format="json",
    )
    assert response.status_code == 403
    assert not Company.objects.filter(legal_name="x").exists()


def test_filters_find_companies_with_one_capability_meeting_all(api, network, buyer_user):
    buff = ProcessFactory(code="buff")
    electro = ProcessFactory(code="electrolytic")
    sus = MaterialFactory(code="stainless")
    ti = MaterialFactory(code="titanium")
    big_buff_sus = MembershipFactory(network=network).company
    CapabilityFactory(company=big_buff_sus, process=buff, material=sus, max_length_mm=2000)
    # Has buff (on titanium) and stainless (electrolytic) but not buff on stainless.
    split = MembershipFactory(network=network).company
    CapabilityFactory(company=split, process=buff, material=ti, max_length_mm=2000)
    CapabilityFactory(company=split, process=electro, material=sus, max_length_mm=2000)
    small = MembershipFactory(network=network).company
    CapabilityFactory(company=small, process=buff, material=sus, max_length_mm=300)

    def ids(query):
        response = api.as_(buyer_user).get(URL, query)
        assert response.status_code == 200
        return {c["id"] for c in response.json()["results"]}

    assert ids({"process": "buff", "material": "stainless"}) == {big_buff_sus.id, small.id}
    assert ids({"process": "buff", "material": "stainless", "min_length_mm": 1000}) == {
        big_buff_sus.id
    }
    assert ids({"process": "electrolytic"}) == {split.id}


def test_filter_by_class_and_prefecture(api, network, secretariat_user):
    lead = MembershipFactory(network=network, membership_class="lead").company
    MembershipFactory(network=network, membership_class="supporting")
    tokyo = MembershipFactory(network=network, company=CompanyFactory(prefecture="13")).company
    client = api.as_(secretariat_user)
    results = client.get(URL, {"membership_class": "lead", "network": network.id}).json()
    assert [c["id"] for c in results["results"]] == [lead.id]
    results = client.get(URL, {"prefecture": "13"}).json()
    assert [c["id"] for c in results["results"]] == [tokyo.id]
    response = client.get(URL, {"prefecture": "99"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "prefecture"


@pytest.mark.parametrize("count", [3, 30])
def test_company_list_query_count_does_not_grow(
    api, network, buyer_user, count, django_assert_max_num_queries
):
    process, material = ProcessFactory(), MaterialFactory()
    for _ in range(count):
        company = MembershipFactory(network=network).company
        CapabilityFactory(company=company, process=process, material=material)
    client = api.as_(buyer_user)
    with django_assert_max_num_queries(12):
        response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["count"] == count
