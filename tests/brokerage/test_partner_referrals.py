"""A partner network receives the referrals offered to it through the API and answers them;
the partner that submitted an inquiry learns whom its buyer should contact."""

# ruff: noqa: F811  (fixtures imported by name are used as test arguments)

import pytest

from brokerage import partners, referral
from brokerage.models import (
    ApiScope,
    OfferStatus,
    PartnerKind,
    Referral,
    ReferralOffer,
    ReferralStatus,
)
from orders import services as order_services
from orders.models import Inquiry
from tests.brokerage.partner_fixtures import (  # noqa: F401
    key_client,
    make_key,
    other_partner,
    partner,
    partner_api,
    submit_payload,
)
from tests.factories import NetworkFactory
from tests.helpers import dispatch_all

REFERRALS = "/api/v1/partner/referrals/"
FEED = "/api/v1/partner/feed/"


@pytest.fixture
def target_network(db):
    return NetworkFactory(name="プロシアムネット", slug="prosium", contact_email="jimu@prosium.jp")


@pytest.fixture
def target(network, secretariat_user, target_network):
    """The partner organisation of `network` that is the network `target_network`."""
    return partners.partner_create(
        actor=secretariat_user,
        network=network,
        name="プロシアムネット (API)",
        kind=PartnerKind.NETWORK,
        linked_network=target_network,
    )


@pytest.fixture
def target_api(target, make_key):
    _key, raw = make_key(target, scopes=[ApiScope.REFERRALS_RECEIVE])
    return key_client(raw)


def refer(inquiry, *, secretariat, to_network, nda=False):
    """Refer `inquiry` and offer it to `to_network` (the referral job's outcome)."""
    if nda:
        Inquiry.objects.filter(pk=inquiry.pk).update(nda_required=True)
    order_services.inquiry_refer(
        actor=secretariat, inquiry=inquiry, reason="金型は対応外", category="process"
    )
    ref = Referral.objects.create(
        inquiry=inquiry,
        category="process",
        reason="金型は対応外",
        status=ReferralStatus.AWAITING_CONFIRMATION,
    )
    offer = ReferralOffer.objects.create(referral=ref, partner_network=to_network, rank=1)
    referral.referral_confirm(actor=secretariat, referral=ref, offer=offer)
    offer.refresh_from_db()
    return offer


def test_the_target_lists_and_reads_what_it_may_see(
    target_api, submitted, secretariat_user, target_network
):
    offer = refer(submitted, secretariat=secretariat_user, to_network=target_network, nda=True)

    listed = target_api.get(REFERRALS).json()["results"]
    assert [o["id"] for o in listed] == [offer.pk]
    body = target_api.get(f"{REFERRALS}{offer.pk}/").json()
    assert body["status"] == "offered"
    assert body["category"] == "process"
    assert body["inquiry"]["reference"] == submitted.reference
    assert body["inquiry"]["processes"] == ["buff"]
    # NDA and no agreement: neither the buyer nor the description.
    assert body["confidential_shared"] is False
    assert body["inquiry"]["buyer"] is None
    assert body["inquiry"]["description"] == ""
    assert submitted.buyer.email not in str(body)


def test_without_nda_the_buyer_and_details_are_shared(
    target_api, submitted, secretariat_user, target_network
):
    offer = refer(submitted, secretariat=secretariat_user, to_network=target_network)
    body = target_api.get(f"{REFERRALS}{offer.pk}/").json()
    assert body["inquiry"]["buyer"]["email"] == submitted.buyer.email
    assert body["inquiry"]["description"] == submitted.description


def test_the_target_accepts(target_api, submitted, secretariat_user, target_network):
    offer = refer(submitted, secretariat=secretariat_user, to_network=target_network)

    response = target_api.post(f"{REFERRALS}{offer.pk}/accept/")

    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert offer.referral.status == ReferralStatus.ACCEPTED
    # Answering again the other way is a conflict.
    again = target_api.post(f"{REFERRALS}{offer.pk}/decline/", {"reason": "x"}, format="json")
    assert again.status_code == 409


def test_the_target_declines_with_a_reason(target_api, submitted, secretariat_user, target_network):
    offer = refer(submitted, secretariat=secretariat_user, to_network=target_network)

    assert target_api.post(f"{REFERRALS}{offer.pk}/decline/", {}, format="json").status_code == 400
    response = target_api.post(
        f"{REFERRALS}{offer.pk}/decline/", {"reason": "生産能力の不足"}, format="json"
    )

    assert response.status_code == 200
    offer.refresh_from_db()
    assert (offer.status, offer.decline_reason) == (OfferStatus.DECLINED, "生産能力の不足")
    assert offer.referral.status == ReferralStatus.EXHAUSTED  # no next candidate


def test_another_partner_sees_no_offer_and_cannot_answer(
    partner_api, submitted, secretariat_user, target_network
):
    offer = refer(submitted, secretariat=secretariat_user, to_network=target_network)

    assert partner_api.get(REFERRALS).json()["results"] == []
    assert partner_api.get(f"{REFERRALS}{offer.pk}/").status_code == 404
    assert partner_api.post(f"{REFERRALS}{offer.pk}/accept/").status_code == 404
    offer.refresh_from_db()
    assert offer.status == OfferStatus.OFFERED


def test_a_pending_offer_is_not_shown_before_its_turn(
    target_api, submitted, secretariat_user, target_network
):
    order_services.inquiry_refer(actor=secretariat_user, inquiry=submitted, reason="r")
    ref = Referral.objects.create(inquiry=submitted, category="process", reason="r")
    ReferralOffer.objects.create(referral=ref, partner_network=target_network, rank=2)
    assert target_api.get(REFERRALS).json()["results"] == []


def test_the_offer_reaches_the_targets_feed(
    target, target_api, make_key, submitted, secretariat_user, target_network
):
    offer = refer(submitted, secretariat=secretariat_user, to_network=target_network)
    dispatch_all()

    events = target_api.get(FEED).json()["events"]

    assert [e["type"] for e in events] == ["referral.offered"]
    assert events[0]["data"]["offer_id"] == offer.pk
    assert events[0]["data"]["inquiry"]["reference"] == submitted.reference
    # A key without the referral scope does not read that part of the feed.
    _key, raw = make_key(target, scopes=[ApiScope.INQUIRIES_WRITE])
    assert key_client(raw).get(FEED).json()["events"] == []


def test_the_submitting_partner_learns_whom_to_contact(
    partner_api, target_api, submit_payload, secretariat_user, target_network
):
    created = partner_api.post("/api/v1/partner/inquiries/", submit_payload(), format="json")
    inquiry = Inquiry.objects.get(pk=created.json()["id"])
    offer = refer(inquiry, secretariat=secretariat_user, to_network=target_network)
    target_api.post(f"{REFERRALS}{offer.pk}/accept/")
    dispatch_all()

    kinds = [e["type"] for e in partner_api.get(FEED).json()["events"]]
    assert kinds == ["inquiry.submitted", "inquiry.referral", "referral.accepted"]
    body = partner_api.get(f"/api/v1/partner/inquiries/{inquiry.pk}/").json()
    assert body["status"] == "referral"
    assert body["referral"]["accepted_by"] == {
        "name": "プロシアムネット",
        "email": "jimu@prosium.jp",
        "phone": "",
    }
