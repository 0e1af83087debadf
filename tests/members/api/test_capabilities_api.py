import pytest

from members.models import Capability
from tests.factories import CapabilityFactory, MaterialFactory, MembershipFactory, ProcessFactory

URL = "/api/v1/capabilities/"


@pytest.fixture
def catalogue(db):
    return ProcessFactory(code="buff"), MaterialFactory(code="stainless")


def payload(company, **overrides):
    data = {
        "company": company.id,
        "process": "buff",
        "material": "stainless",
        "max_length_mm": 800,
        "max_width_mm": 400,
        "max_height_mm": 200,
        "max_weight_kg": "12.5",
        "finish_kind": "mirror",
        "lot_min": 10,
        "lot_max": 3000,
        "lead_time_days": 10,
        "spare_capacity_per_month": 1200,
    }
    data.update(overrides)
    return data


def test_company_user_adds_its_capability(api, member_user, catalogue):
    response = api.as_(member_user).post(URL, payload(member_user.company), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["finish_ra_um"] == "0.020"
    assert response.json()["capacity_updated_at"] is not None


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("process", "laser", "does_not_exist"),
        ("material", "unobtainium", "does_not_exist"),
        ("max_length_mm", -5, "min_value"),
        ("max_weight_kg", "0", "min_value"),
        ("finish_kind", "shiny", "invalid_choice"),
    ],
)
def test_bad_capability_input_is_a_400_naming_the_field(
    api, member_user, catalogue, field, value, code
):
    response = api.as_(member_user).post(
        URL, payload(member_user.company, **{field: value}), format="json"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[0]["attr"] == field
    assert errors[0]["code"] == code
    assert not Capability.objects.exists()


def test_grit_finish_without_grit_names_the_field(api, member_user, catalogue):
    response = api.as_(member_user).post(
        URL, payload(member_user.company, finish_kind="grit"), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "finish_grit"


def test_duplicate_capability_is_a_409(api, member_user, catalogue):
    api.as_(member_user).post(URL, payload(member_user.company), format="json")
    response = api.as_(member_user).post(URL, payload(member_user.company), format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["attr"] == "material"
    assert Capability.objects.count() == 1


def test_cannot_add_capabilities_to_another_company(api, network, member_user, catalogue):
    other = MembershipFactory(network=network).company
    response = api.as_(member_user).post(URL, payload(other), format="json")
    assert response.status_code == 403
    assert not Capability.objects.exists()


def test_cannot_point_at_a_company_one_cannot_see(api, member_user, catalogue):
    from tests.factories import CompanyFactory

    hidden = CompanyFactory()  # no membership anywhere: not in the catalogue
    response = api.as_(member_user).post(URL, payload(hidden), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "company"


def test_patch_and_delete_own_but_not_others(api, network, member_user, lead_user, catalogue):
    process, material = catalogue
    mine = CapabilityFactory(company=member_user.company, process=process, material=material)
    theirs = CapabilityFactory(company=lead_user.company, process=process, material=material)
    client = api.as_(member_user)
    response = client.patch(f"{URL}{mine.id}/", {"spare_capacity_per_month": 0}, format="json")
    assert response.status_code == 200
    assert response.json()["spare_capacity_per_month"] == 0
    assert client.patch(f"{URL}{theirs.id}/", {"lot_max": 1}, format="json").status_code == 403
    assert client.delete(f"{URL}{theirs.id}/").status_code == 403
    assert client.delete(f"{URL}{mine.id}/").status_code == 204
    assert list(Capability.objects.values_list("id", flat=True)) == [theirs.id]


def test_capability_filters(api, network, buyer_user, secretariat_user, catalogue):
    process, material = catalogue
    fine = CapabilityFactory(
        company=MembershipFactory(network=network).company,
        process=process,
        material=material,
        finish_ra_um="0.050",
        spare_capacity_per_month=2000,
    )
    CapabilityFactory(
        company=MembershipFactory(network=network).company,
        process=process,
        material=material,
        finish_ra_um="0.400",
        spare_capacity_per_month=100,
    )
    client = api.as_(buyer_user)
    by_finish = client.get(URL, {"finish_ra_at_most": "0.1"}).json()["results"]
    assert [c["id"] for c in by_finish] == [fine.id]
    # Spare capacity is for the network's insiders (tests/test_need_to_know.py): the buyer's
    # filter on it is ignored, the secretariat's applies.
    staff = api.as_(secretariat_user)
    by_capacity = staff.get(URL, {"min_spare_capacity": 1000}).json()["results"]
    assert [c["id"] for c in by_capacity] == [fine.id]
    assert len(client.get(URL, {"min_spare_capacity": 1000}).json()["results"]) == 2


@pytest.mark.parametrize("count", [3, 40])
def test_capability_list_query_count_does_not_grow(
    api, network, buyer_user, count, django_assert_max_num_queries
):
    for _ in range(count):
        CapabilityFactory(company=MembershipFactory(network=network).company)
    with django_assert_max_num_queries(8):
        response = api.as_(buyer_user).get(URL)
    assert response.json()["count"] == count
