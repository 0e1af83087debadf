import pytest
from django.core.exceptions import ValidationError

from core.errors import NotAllowed
from members import services
from members.models import Company
from tests.factories import CompanyFactory, DirectoryEntryFactory, MembershipFactory


def company_data(**overrides):
    data = {
        "legal_name": "株式会社燕研磨",
        "legal_name_kana": "ツバメケンマ",
        "corporate_number": "7000012050002",
        "invoice_registration_number": "T7000012050002",
        "prefecture": "15",
        "city": "燕市",
    }
    data.update(overrides)
    return data


def test_secretariat_registers_a_company_with_full_width_numbers(secretariat_user):
    company = services.company_create(
        actor=secretariat_user,
        data=company_data(
            corporate_number="７０００ ０１２０ ５０００２",
            invoice_registration_number="Ｔ７０００ ０１２０ ５０００２",
            postal_code="９５９１２００",
        ),
    )
    company.refresh_from_db()
    assert company.corporate_number == "7000012050002"
    assert company.invoice_registration_number == "T7000012050002"
    assert company.postal_code == "959-1200"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("corporate_number", "1000012050002"),
        ("invoice_registration_number", "T1000012050002"),
        ("prefecture", "99"),
        ("postal_code", "12-34"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(secretariat_user, field, value):
    with pytest.raises(ValidationError) as exc:
        services.company_create(actor=secretariat_user, data=company_data(**{field: value}))
    assert field in exc.value.message_dict
    assert not Company.objects.filter(legal_name="株式会社燕研磨").exists()


def test_registration_number_must_match_the_corporate_number(secretariat_user):
    # Both numbers are valid on their own, but a corporation's registration number is
    # T + its own corporate number.
    other = "T" + CompanyFactory.build().corporate_number
    with pytest.raises(ValidationError) as exc:
        services.company_create(
            actor=secretariat_user, data=company_data(invoice_registration_number=other)
        )
    assert "invoice_registration_number" in exc.value.message_dict


def test_sole_proprietor_without_corporate_number_is_flagged_unregistered(secretariat_user):
    company = services.company_create(
        actor=secretariat_user,
        data=company_data(corporate_number="", invoice_registration_number=""),
    )
    assert company.corporate_number is None
    assert company.has_invoice_registration is False


def test_duplicate_corporate_number_is_refused(secretariat_user):
    CompanyFactory(corporate_number="7000012050002", invoice_registration_number="")
    with pytest.raises(ValidationError) as exc:
        services.company_create(actor=secretariat_user, data=company_data())
    assert "corporate_number" in exc.value.message_dict


def test_company_users_and_buyers_cannot_register_companies(member_user, buyer_user):
    for user in (member_user, buyer_user):
        with pytest.raises(NotAllowed):
            services.company_create(actor=user, data=company_data())
    assert not Company.objects.filter(legal_name="株式会社燕研磨").exists()


def test_company_user_edits_own_company_only(member_user, network):
    other = MembershipFactory(network=network).company
    services.company_update(actor=member_user, company=member_user.company, data={"city": "三条市"})
    member_user.company.refresh_from_db()
    assert member_user.company.city == "三条市"
    with pytest.raises(NotAllowed):
        services.company_update(actor=member_user, company=other, data={"city": "三条市"})
    other.refresh_from_db()
    assert other.city == "燕市"


def test_secretariat_edits_companies_of_its_network_only(
    secretariat_user, other_secretariat_user, network
):
    member = MembershipFactory(network=network).company
    listed = DirectoryEntryFactory(network=network).company
    for company in (member, listed):
        services.company_update(actor=secretariat_user, company=company, data={"phone": "0256-1"})
        with pytest.raises(NotAllowed):
            services.company_update(
                actor=other_secretariat_user, company=company, data={"phone": "x"}
            )
