"""The member pages: who may open what, the forms and the services behind them, the
directory's filters and query budget, and the language."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members.models import (
    AppointmentStatus,
    Capability,
    Company,
    FinishKind,
    Material,
    MembershipClass,
    MembershipStatus,
    Process,
    Recommendation,
)
from tests.factories import (
    CapabilityFactory,
    CompanyFactory,
    CompanyUserFactory,
    DirectoryEntryFactory,
    LeadAppointmentFactory,
    MaterialFactory,
    MembershipFactory,
    ProcessFactory,
    make_corporate_number,
)

ROLES = [
    "member_user",
    "lead_user",
    "secretariat_user",
    "committee_user",
    "other_member_user",
    "other_secretariat_user",
    "buyer_user",
]


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.fixture
def buff(db):
    return ProcessFactory(code="buff", name_ja="バフ研磨", name_en="Buff polishing")


@pytest.fixture
def barrel(db):
    return ProcessFactory(code="barrel", name_ja="バレル研磨", name_en="Barrel polishing")


@pytest.fixture
def stainless(db):
    return MaterialFactory(code="sus", name_ja="ステンレス", name_en="Stainless steel")


@pytest.fixture
def titanium(db):
    return MaterialFactory(code="ti", name_ja="チタン", name_en="Titanium")


@pytest.fixture
def capability(member_user, buff, stainless):
    return CapabilityFactory(company=member_user.company, process=buff, material=stainless)


def company_post_data(company: Company, **changes) -> dict:
    fields = [
        "legal_name",
        "legal_name_kana",
        "name_en",
        "corporate_number",
        "invoice_registration_number",
        "postal_code",
        "prefecture",
        "city",
        "address_line",
        "phone",
        "email",
        "website",
        "employees",
        "capital_yen",
        "description",
        "latitude",
        "longitude",
    ]
    data = {name: getattr(company, name) for name in fields}
    data = {name: "" if value is None else str(value) for name, value in data.items()}
    data.update(changes)
    return data


def capability_post_data(process, material, **changes) -> dict:
    data = {
        "process": process.pk,
        "material": material.pk,
        "max_length_mm": "600",
        "max_width_mm": "400",
        "max_height_mm": "150",
        "max_weight_kg": "12.5",
        "finish_kind": FinishKind.GRIT,
        "finish_grit": "600",
        "finish_ra_input": "",
        "lot_min": "1",
        "lot_max": "500",
        "lead_time_days": "7",
        "spare_capacity_per_month": "300",
        "notes": "",
    }
    data.update(changes)
    return data


# ---------------------------------------------------------------------------------------
# Sign-in, shell and language


PAGES_NEEDING_LOGIN = [
    ("home", {}),
    ("my_company", {}),
    ("my_capabilities", {}),
    ("company_detail", {"pk": 1}),
    ("company_edit", {"pk": 1}),
    ("capability_list", {"company_id": 1}),
    ("capability_create", {"company_id": 1}),
    ("capability_edit", {"pk": 1}),
    ("capability_delete", {"pk": 1}),
    ("directory_index", {}),
    ("member_directory", {"network_id": 1}),
    ("nonmember_directory", {"network_id": 1}),
    ("appointment_list", {}),
    ("appointment_detail", {"pk": 1}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kwargs"), PAGES_NEEDING_LOGIN)
def test_anonymous_is_sent_to_login(client, name, kwargs):
    url = reverse(name, kwargs=kwargs)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.django_db
def test_anonymous_post_changes_nothing(client, capability):
    response = client.post(
        reverse("capability_spare", args=[capability.pk]), {"spare_capacity_per_month": "9"}
    )

    assert response.status_code == 302
    capability.refresh_from_db()
    assert capability.spare_capacity_per_month == 500


@pytest.mark.django_db
def test_login_page_and_sign_in(client, member_user):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert "共同受注プラットフォーム" in page.content.decode()

    response = client.post(
        reverse("login"), {"username": member_user.username, "password": "pass-for-tests-1"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


@pytest.mark.django_db
def test_logout_is_a_post(client, member_user):
    client.force_login(member_user)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_japanese_by_default_english_after_switching(client, member_user):
    client.force_login(member_user)

    japanese = client.get(reverse("home")).content.decode()
    assert '<html lang="ja">' in japanese
    assert "共同受注プラットフォーム" in japanese
    assert "空き能力" in japanese
    assert "Joint-order platform" not in japanese

    switched = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    assert switched.status_code == 302
    assert switched["Location"] == reverse("home")

    english = client.get(reverse("home")).content.decode()
    assert '<html lang="en">' in english
    assert "Joint-order platform" in english
    assert "Spare capacity" in english
    assert "共同受注プラットフォーム" not in english

    client.post(reverse("set_language"), {"language": "ja", "next": reverse("home")})
    assert "共同受注プラットフォーム" in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_model_choices_are_shown_in_pure_japanese(client, secretariat_user, member_user, network):
    client.force_login(secretariat_user)

    page = client.get(reverse("member_directory", args=[network.pk])).content.decode()

    assert "共同受注部会員" in page
    assert "Joint-order member" not in page


# ---------------------------------------------------------------------------------------
# Home


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_home_opens_for_every_role(as_user, client, role):
    as_user(role)

    assert client.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_home_cards_follow_the_role(
    client, member_user, secretariat_user, committee_user, buyer_user, network
):
    LeadAppointmentFactory(network=network, company=member_user.company)
    directory_url = reverse("member_directory", args=[network.pk])
    capabilities_url = reverse("capability_list", args=[member_user.company_id])

    client.force_login(member_user)
    member_page = client.get(reverse("home")).content.decode()
    assert capabilities_url in member_page
    assert directory_url not in member_page

    client.force_login(secretariat_user)
    secretariat_page = client.get(reverse("home")).content.decode()
    assert directory_url in secretariat_page
    assert reverse("nonmember_directory", args=[network.pk]) in secretariat_page
    assert capabilities_url not in secretariat_page

    client.force_login(committee_user)
    committee_page = client.get(reverse("home")).content.decode()
    assert "1 件の受注幹事企業の承認が運営委員会の決定を待っています。" in committee_page

    client.force_login(buyer_user)
    buyer_page = client.get(reverse("home")).content.decode()
    assert reverse("inquiry_create") in buyer_page
    assert directory_url not in buyer_page


# ---------------------------------------------------------------------------------------
# Company profile


EDIT_OWN_COMPANY = {
    "member_user": 200,
    "secretariat_user": 200,
    "lead_user": 403,
    "committee_user": 403,
    "other_member_user": 403,
    "other_secretariat_user": 403,
    "buyer_user": 403,
}


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "expected"), EDIT_OWN_COMPANY.items())
def test_company_editor_permissions(as_user, client, member_user, role, expected):
    as_user(role)

    response = client.get(reverse("company_edit", args=[member_user.company_id]))

    assert response.status_code == expected


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["lead_user", "other_member_user", "buyer_user"])
def test_company_editor_refuses_a_post_and_saves_nothing(as_user, client, member_user, role):
    as_user(role)
    company = member_user.company

    response = client.post(
        reverse("company_edit", args=[company.pk]), company_post_data(company, city="三条市")
    )

    assert response.status_code == 403
    company.refresh_from_db()
    assert company.city == "燕市"


@pytest.mark.django_db
def test_a_non_member_is_hidden_from_other_networks(
    client, network, secretariat_user, other_member_user, other_secretariat_user
):
    outsider = DirectoryEntryFactory(network=network).company

    client.force_login(other_member_user)
    assert client.get(reverse("company_edit", args=[outsider.pk])).status_code == 404
    assert client.get(reverse("company_detail", args=[outsider.pk])).status_code == 404
    client.force_login(other_secretariat_user)
    assert client.get(reverse("company_edit", args=[outsider.pk])).status_code == 404
    client.force_login(secretariat_user)
    assert client.get(reverse("company_edit", args=[outsider.pk])).status_code == 200
    assert client.get(reverse("company_detail", args=[outsider.pk])).status_code == 200


@pytest.mark.django_db
def test_my_company_leads_to_the_own_editor(client, member_user, secretariat_user):
    client.force_login(member_user)
    response = client.get(reverse("my_company"))
    assert response["Location"] == reverse("company_edit", args=[member_user.company_id])

    client.force_login(secretariat_user)
    assert client.get(reverse("my_company"))["Location"] == reverse("home")


@pytest.mark.django_db
def test_profile_form_saves_a_change(client, member_user):
    client.force_login(member_user)
    company = member_user.company
    url = reverse("company_edit", args=[company.pk])

    response = client.post(
        url, company_post_data(company, city="三条市", phone="0256-00-0000", employees="12")
    )

    assert response.status_code == 302
    assert response["Location"] == url
    company.refresh_from_db()
    assert (company.city, company.phone, company.employees) == ("三条市", "0256-00-0000", 12)
    assert "会社情報を保存しました。" in client.get(url).content.decode()


@pytest.mark.django_db
def test_secretariat_edits_a_member_profile(client, secretariat_user, member_user):
    client.force_login(secretariat_user)
    company = member_user.company

    response = client.post(
        reverse("company_edit", args=[company.pk]), company_post_data(company, city="三条市")
    )

    assert response.status_code == 302
    company.refresh_from_db()
    assert company.city == "三条市"


@pytest.mark.django_db
def test_wrong_corporate_number_check_digit_is_a_form_error(client, member_user):
    client.force_login(member_user)
    company = member_user.company
    before = company.corporate_number

    response = client.post(
        reverse("company_edit", args=[company.pk]),
        company_post_data(company, corporate_number="1234567890123", city="三条市"),
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.has_error("corporate_number", code="corporate_number_check_digit")
    assert "この法人番号のチェックデジットが正しくありません。" in response.content.decode()
    company.refresh_from_db()
    assert (company.corporate_number, company.city) == (before, "燕市")


@pytest.mark.django_db
def test_full_width_numbers_are_normalised(client, member_user):
    client.force_login(member_user)
    company = member_user.company
    number = make_corporate_number(4_242_424)

    response = client.post(
        reverse("company_edit", args=[company.pk]),
        company_post_data(
            company,
            corporate_number=full_width(number[:4]) + "-" + full_width(number[4:]),
            invoice_registration_number=full_width(f"T{number}"),
            postal_code="９５９－１２４４",
        ),
    )

    assert response.status_code == 302
    company.refresh_from_db()
    assert company.corporate_number == number
    assert company.invoice_registration_number == f"T{number}"
    assert company.postal_code == "959-1244"


@pytest.mark.django_db
def test_service_refusal_appears_on_the_field(client, member_user):
    """The service, not the form, knows the registration number must match the corporate one."""
    client.force_login(member_user)
    company = member_user.company
    other = make_corporate_number(7_777_777)

    response = client.post(
        reverse("company_edit", args=[company.pk]),
        company_post_data(company, invoice_registration_number=f"T{other}", city="三条市"),
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["invoice_registration_number"]
    company.refresh_from_db()
    assert company.invoice_registration_number == f"T{company.corporate_number}"
    assert company.city == "燕市"


@pytest.mark.django_db
def test_duplicate_corporate_number_is_a_form_error(client, member_user, lead_user):
    client.force_login(member_user)
    company = member_user.company
    taken = lead_user.company.corporate_number

    response = client.post(
        reverse("company_edit", args=[company.pk]),
        company_post_data(company, corporate_number=taken, invoice_registration_number=""),
    )

    assert response.status_code == 200
    assert "corporate_number" in response.context["form"].errors
    company.refresh_from_db()
    assert company.corporate_number != taken


# ---------------------------------------------------------------------------------------
# Capabilities


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "expected"), EDIT_OWN_COMPANY.items())
def test_capability_pages_permissions(as_user, client, capability, role, expected):
    as_user(role)
    company_id = capability.company_id

    for url in (
        reverse("capability_list", args=[company_id]),
        reverse("capability_create", args=[company_id]),
        reverse("capability_edit", args=[capability.pk]),
        reverse("capability_delete", args=[capability.pk]),
    ):
        assert client.get(url).status_code == expected, url


@pytest.mark.django_db
def test_capability_of_an_unseen_company_is_404(
    client, network, other_member_user, buff, stainless
):
    hidden = CapabilityFactory(
        company=DirectoryEntryFactory(network=network).company, process=buff, material=stainless
    )
    client.force_login(other_member_user)

    assert client.get(reverse("capability_edit", args=[hidden.pk])).status_code == 404
    assert client.post(reverse("capability_delete", args=[hidden.pk])).status_code == 404
    assert Capability.objects.filter(pk=hidden.pk).exists()


@pytest.mark.django_db
def test_capability_list_shows_the_rows(client, capability):
    client.force_login(capability.company.users.get())

    page = client.get(reverse("capability_list", args=[capability.company_id])).content.decode()

    assert "バフ研磨" in page
    assert "ステンレス" in page
    assert "#400" in page
    assert reverse("capability_spare", args=[capability.pk]) in page


@pytest.mark.django_db
def test_add_a_capability(client, member_user, buff, stainless):
    client.force_login(member_user)
    url = reverse("capability_create", args=[member_user.company_id])

    response = client.post(url, capability_post_data(buff, stainless))

    assert response.status_code == 302
    assert response["Location"] == reverse("capability_list", args=[member_user.company_id])
    capability = Capability.objects.get(company=member_user.company)
    assert capability.finish_ra_um == Decimal("0.100")
    assert capability.spare_capacity_per_month == 300
    assert capability.capacity_updated_at is not None
    assert capability.finish_ra_input is None


@pytest.mark.django_db
def test_add_a_capability_with_a_roughness(client, member_user, buff, stainless):
    client.force_login(member_user)

    client.post(
        reverse("capability_create", args=[member_user.company_id]),
        capability_post_data(
            buff, stainless, finish_kind=FinishKind.RA, finish_grit="600", finish_ra_input="0.05"
        ),
    )

    capability = Capability.objects.get(company=member_user.company)
    assert (capability.finish_grit, capability.finish_ra_um) == (None, Decimal("0.050"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_length_mm", "-5"),
        ("max_width_mm", "0"),
        ("max_height_mm", "0"),
        ("max_weight_kg", "0"),
    ],
)
def test_non_positive_size_is_a_form_error(client, member_user, buff, stainless, field, value):
    client.force_login(member_user)

    response = client.post(
        reverse("capability_create", args=[member_user.company_id]),
        capability_post_data(buff, stainless, **{field: value}),
    )

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Capability.objects.exists()


@pytest.mark.django_db
def test_grit_finish_needs_a_grit(client, member_user, buff, stainless):
    client.force_login(member_user)

    response = client.post(
        reverse("capability_create", args=[member_user.company_id]),
        capability_post_data(buff, stainless, finish_grit=""),
    )

    assert response.status_code == 200
    assert "finish_grit" in response.context["form"].errors
    assert not Capability.objects.exists()


@pytest.mark.django_db
def test_lot_range_must_be_ordered(client, member_user, buff, stainless):
    client.force_login(member_user)

    response = client.post(
        reverse("capability_create", args=[member_user.company_id]),
        capability_post_data(buff, stainless, lot_min="100", lot_max="10"),
    )

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Capability.objects.exists()


@pytest.mark.django_db
def test_duplicate_capability_is_a_form_error(client, capability, buff, stainless):
    client.force_login(capability.company.users.get())

    response = client.post(
        reverse("capability_create", args=[capability.company_id]),
        capability_post_data(buff, stainless),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["material"] == [
        "この企業には、この加工と材質の対応可能加工がすでに登録されています。"
    ]
    assert Capability.objects.count() == 1


@pytest.mark.django_db
def test_edit_a_capability(client, capability, buff, titanium):
    client.force_login(capability.company.users.get())
    before = capability.capacity_updated_at

    response = client.post(
        reverse("capability_edit", args=[capability.pk]),
        capability_post_data(
            buff, titanium, finish_kind=FinishKind.MIRROR, spare_capacity_per_month="500"
        ),
    )

    assert response.status_code == 302
    capability.refresh_from_db()
    assert capability.material == titanium
    assert capability.finish_kind == FinishKind.MIRROR
    assert capability.finish_grit is None
    assert capability.capacity_updated_at == before  # spare capacity unchanged


@pytest.mark.django_db
def test_edit_into_a_duplicate_is_a_form_error(client, capability, buff, titanium):
    other = CapabilityFactory(company=capability.company, process=buff, material=titanium)
    client.force_login(capability.company.users.get())

    response = client.post(
        reverse("capability_edit", args=[other.pk]), capability_post_data(buff, capability.material)
    )

    assert response.status_code == 200
    assert "material" in response.context["form"].errors
    other.refresh_from_db()
    assert other.material == titanium


@pytest.mark.django_db
def test_update_spare_capacity(client, capability):
    client.force_login(capability.company.users.get())

    response = client.post(
        reverse("capability_spare", args=[capability.pk]), {"spare_capacity_per_month": "1200"}
    )

    assert response.status_code == 302
    capability.refresh_from_db()
    assert capability.spare_capacity_per_month == 1200
    assert timezone.now() - capability.capacity_updated_at < datetime.timedelta(minutes=1)


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["-1", "many", ""])
def test_bad_spare_capacity_is_refused(client, capability, value):
    client.force_login(capability.company.users.get())

    response = client.post(
        reverse("capability_spare", args=[capability.pk]), {"spare_capacity_per_month": value}
    )

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    capability.refresh_from_db()
    assert capability.spare_capacity_per_month == 500


@pytest.mark.django_db
def test_spare_capacity_needs_post(client, capability):
    client.force_login(capability.company.users.get())

    assert client.get(reverse("capability_spare", args=[capability.pk])).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["lead_user", "other_member_user", "committee_user"])
def test_others_cannot_change_spare_capacity_or_delete(as_user, client, capability, role):
    as_user(role)

    spare = client.post(
        reverse("capability_spare", args=[capability.pk]), {"spare_capacity_per_month": "1"}
    )
    delete = client.post(reverse("capability_delete", args=[capability.pk]))

    assert (spare.status_code, delete.status_code) == (403, 403)
    capability.refresh_from_db()
    assert capability.spare_capacity_per_month == 500


@pytest.mark.django_db
def test_delete_a_capability(client, capability):
    client.force_login(capability.company.users.get())

    confirm = client.get(reverse("capability_delete", args=[capability.pk]))
    assert confirm.status_code == 200
    assert Capability.objects.filter(pk=capability.pk).exists()

    response = client.post(reverse("capability_delete", args=[capability.pk]))

    assert response.status_code == 302
    assert not Capability.objects.filter(pk=capability.pk).exists()


# ---------------------------------------------------------------------------------------
# Member directory


DIRECTORY = {
    "secretariat_user": 200,
    "committee_user": 200,
    "member_user": 403,
    "lead_user": 403,
    "other_member_user": 403,
    "other_secretariat_user": 403,
    "buyer_user": 403,
}


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "expected"), DIRECTORY.items())
def test_directory_permissions(as_user, client, network, role, expected):
    as_user(role)

    assert client.get(reverse("member_directory", args=[network.pk])).status_code == expected
    assert client.get(reverse("nonmember_directory", args=[network.pk])).status_code == expected


@pytest.mark.django_db
def test_directory_of_an_unknown_network_is_404(client, secretariat_user):
    client.force_login(secretariat_user)

    assert client.get(reverse("member_directory", args=[999_999])).status_code == 404


@pytest.mark.django_db
def test_directory_index(client, network, secretariat_user, member_user):
    client.force_login(secretariat_user)
    response = client.get(reverse("directory_index"))
    assert response["Location"] == reverse("member_directory", args=[network.pk])

    client.force_login(member_user)
    assert client.get(reverse("directory_index")).status_code == 403


@pytest.fixture
def directory(network, buff, barrel, stainless, titanium):
    """Four members of `network` and one of another network."""
    tsubame = CompanyFactory(
        legal_name="燕バフ工業", prefecture="15", invoice_registration_number=""
    )
    MembershipFactory(network=network, company=tsubame)
    CapabilityFactory(
        company=tsubame, process=buff, material=stainless, spare_capacity_per_month=800
    )

    sanjo = CompanyFactory(legal_name="三条バレル", prefecture="15")
    MembershipFactory(network=network, company=sanjo, membership_class=MembershipClass.LEAD)
    CapabilityFactory(company=sanjo, process=barrel, material=titanium, spare_capacity_per_month=50)

    tokyo = CompanyFactory(legal_name="東京研磨", prefecture="13")
    MembershipFactory(network=network, company=tokyo)
    CapabilityFactory(company=tokyo, process=buff, material=titanium, spare_capacity_per_month=100)
    CapabilityFactory(
        company=tokyo, process=barrel, material=stainless, spare_capacity_per_month=900
    )

    former = CompanyFactory(legal_name="退会研磨")
    MembershipFactory(
        network=network,
        company=former,
        status=MembershipStatus.ENDED,
        ended_on=timezone.localdate(),
    )

    elsewhere = CompanyFactory(legal_name="他ネットワーク研磨")
    MembershipFactory(company=elsewhere)
    CapabilityFactory(company=elsewhere, process=buff, material=stainless)
    return {"tsubame": tsubame, "sanjo": sanjo, "tokyo": tokyo, "former": former}


def directory_names(client, network, **filters) -> list[str]:
    response = client.get(reverse("member_directory", args=[network.pk]), filters)
    assert response.status_code == 200
    return [row["company"].legal_name for row in response.context["rows"]]


@pytest.mark.django_db
def test_directory_lists_the_network_members(client, network, secretariat_user, directory):
    client.force_login(secretariat_user)

    response = client.get(reverse("member_directory", args=[network.pk]))

    names = {row["company"].legal_name for row in response.context["rows"]}
    assert names == {"燕バフ工業", "三条バレル", "東京研磨", "退会研磨"}
    page = response.content.decode()
    assert reverse("company_detail", args=[directory["tsubame"].pk]) in page
    assert "受注幹事企業" in page
    assert "未登録" in page  # 燕バフ工業 has no invoice registration
    tokyo = next(r for r in response.context["rows"] if r["company"] == directory["tokyo"])
    assert tokyo["spare_total"] == 1000
    assert sorted(tokyo["processes"]) == sorted(["バフ研磨", "バレル研磨"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"process": "buff"}, {"燕バフ工業", "東京研磨"}),
        ({"process": "barrel", "material": "sus"}, {"東京研磨"}),
        ({"material": "ti"}, {"三条バレル", "東京研磨"}),
        ({"prefecture": "13"}, {"東京研磨"}),
        ({"membership_class": MembershipClass.LEAD}, {"三条バレル"}),
        ({"status": MembershipStatus.ENDED}, {"退会研磨"}),
        ({"min_spare": "500"}, {"燕バフ工業", "東京研磨"}),
        ({"process": "buff", "min_spare": "500"}, {"燕バフ工業"}),
        ({"q": "三条"}, {"三条バレル"}),
    ],
)
def test_directory_filters(client, network, secretariat_user, directory, filters, expected):
    client.force_login(secretariat_user)
    catalogue = dict(Process.objects.values_list("code", "pk"))
    catalogue |= dict(Material.objects.values_list("code", "pk"))
    params = {
        k: catalogue.get(v, v) if k in ("process", "material") else v for k, v in filters.items()
    }

    assert set(directory_names(client, network, **params)) == expected


@pytest.mark.django_db
def test_directory_ignores_an_invalid_filter(client, network, secretariat_user, directory):
    client.force_login(secretariat_user)

    response = client.get(reverse("member_directory", args=[network.pk]), {"min_spare": "-3"})

    assert response.status_code == 200
    assert "min_spare" in response.context["form"].errors
    assert len(response.context["rows"]) == 4


@pytest.mark.django_db
def test_directory_is_paginated_by_50(client, network, secretariat_user, buff, stainless):
    for _ in range(55):
        MembershipFactory(network=network)
    client.force_login(secretariat_user)
    url = reverse("member_directory", args=[network.pk])

    first = client.get(url, {"process": ""})
    second = client.get(url, {"process": "", "page": "2"})

    assert len(first.context["rows"]) == 50
    assert len(second.context["rows"]) == 5
    assert "?process=&amp;page=2" in first.content.decode()


def _members_with_capabilities(network, count, processes, materials):
    for n in range(count):
        company = MembershipFactory(network=network).company
        CapabilityFactory(company=company, process=processes[n % 2], material=materials[0])
        CapabilityFactory(company=company, process=processes[(n + 1) % 2], material=materials[1])


@pytest.mark.django_db
def test_directory_query_count_does_not_grow(
    client, network, secretariat_user, buff, barrel, stainless, titanium
):
    client.force_login(secretariat_user)
    url = reverse("member_directory", args=[network.pk])

    _members_with_capabilities(network, 5, [buff, barrel], [stainless, titanium])
    client.get(url)  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as five:
        assert len(client.get(url).context["rows"]) == 5

    _members_with_capabilities(network, 25, [buff, barrel], [stainless, titanium])
    with CaptureQueriesContext(connection) as thirty:
        assert len(client.get(url).context["rows"]) == 30

    assert len(thirty) == len(five)
    assert len(five) <= 12


@pytest.mark.django_db
def test_nonmember_directory_lists_the_entries(client, network, other_network, secretariat_user):
    listed = DirectoryEntryFactory(network=network, company__legal_name="非会員めっき")
    DirectoryEntryFactory(network=other_network, company__legal_name="よその非会員")
    client.force_login(secretariat_user)

    page = client.get(reverse("nonmember_directory", args=[network.pk])).content.decode()

    assert listed.company.legal_name in page
    assert "よその非会員" not in page


@pytest.mark.django_db
def test_company_detail_shows_profile_and_capabilities(client, secretariat_user, capability):
    client.force_login(secretariat_user)

    response = client.get(reverse("company_detail", args=[capability.company_id]))

    page = response.content.decode()
    assert capability.company.legal_name in page
    assert "バフ研磨" in page
    assert "共同受注部会員" in page
    assert reverse("company_edit", args=[capability.company_id]) in page


# ---------------------------------------------------------------------------------------
# Lead appointments


@pytest.fixture
def appointment(network, member_user):
    return LeadAppointmentFactory(network=network, company=member_user.company)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("member_user", 200),
        ("lead_user", 200),
        ("secretariat_user", 200),
        ("committee_user", 200),
        ("other_member_user", 404),
        ("other_secretariat_user", 404),
        ("buyer_user", 404),
    ],
)
def test_appointment_detail_permissions(as_user, client, appointment, role, expected):
    as_user(role)

    assert client.get(reverse("appointment_detail", args=[appointment.pk])).status_code == expected


@pytest.mark.django_db
def test_buyer_has_no_appointment_list(client, buyer_user):
    client.force_login(buyer_user)

    assert client.get(reverse("appointment_list")).status_code == 403


@pytest.mark.django_db
def test_member_recommends_once(client, appointment, lead_user):
    client.force_login(lead_user)
    url = reverse("appointment_detail", args=[appointment.pk])
    assert (
        reverse("appointment_recommend", args=[appointment.pk]) in client.get(url).content.decode()
    )

    response = client.post(
        reverse("appointment_recommend", args=[appointment.pk]), {"comment": "技術は確か"}
    )

    assert response.status_code == 302
    assert Recommendation.objects.get().recommender == lead_user.company
    again = client.get(url).content.decode()
    assert reverse("appointment_recommend", args=[appointment.pk]) not in again


@pytest.mark.django_db
def test_candidate_cannot_recommend_itself(client, appointment, member_user):
    client.force_login(member_user)

    response = client.post(reverse("appointment_recommend", args=[appointment.pk]), {})

    assert response.status_code == 200
    assert not Recommendation.objects.exists()


def _decision(**changes):
    data = {
        "approve": "1",
        "decided_on": timezone.localdate().isoformat(),
        "votes_for": "5",
        "votes_against": "1",
        "votes_abstained": "0",
        "reason": "推薦と実績により承認",
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_committee_approval_needs_the_recommendations(client, appointment, committee_user):
    client.force_login(committee_user)

    response = client.post(reverse("appointment_decide", args=[appointment.pk]), _decision())

    assert response.status_code == 200
    assert "approve" in response.context["decide_form"].errors
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.PENDING


@pytest.mark.django_db
def test_committee_approves_after_recommendations(
    client, network, appointment, committee_user, lead_user
):
    for user in (lead_user, CompanyUserFactory()):
        if user is not lead_user:
            MembershipFactory(network=network, company=user.company)
        Recommendation.objects.create(
            appointment=appointment, recommender=user.company, recommended_by=user
        )
    client.force_login(committee_user)

    response = client.post(reverse("appointment_decide", args=[appointment.pk]), _decision())

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.APPROVED
    assert appointment.votes_for == 5


@pytest.mark.django_db
def test_committee_rejects(client, appointment, committee_user):
    client.force_login(committee_user)

    response = client.post(
        reverse("appointment_decide", args=[appointment.pk]),
        _decision(approve="0", votes_for="1", votes_against="4", reason="実績不足"),
    )

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.status, appointment.decision_reason) == (
        AppointmentStatus.REJECTED,
        "実績不足",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["member_user", "lead_user"])
def test_members_cannot_decide(as_user, client, appointment, role):
    as_user(role)

    response = client.post(
        reverse("appointment_decide", args=[appointment.pk]), _decision(approve="0")
    )

    assert response.status_code == 403
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.PENDING
