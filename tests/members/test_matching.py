from decimal import Decimal

from members.matching import MatchCriteria, capability_matches
from tests.factories import (
    CapabilityFactory,
    CompanyFactory,
    MaterialFactory,
    MembershipFactory,
    ProcessFactory,
)


def criteria(network, process, material, **overrides):
    values = {
        "network_id": network.id,
        "process_ids": (process.id,),
        "material_id": material.id,
        "length_mm": 400,
        "width_mm": 200,
        "height_mm": 100,
        "weight_kg": Decimal("5"),
        "quantity": 300,
        "required_ra_um": Decimal("0.2"),
        "days_available": 20,
        "latitude": 37.90,
        "longitude": 139.02,
    }
    values.update(overrides)
    return MatchCriteria(**values)


def member(network, membership_class="joint_order", **company):
    return MembershipFactory(
        network=network, membership_class=membership_class, company=CompanyFactory(**company)
    ).company


def test_candidates_first_ranked_by_capacity_lead_time_then_distance(network, other_network):
    buff, sus = ProcessFactory(code="buff"), MaterialFactory(code="stainless")
    near = member(network, latitude="37.910000", longitude="139.030000")
    far = member(network, latitude="34.690000", longitude="135.520000")
    busy = member(network)
    slow = member(network)
    too_small = member(network)
    supporter = member(network, membership_class="supporting")
    outsider = member(other_network)
    for company in (near, far, supporter, outsider):
        CapabilityFactory(company=company, process=buff, material=sus)
    CapabilityFactory(company=busy, process=buff, material=sus, spare_capacity_per_month=10)
    CapabilityFactory(company=slow, process=buff, material=sus, lead_time_days=40)
    CapabilityFactory(company=too_small, process=buff, material=sus, max_length_mm=100)
    CapabilityFactory(company=near, process=buff, material=MaterialFactory(code="ti"))

    matches = capability_matches(criteria(network, buff, sus))

    assert [m.company_id for m in matches] == [near.id, far.id, slow.id, busy.id, too_small.id]
    assert [m.is_candidate for m in matches] == [True, True, True, True, False]
    assert matches[0].distance_km < 5 < 400 < matches[1].distance_km < 600
    assert matches[2].checks["lead_time"] is False
    assert matches[3].checks["capacity"] is False
    assert matches[4].reasons_out == ["size"]


def test_finish_weight_and_lot_explain_why_out(network):
    buff, sus = ProcessFactory(code="buff"), MaterialFactory(code="stainless")
    rough = member(network)
    CapabilityFactory(company=rough, process=buff, material=sus, finish_ra_um="0.800")
    light = member(network)
    CapabilityFactory(company=light, process=buff, material=sus, max_weight_kg="1.00")
    big_lots = member(network)
    CapabilityFactory(company=big_lots, process=buff, material=sus, lot_min=1000, lot_max=9000)
    reasons = {
        m.company_id: m.reasons_out for m in capability_matches(criteria(network, buff, sus))
    }
    assert reasons == {rough.id: ["finish"], light.id: ["weight"], big_lots.id: ["lot"]}


def test_no_finish_or_deadline_requirement_passes_those_checks(network):
    buff, sus = ProcessFactory(code="buff"), MaterialFactory(code="stainless")
    CapabilityFactory(company=member(network), process=buff, material=sus, finish_ra_um="3.2")
    [match] = capability_matches(
        criteria(network, buff, sus, required_ra_um=None, days_available=None, latitude=None)
    )
    assert match.is_candidate and match.checks["lead_time"] and match.distance_km is None


def test_matching_is_one_query(network, django_assert_num_queries):
    buff, sus = ProcessFactory(code="buff"), MaterialFactory(code="stainless")
    for _ in range(30):
        CapabilityFactory(company=member(network), process=buff, material=sus)
    with django_assert_num_queries(1):
        matches = capability_matches(criteria(network, buff, sus))
    assert len(matches) == 30
