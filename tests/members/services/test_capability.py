from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.errors import Conflict, NotAllowed
from members import services
from members.models import Capability
from tests.factories import CapabilityFactory, MaterialFactory, ProcessFactory


@pytest.fixture
def buff(db):
    return ProcessFactory(code="buff", name_ja="バフ研磨", name_en="Buff polishing")


@pytest.fixture
def stainless(db):
    return MaterialFactory(code="stainless", name_ja="ステンレス", name_en="Stainless steel")


def capability_data(process, material, **overrides):
    data = {
        "process": process,
        "material": material,
        "max_length_mm": 600,
        "max_width_mm": 400,
        "max_height_mm": 300,
        "max_weight_kg": Decimal("15"),
        "finish_kind": "grit",
        "finish_grit": 600,
        "lot_min": 1,
        "lot_max": 5000,
        "lead_time_days": 14,
        "spare_capacity_per_month": 800,
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("kind", "grit", "ra", "expected"),
    [
        ("grit", 400, None, Decimal("0.2")),
        ("grit", 450, None, Decimal("0.2")),
        ("grit", 800, None, Decimal("0.08")),
        ("grit", 60, None, Decimal("6.4")),
        ("mirror", None, None, Decimal("0.02")),
        ("ra", None, Decimal("0.15"), Decimal("0.15")),
    ],
)
def test_every_finish_is_compared_as_ra(kind, grit, ra, expected):
    assert services.finish_as_ra(kind=kind, grit=grit, ra=ra) == expected


def test_company_user_adds_a_capability_and_the_capacity_date_is_set(member_user, buff, stainless):
    capability = services.capability_create(
        actor=member_user, company=member_user.company, data=capability_data(buff, stainless)
    )
    assert capability.finish_ra_um == Decimal("0.1")
    assert capability.capacity_updated_at is not None


def test_capacity_date_moves_only_when_the_capacity_changes(member_user, buff, stainless):
    capability = services.capability_create(
        actor=member_user, company=member_user.company, data=capability_data(buff, stainless)
    )
    first = capability.capacity_updated_at
    capability = services.capability_update(
        actor=member_user, capability=capability, data={"lead_time_days": 7}
    )
    assert capability.capacity_updated_at == first
    capability = services.capability_update(
        actor=member_user, capability=capability, data={"spare_capacity_per_month": 10}
    )
    assert capability.capacity_updated_at > first


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_length_mm", 0),
        ("max_weight_kg", Decimal("0")),
        ("lot_max", 0),
        ("finish_grit", None),
    ],
)
def test_bad_capability_input_names_the_field(member_user, buff, stainless, field, value):
    with pytest.raises(ValidationError) as exc:
        services.capability_create(
            actor=member_user,
            company=member_user.company,
            data=capability_data(buff, stainless, **{field: value}),
        )
    assert field in exc.value.message_dict
    assert not Capability.objects.exists()


def test_lot_range_must_not_be_inverted(member_user, buff, stainless):
    with pytest.raises(ValidationError) as exc:
        services.capability_create(
            actor=member_user,
            company=member_user.company,
            data=capability_data(buff, stainless, lot_min=100, lot_max=10),
        )
    assert "lot_max" in exc.value.message_dict


def test_one_capability_per_process_and_material(member_user, buff, stainless):
    services.capability_create(
        actor=member_user, company=member_user.company, data=capability_data(buff, stainless)
    )
    with pytest.raises(Conflict) as exc:
        services.capability_create(
            actor=member_user, company=member_user.company, data=capability_data(buff, stainless)
        )
    assert exc.value.field == "material"
    assert Capability.objects.count() == 1


def test_retired_process_cannot_be_used(member_user, buff, stainless):
    buff.is_active = False
    buff.save()
    with pytest.raises(ValidationError) as exc:
        services.capability_create(
            actor=member_user, company=member_user.company, data=capability_data(buff, stainless)
        )
    assert "process" in exc.value.message_dict


def test_another_company_cannot_touch_my_capabilities(member_user, lead_user, buff, stainless):
    capability = CapabilityFactory(company=member_user.company, process=buff, material=stainless)
    with pytest.raises(NotAllowed):
        services.capability_update(
            actor=lead_user, capability=capability, data={"spare_capacity_per_month": 0}
        )
    with pytest.raises(NotAllowed):
        services.capability_delete(actor=lead_user, capability=capability)
    with pytest.raises(NotAllowed):
        services.capability_create(
            actor=lead_user,
            company=member_user.company,
            data=capability_data(buff, MaterialFactory()),
        )
    capability.refresh_from_db()
    assert capability.spare_capacity_per_month == 500


def test_catalogue_is_extended_by_a_secretariat_only(secretariat_user, member_user):
    process = services.process_create(
        actor=secretariat_user,
        data={"code": "hairline", "name_ja": "ヘアライン", "name_en": "Hairline"},
    )
    assert process.pk
    with pytest.raises(NotAllowed):
        services.material_create(
            actor=member_user, data={"code": "ti", "name_ja": "チタン", "name_en": "Titanium"}
        )
    with pytest.raises(ValidationError) as exc:
        services.process_create(
            actor=secretariat_user,
            data={"code": "hairline", "name_ja": "重複", "name_en": "Duplicate"},
        )
    assert "code" in exc.value.message_dict
