"""The referral pages and API: the secretariat's list and screen (send, add a candidate),
the service-level view, the target's signed response page (valid, tampered, expired, used
twice, NDA), and who may see what (other networks 404)."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from brokerage import referral as services
from brokerage.models import Notification, OfferStatus, ReferralStatus
from orders import services as order_services
from tests.brokerage import test_referral as shared

# The referral fixtures and helpers are shared with test_referral.py.
refer = shared.refer
three_candidates = shared.three_candidates
directory_company = shared.directory_company
dispatch_all = shared.dispatch_all
offer_states = shared.offer_states
NIIGATA, OSAKA = shared.NIIGATA, shared.OSAKA

R = ReferralStatus
O = OfferStatus  # noqa: E741


@pytest.fixture
def waiting(submitted, refer, three_candidates):
    return refer(submitted)


@pytest.fixture
def sent(waiting, secretariat_user):
    services.referral_confirm(actor=secretariat_user, referral=waiting)
    return waiting


def link(offer) -> str:
    return reverse("referral_respond", args=[services.referral_response_token(offer)])


# ---------------------------------------------------------------------------------------
# The secretariat's pages


def test_referral_screen_lists_candidates_with_reasons_and_distance(
    client, waiting, secretariat_user
):
    client.force_login(secretariat_user)
    response = client.get(reverse("referral_detail", args=[waiting.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("株式会社埼玉研磨", "株式会社新潟研磨", "株式会社大阪研磨"):
        assert name in html
    assert (
        html.index("株式会社埼玉研磨")
        < html.index("株式会社新潟研磨")
        < html.index("株式会社大阪研磨")
    )
    first = waiting.offers.get(rank=1)
    assert f"{first.distance_km} km" in html
    with translation.override("ja"):
        assert str(services.REASON_LABELS["consented"]) in html
    assert html.count('name="offer"') == 3  # one-click send per candidate


def test_one_click_sends_to_the_chosen_candidate(client, waiting, secretariat_user):
    client.force_login(secretariat_user)
    second = waiting.offers.get(rank=2)
    response = client.post(reverse("referral_send", args=[waiting.pk]), {"offer": second.pk})
    assert response.status_code == 302
    assert offer_states(waiting) == [O.PENDING, O.OFFERED, O.PENDING]
    page = client.get(reverse("referral_detail", args=[waiting.pk])).content.decode()
    assert 'name="offer"' not in page  # an offer is out: nothing to send until it is answered


def test_send_while_an_offer_is_out_is_refused_with_a_message(client, sent, secretariat_user):
    client.force_login(secretariat_user)
    third = sent.offers.get(rank=3)
    response = client.post(
        reverse("referral_send", args=[sent.pk]), {"offer": third.pk}, follow=True
    )
    assert response.status_code == 200
    assert offer_states(sent) == [O.OFFERED, O.PENDING, O.PENDING]
    assert len(list(response.context["messages"])) == 1


def test_secretariat_adds_a_candidate_from_the_directory(
    client, waiting, secretariat_user, network
):
    extra = directory_company(
        network, name="株式会社手配研磨", where=NIIGATA, processes=[], material=None
    )
    client.force_login(secretariat_user)
    response = client.post(
        reverse("referral_add", args=[waiting.pk]),
        {"target": f"c{extra.pk}", "reason": "電話で確認"},
    )
    assert response.status_code == 302
    assert waiting.offers.get(rank=4).company == extra


def test_adding_an_unknown_candidate_shows_the_form_again(client, waiting, secretariat_user):
    client.force_login(secretariat_user)
    response = client.post(reverse("referral_add", args=[waiting.pk]), {"target": "c999999"})
    assert response.status_code == 400
    assert waiting.offers.count() == 3


def test_referral_for_inquiry_redirects_to_its_screen(client, waiting, secretariat_user):
    client.force_login(secretariat_user)
    response = client.get(reverse("referral_for_inquiry", args=[waiting.inquiry_id]))
    assert response.status_code == 302
    assert response["Location"] == reverse("referral_detail", args=[waiting.pk])


def test_referral_list_shows_state_and_the_record(client, sent, secretariat_user):
    client.force_login(secretariat_user)
    response = client.get(reverse("referral_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert sent.inquiry.reference in html
    assert "株式会社埼玉研磨" in html
    record = response.context["records"][0]
    assert record["total"]["referrals"] == 1


def test_buyer_agreement_is_recorded_from_the_screen(
    client, network, buyer_user, inquiry_data, refer, three_candidates, secretariat_user
):
    inquiry = order_services.inquiry_submit(
        actor=buyer_user, network=network, data=inquiry_data(nda_required=True)
    )
    referral = refer(inquiry)
    client.force_login(secretariat_user)
    assert client.post(reverse("referral_share", args=[referral.pk])).status_code == 302
    referral.refresh_from_db()
    assert referral.buyer_agreed_to_share is True


@pytest.mark.parametrize(
    ("who", "status"),
    [("other_secretariat_user", 404), ("committee_user", 403), ("buyer_user", 403)],
)
def test_others_cannot_see_or_act_on_the_referral(request, client, waiting, who, status):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("referral_detail", args=[waiting.pk])).status_code == status
    post = client.post(reverse("referral_send", args=[waiting.pk]))
    assert post.status_code == 404
    assert offer_states(waiting) == [O.PENDING, O.PENDING, O.PENDING]


@pytest.mark.parametrize("name", ["referral_list", "service_level"])
def test_lists_are_for_the_secretariat(client, member_user, name):
    client.force_login(member_user)
    assert client.get(reverse(name)).status_code == 403


def test_lists_need_a_login(client):
    response = client.get(reverse("referral_list"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_service_level_page_marks_overdue_inquiries(
    client, network, buyer_user, inquiry_data, secretariat_user
):
    network.sla_working_days = 1
    network.save()
    inquiry = order_services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    client.force_login(secretariat_user)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=10)):
        response = client.get(reverse("service_level"))
    assert response.status_code == 200
    html = response.content.decode()
    assert inquiry.reference in html
    assert 'class="overdue"' in html
    assert response.context["rows"][0].overdue is True


# ---------------------------------------------------------------------------------------
# The target's page at its signed link


def test_signed_link_shows_the_inquiry_and_accepting_works_once(client, sent, buyer_user):
    offer = sent.offers.get(rank=1)
    url = link(offer)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert sent.inquiry.title in html
    assert 'value="accept"' in html
    # Accept
    response = client.post(url, {"answer": "accept"})
    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.status == O.ACCEPTED
    after = client.get(url).content.decode()
    assert buyer_user.buyer.email in after  # no NDA: the target gets the buyer's contact
    # Used twice
    again = client.post(url, {"answer": "decline", "reason": "やはり無理"})
    assert again.status_code == 409
    offer.refresh_from_db()
    assert offer.status == O.ACCEPTED


def test_declining_needs_a_reason_and_moves_on(client, sent):
    offer = sent.offers.get(rank=1)
    url = link(offer)
    refused = client.post(url, {"answer": "decline", "reason": ""})
    assert refused.status_code == 400
    assert offer_states(sent) == [O.OFFERED, O.PENDING, O.PENDING]
    client.post(url, {"answer": "decline", "reason": "設備が空いていません"})
    assert offer_states(sent) == [O.DECLINED, O.OFFERED, O.PENDING]


def test_tampered_link_says_so(client, sent):
    token = services.referral_response_token(sent.offers.get(rank=1))
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.get(reverse("referral_respond", args=[tampered]))
    assert response.status_code == 404
    assert response.templates[0].name == "brokerage/referral/respond_invalid.html"
    post = client.post(reverse("referral_respond", args=[tampered]), {"answer": "accept"})
    assert post.status_code == 404
    assert offer_states(sent) == [O.OFFERED, O.PENDING, O.PENDING]


def test_a_link_of_another_offer_moment_is_refused(client, sent):
    offer = sent.offers.get(rank=2)  # pending: never offered, so no valid link exists
    from django.core import signing

    token = signing.dumps({"o": offer.pk, "t": 0}, salt=services.RESPONSE_SALT, compress=True)
    assert client.get(reverse("referral_respond", args=[token])).status_code == 404
    stable = signing.Signer(salt=services.RESPONSE_SALT).sign_object({"o": offer.pk, "t": 0})
    assert client.get(reverse("referral_respond", args=[stable])).status_code == 404


def test_an_offers_link_is_the_same_whenever_it_is_made(sent):
    """The link in the notification (made when the event was dispatched) and the one made
    again later are one link, even across a second boundary: the link carries no signing
    time. (It did: `signing.dumps` stamps the second of signing, and the partner test that
    compared the two failed whenever the seconds differed.)"""
    offer = sent.offers.get(rank=1)
    moment = offer.offered_at.replace(microsecond=999_000)
    with time_machine.travel(moment, tick=False):
        first = services.referral_response_url(offer)
    with time_machine.travel(moment + datetime.timedelta(milliseconds=2), tick=False):
        again = services.referral_response_url(offer)
    with time_machine.travel(moment + datetime.timedelta(days=1), tick=False):
        next_day = services.referral_response_url(offer)
    assert first == again == next_day
    token = first.rsplit("/", 2)[-2]
    assert services.referral_offer_from_token(token) == offer


def test_a_link_sent_before_links_became_stable_still_opens(client, sent):
    offer = sent.offers.get(rank=1)
    from django.core import signing

    payload = {"o": offer.pk, "t": int(offer.offered_at.timestamp())}
    old = signing.dumps(payload, salt=services.RESPONSE_SALT, compress=True)
    assert services.referral_offer_from_token(old) == offer
    assert client.get(reverse("referral_respond", args=[old])).status_code == 200
    forged = signing.dumps(payload, salt="another.salt", compress=True)
    assert client.get(reverse("referral_respond", args=[forged])).status_code == 404


def test_expired_link_says_the_time_has_passed(client, sent):
    offer = sent.offers.get(rank=1)
    url = link(offer)
    with time_machine.travel(offer.expires_at + datetime.timedelta(minutes=1)):
        before_scan = client.get(url)
        services.referrals_expire_due()
        after_scan = client.post(url, {"answer": "accept"})
    assert before_scan.status_code == 410
    assert after_scan.status_code == 410
    assert 'value="accept"' not in after_scan.content.decode()
    offer.refresh_from_db()
    assert offer.status == O.EXPIRED


def test_nda_inquiry_page_withholds_the_buyer_and_the_description(
    client,
    network,
    buyer_user,
    inquiry_data,
    refer,
    three_candidates,
    secretariat_user,
):
    inquiry = order_services.inquiry_submit(
        actor=buyer_user,
        network=network,
        data=inquiry_data(nda_required=True, description="極秘: 新型端末の筐体"),
    )
    referral = refer(inquiry)
    services.referral_confirm(actor=secretariat_user, referral=referral)
    html = client.get(link(referral.offers.get(rank=1))).content.decode()
    assert inquiry.title in html
    assert "極秘" not in html
    assert buyer_user.buyer.name not in html
    assert buyer_user.buyer.organisation not in html
    assert buyer_user.buyer.email not in html


def test_a_directory_company_is_emailed_not_notified(sent):
    # It has no account: the offer reaches it by e-mail with the signed link.
    dispatch_all()
    assert not Notification.objects.filter(kind="referral.offered").exists()
    assert sent.offers.get(rank=1).email_status == "pending"


# ---------------------------------------------------------------------------------------
# API


def test_api_lists_referrals_with_offers_within_a_query_budget(
    api,
    network,
    buyer_user,
    inquiry_data,
    refer,
    three_candidates,
    secretariat_user,
    django_assert_max_num_queries,
):
    for _ in range(3):
        refer(order_services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data()))
    client = api.as_(secretariat_user)
    with django_assert_max_num_queries(10):
        response = client.get("/api/v1/referrals/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 3
    first = results[0]
    assert first["status"] == "awaiting_confirmation"
    assert [o["target_name"] for o in first["offers"]] == [
        "株式会社埼玉研磨",
        "株式会社新潟研磨",
        "株式会社大阪研磨",
    ]
    assert first["offers"][0]["target_kind"] == "company"
    assert first["offers"][0]["reasons"][0]["code"] == "consented"


def test_api_confirm_and_add_candidate(api, waiting, secretariat_user, network):
    client = api.as_(secretariat_user)
    third = waiting.offers.get(rank=3)
    response = client.post(
        f"/api/v1/referrals/{waiting.pk}/confirm/", {"offer": third.pk}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "offered"
    assert offer_states(waiting) == [O.PENDING, O.PENDING, O.OFFERED]
    again = client.post(f"/api/v1/referrals/{waiting.pk}/confirm/", {}, format="json")
    assert again.status_code == 409

    extra = directory_company(
        network, name="株式会社追加研磨", where=OSAKA, processes=[], material=None
    )
    added = client.post(
        f"/api/v1/referrals/{waiting.pk}/add-candidate/",
        {"company": extra.pk, "reason": "電話で確認"},
        format="json",
    )
    assert added.status_code == 201
    assert added.json()["offers"][-1]["target_name"] == "株式会社追加研磨"
    outside = directory_company(
        network.__class__.objects.create(name="別の網", slug="elsewhere"),
        name="株式会社よそ",
        where=OSAKA,
        processes=[],
        material=None,
    )
    refused = client.post(
        f"/api/v1/referrals/{waiting.pk}/add-candidate/", {"company": outside.pk}, format="json"
    )
    assert refused.status_code == 400
    both = client.post(f"/api/v1/referrals/{waiting.pk}/add-candidate/", {}, format="json")
    assert both.status_code == 400


@pytest.mark.parametrize("who", ["other_secretariat_user", "buyer_user", "member_user"])
def test_api_hides_the_referral_from_others(api, waiting, request, who):
    client = api.as_(request.getfixturevalue(who))
    assert client.get("/api/v1/referrals/").json()["results"] == []
    assert client.get(f"/api/v1/referrals/{waiting.pk}/").status_code == 404
    assert client.post(f"/api/v1/referrals/{waiting.pk}/confirm/", {}).status_code == 404
    assert offer_states(waiting) == [O.PENDING, O.PENDING, O.PENDING]


def test_api_outcomes(api, sent, secretariat_user, other_secretariat_user, network):
    services.referral_respond(offer=sent.offers.get(rank=1), accept=True)
    response = api.as_(secretariat_user).get("/api/v1/referrals/outcomes/", {"network": network.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == {
        "referrals": 1,
        "accepted": 1,
        "declined": 0,
        "no_answer": 0,
        "exhausted": 0,
    }
    assert body["by_category"]["process"]["accepted"] == 1
    other = api.as_(other_secretariat_user).get(
        "/api/v1/referrals/outcomes/", {"network": network.pk}
    )
    assert other.status_code == 404


def test_anonymous_api_is_refused(api, waiting):
    assert api.get("/api/v1/referrals/").status_code in (401, 403)
