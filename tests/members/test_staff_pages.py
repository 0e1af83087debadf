"""The secretariat's member pages: opening and withdrawing a lead appointment, adding a
non-member to the directory and editing its consent (who may, the happy path, a refused
input that saves nothing)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import StatusChange
from members.models import AppointmentStatus, Company, DirectoryEntry, LeadAppointment
from tests.factories import CompanyFactory, DirectoryEntryFactory, LeadAppointmentFactory


def body(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------------------------------
# Opening an appointment


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("secretariat_user", 200),
        ("committee_user", 200),
        ("member_user", 403),
        ("lead_user", 403),
        ("buyer_user", 403),
        ("other_secretariat_user", 404),
    ],
)
def test_appointment_open_page_per_role(as_user, client, network, role, expected):
    as_user(role)

    response = client.get(reverse("appointment_open", args=[network.pk]))

    assert response.status_code == expected


@pytest.mark.django_db
def test_appointment_list_links_to_the_open_page(client, network, secretariat_user):
    client.force_login(secretariat_user)

    page = body(client.get(reverse("appointment_list")))

    assert reverse("appointment_open", args=[network.pk]) in page


@pytest.mark.django_db
def test_secretariat_opens_an_appointment(client, network, secretariat_user, member_user):
    client.force_login(secretariat_user)

    response = client.post(
        reverse("appointment_open", args=[network.pk]),
        {"company": member_user.company.pk, "statement": "検査体制が整っている"},
    )

    appointment = LeadAppointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("appointment_detail", args=[appointment.pk])
    assert appointment.company == member_user.company
    assert appointment.network == network
    assert appointment.status == AppointmentStatus.PENDING
    assert appointment.opened_by == secretariat_user
    assert appointment.statement == "検査体制が整っている"


@pytest.mark.django_db
def test_a_lead_company_cannot_be_put_forward(client, network, secretariat_user, lead_user):
    client.force_login(secretariat_user)

    response = client.post(
        reverse("appointment_open", args=[network.pk]), {"company": lead_user.company.pk}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["company"]
    assert not LeadAppointment.objects.exists()


@pytest.mark.django_db
def test_a_second_pending_appointment_shows_the_services_reason(
    client, network, secretariat_user, member_user
):
    LeadAppointmentFactory(network=network, company=member_user.company)
    client.force_login(secretariat_user)

    response = client.post(
        reverse("appointment_open", args=[network.pk]), {"company": member_user.company.pk}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["company"]
    assert LeadAppointment.objects.count() == 1


# ---------------------------------------------------------------------------------------
# Withdrawing an appointment


@pytest.fixture
def appointment(network, member_user):
    return LeadAppointmentFactory(network=network, company=member_user.company)


@pytest.mark.django_db
def test_withdraw_form_is_shown_to_the_secretariat_only(
    client, appointment, secretariat_user, committee_user
):
    url = reverse("appointment_withdraw", args=[appointment.pk])
    client.force_login(secretariat_user)
    assert url in body(client.get(reverse("appointment_detail", args=[appointment.pk])))
    client.force_login(committee_user)
    assert url not in body(client.get(reverse("appointment_detail", args=[appointment.pk])))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("committee_user", 403),
        ("lead_user", 403),
        ("other_secretariat_user", 404),
        ("buyer_user", 404),
    ],
)
def test_withdraw_per_role(as_user, client, appointment, role, expected):
    as_user(role)

    response = client.post(
        reverse("appointment_withdraw", args=[appointment.pk]), {"withdraw-reason": "辞退"}
    )

    assert response.status_code == expected
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.PENDING


@pytest.mark.django_db
def test_secretariat_withdraws_an_appointment(client, appointment, secretariat_user):
    client.force_login(secretariat_user)

    response = client.post(
        reverse("appointment_withdraw", args=[appointment.pk]),
        {"withdraw-reason": "候補企業から辞退の申し出"},
    )

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.WITHDRAWN
    change = StatusChange.objects.filter(to_status=AppointmentStatus.WITHDRAWN).get()
    assert change.reason == "候補企業から辞退の申し出"
    page = body(client.get(reverse("appointment_detail", args=[appointment.pk])))
    assert "候補企業から辞退の申し出" in page
    assert reverse("appointment_withdraw", args=[appointment.pk]) not in page


@pytest.mark.django_db
def test_withdraw_without_a_reason_shows_an_error(client, appointment, secretariat_user):
    client.force_login(secretariat_user)

    response = client.post(
        reverse("appointment_withdraw", args=[appointment.pk]), {"withdraw-reason": ""}
    )

    assert response.status_code == 200
    assert response.context["withdraw_form"].errors["reason"]
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.PENDING


# ---------------------------------------------------------------------------------------
# Adding a non-member


def new_company(**changes) -> dict:
    data = {
        "company-legal_name": "有限会社三条メッキ",
        "company-legal_name_kana": "さんじょうめっき",
        "company-corporate_number": "",
        "company-invoice_registration_number": "",
        "company-postal_code": "",
        "company-prefecture": "15",
        "company-city": "三条市",
        "company-address_line": "",
        "company-phone": "0256-11-1111",
        "company-email": "",
        "company-website": "",
        "company-description": "",
    }
    data.update(changes)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("secretariat_user", 200),
        ("committee_user", 403),
        ("member_user", 403),
        ("buyer_user", 403),
        ("other_secretariat_user", 404),
    ],
)
def test_directory_add_page_per_role(as_user, client, network, role, expected):
    as_user(role)

    response = client.get(reverse("directory_add", args=[network.pk]))

    assert response.status_code == expected


@pytest.mark.django_db
def test_directory_links_to_add_and_edit(client, network, secretariat_user, committee_user):
    entry = DirectoryEntryFactory(network=network)
    url = reverse("nonmember_directory", args=[network.pk])
    client.force_login(secretariat_user)
    page = body(client.get(url))
    assert reverse("directory_add", args=[network.pk]) in page
    assert reverse("directory_edit", args=[entry.pk]) in page
    client.force_login(committee_user)
    page = body(client.get(url))
    assert reverse("directory_add", args=[network.pk]) not in page
    assert reverse("directory_edit", args=[entry.pk]) not in page


@pytest.mark.django_db
def test_secretariat_lists_an_existing_company(
    client, network, secretariat_user, other_member_user
):
    client.force_login(secretariat_user)
    company = other_member_user.company  # a member elsewhere, not of this network

    response = client.post(
        reverse("directory_add", args=[network.pk]),
        {"company": company.pk, "consents_to_referrals": "on", "notes": "電解研磨が得意"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("nonmember_directory", args=[network.pk])
    entry = DirectoryEntry.objects.get()
    assert entry.network == network
    assert entry.company == company
    assert entry.consents_to_referrals
    assert entry.consent_recorded_on == timezone.localdate()
    assert entry.notes == "電解研磨が得意"
    assert entry.added_by == secretariat_user


@pytest.mark.django_db
def test_secretariat_registers_and_lists_a_new_company(client, network, secretariat_user):
    client.force_login(secretariat_user)
    before = Company.objects.count()

    response = client.post(
        reverse("directory_add", args=[network.pk]), {"company": "", **new_company()}
    )

    assert response.status_code == 302
    company = Company.objects.get(legal_name="有限会社三条メッキ")
    assert Company.objects.count() == before + 1
    assert company.registered_by_network == network
    entry = DirectoryEntry.objects.get()
    assert entry.company == company
    assert not entry.consents_to_referrals


@pytest.mark.django_db
def test_directory_add_without_a_company_shows_an_error(client, network, secretariat_user):
    client.force_login(secretariat_user)
    before = Company.objects.count()

    response = client.post(reverse("directory_add", args=[network.pk]), {"company": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["company"]
    assert not DirectoryEntry.objects.exists()
    assert Company.objects.count() == before


@pytest.mark.django_db
def test_directory_add_with_an_incomplete_new_company_saves_nothing(
    client, network, secretariat_user
):
    client.force_login(secretariat_user)
    before = Company.objects.count()

    response = client.post(
        reverse("directory_add", args=[network.pk]),
        {"company": "", **new_company(**{"company-city": ""})},
    )

    assert response.status_code == 200
    assert response.context["company_form"].errors["city"]
    assert not DirectoryEntry.objects.exists()
    assert Company.objects.count() == before


@pytest.mark.django_db
def test_a_member_cannot_be_listed(client, network, secretariat_user, member_user):
    client.force_login(secretariat_user)

    response = client.post(
        reverse("directory_add", args=[network.pk]), {"company": member_user.company.pk}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["company"]
    assert not DirectoryEntry.objects.exists()


# ---------------------------------------------------------------------------------------
# Editing an entry


@pytest.fixture
def entry(network):
    return DirectoryEntryFactory(
        network=network,
        company=CompanyFactory(),
        consents_to_referrals=False,
        consent_recorded_on=None,
        notes="",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("secretariat_user", 200),
        ("committee_user", 403),
        ("member_user", 404),
        ("buyer_user", 404),
        ("other_secretariat_user", 404),
    ],
)
def test_directory_edit_page_per_role(as_user, client, entry, role, expected):
    as_user(role)

    response = client.get(reverse("directory_edit", args=[entry.pk]))

    assert response.status_code == expected


@pytest.mark.django_db
def test_secretariat_records_the_consent(client, network, entry, secretariat_user):
    client.force_login(secretariat_user)
    day = timezone.localdate() - datetime.timedelta(days=3)

    response = client.post(
        reverse("directory_edit", args=[entry.pk]),
        {
            "consents_to_referrals": "on",
            "consent_recorded_on": day.isoformat(),
            "notes": "電話で同意を確認",
        },
    )

    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.consents_to_referrals
    assert entry.consent_recorded_on == day
    assert entry.notes == "電話で同意を確認"


@pytest.mark.django_db
def test_directory_edit_with_a_bad_date_changes_nothing(client, entry, secretariat_user):
    client.force_login(secretariat_user)

    response = client.post(
        reverse("directory_edit", args=[entry.pk]),
        {"consents_to_referrals": "on", "consent_recorded_on": "2025-13-45", "notes": "x"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["consent_recorded_on"]
    entry.refresh_from_db()
    assert not entry.consents_to_referrals
    assert entry.notes == ""
