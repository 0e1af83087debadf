"""A process chain across two networks of one platform, worked through the API: dies and
pressing by the partner network, then polishing by ours; the buyer follows one inquiry."""

import datetime

import pytest
from django.utils import timezone

from core.errors import BrokerageError
from members.models import StaffRole
from orders import services
from orders.models import Inquiry, InquiryStatus
from tests import scenarios
from tests.factories import (
    NetworkFactory,
    NetworkStaffFactory,
    ProcessFactory,
)
from tests.helpers import dispatch_all


@pytest.fixture
def pressing(db):
    return ProcessFactory(code="pressing", name_ja="プレス加工", name_en="Pressing")


@pytest.fixture
def partner(network):
    partner = NetworkFactory(name="プロシアムネット", slug="prosium")
    network.partners.add(partner)
    return partner


@pytest.fixture
def partner_secretariat(partner):
    return NetworkStaffFactory(network=partner, role=StaffRole.SECRETARIAT).user


def close_and_confirm(api, secretariat, inquiry_id):
    Inquiry.objects.filter(pk=inquiry_id).update(
        application_deadline=timezone.now() - datetime.timedelta(seconds=1)
    )
    services.inquiries_close_due()
    response = api.as_(secretariat).post(f"/api/v1/inquiries/{inquiry_id}/confirm-award/")
    assert response.status_code == 200, response.json()


def test_chain_across_two_networks_through_the_api(
    api,
    network,
    partner,
    secretariat_user,
    partner_secretariat,
    buyer_user,
    buff,
    stainless,
    pressing,
    inquiry_data,
):
    ours = scenarios.lead_user(network, buff, stainless)
    theirs = scenarios.lead_user(partner, pressing, stainless)
    parent = services.inquiry_submit(
        actor=buyer_user, network=network, data=inquiry_data(processes=[pressing, buff])
    )
    url = f"/api/v1/inquiries/{parent.id}/"

    # Our secretariat splits it: pressing by the partner network first, then our polishing.
    response = api.as_(secretariat_user).post(
        url + "split/",
        {
            "stages": [
                {"network": partner.id, "processes": ["pressing"]},
                {"network": network.id, "processes": ["buff"]},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == InquiryStatus.STAGED
    stage_ids = [s["inquiry"] for s in body["stages"]]
    assert [s["network"] for s in body["stages"]] == [partner.id, network.id]
    assert body["stages"][0]["reference"].startswith("PROSIUM-")

    # Each network works its own stage with its own secretariat and lead companies.
    for secretariat, lead, stage_id, price in (
        (partner_secretariat, theirs, stage_ids[0], 400_000),
        (secretariat_user, ours, stage_ids[1], 250_000),
    ):
        stage_url = f"/api/v1/inquiries/{stage_id}/"
        assert (
            api.as_(secretariat).post(stage_url + "publish/", {}, format="json").status_code == 200
        )
        response = api.as_(lead).post(
            "/api/v1/applications/",
            {"inquiry": stage_id, "price_yen": price, "lead_time_days": 14},
            format="json",
        )
        assert response.status_code == 201, response.json()
    # A lead of one network does not see the other network's stage.
    assert api.as_(ours).get(f"/api/v1/inquiries/{stage_ids[0]}/").status_code == 404
    assert api.as_(partner_secretariat).get(url).status_code == 404

    close_and_confirm(api, partner_secretariat, stage_ids[0])
    dispatch_all()
    assert api.as_(buyer_user).get(url).json()["status"] == InquiryStatus.STAGED

    close_and_confirm(api, secretariat_user, stage_ids[1])
    dispatch_all()
    view = api.as_(buyer_user).get(url).json()
    assert view["status"] == InquiryStatus.AWARDED
    assert [s["lead_company"] for s in view["stages"]] == [
        theirs.company.legal_name,
        ours.company.legal_name,
    ]
    # The buyer also follows each stage directly.
    assert api.as_(buyer_user).get(f"/api/v1/inquiries/{stage_ids[0]}/").status_code == 200


def test_split_rules(network, partner, secretariat_user, buyer_user, buff, pressing, inquiry_data):
    parent = services.inquiry_submit(
        actor=buyer_user, network=network, data=inquiry_data(processes=[pressing, buff])
    )
    stranger = NetworkFactory(slug="stranger")
    cases = [
        [(partner, [pressing])],  # one stage is no chain
        [(partner, [pressing]), (network, [pressing])],  # buff missing, pressing twice
        [(stranger, [pressing]), (network, [buff])],  # not a partner
        [(partner, []), (network, [pressing, buff])],  # empty stage
    ]
    for stages in cases:
        with pytest.raises(BrokerageError) as exc:
            services.inquiry_split(actor=secretariat_user, inquiry=parent, stages=stages)
        assert exc.value.field == "stages"
    parent.refresh_from_db()
    assert parent.status == InquiryStatus.SUBMITTED
    assert Inquiry.objects.count() == 1
    from core.errors import NotAllowed

    with pytest.raises(NotAllowed):
        services.inquiry_split(
            actor=buyer_user, inquiry=parent, stages=[(partner, [pressing]), (network, [buff])]
        )
