"""A partner submits inquiries for its buyers and follows only its own; the catalogue it
reads names no company."""

# ruff: noqa: F811  (fixtures imported by name are used as test arguments)

import pytest

from brokerage.models import ApiScope, PartnerBuyer, PartnerInquiry
from core.models import DomainEvent
from members.models import MembershipClass, MembershipStatus
from orders import services as order_services
from orders.models import Inquiry, InquiryStatus
from tests.brokerage.partner_fixtures import (  # noqa: F401
    BUYER,
    key_client,
    make_key,
    other_partner,
    partner,
    partner_api,
    submit_payload,
)
from tests.factories import CapabilityFactory, CompanyFactory, MembershipFactory, ProcessFactory

INQUIRIES = "/api/v1/partner/inquiries/"


# --- Submitting ---------------------------------------------------------------------------


def test_partner_submits_an_inquiry_for_its_buyer(partner_api, partner, network, submit_payload):
    response = partner_api.post(INQUIRIES, submit_payload(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    inquiry = Inquiry.objects.get(pk=body["id"])
    assert inquiry.network == network
    assert inquiry.status == InquiryStatus.SUBMITTED
    assert (inquiry.buyer.name, inquiry.buyer.organisation, inquiry.buyer.email) == (
        "山田 太郎",
        "株式会社山田酒造",
        "yamada@example.jp",
    )
    # The buyer's account acts for it; it cannot sign in.
    account = inquiry.buyer.user
    assert inquiry.entered_by == account
    assert not account.is_active and not account.has_usable_password()
    assert PartnerInquiry.objects.get(inquiry=inquiry).organisation == partner
    assert body["reference"] == inquiry.reference
    assert body["partner_reference"] == "PROSIUM-0042"
    assert body["buyer"]["email"] == "yamada@example.jp"
    assert body["processes"] == ["buff"]
    assert list(DomainEvent.objects.values_list("kind", "aggregate_id")) == [
        ("inquiry.submitted", inquiry.pk)
    ]


def test_the_same_buyer_is_reused_across_inquiries(partner_api, submit_payload):
    partner_api.post(INQUIRIES, submit_payload(), format="json")
    other = dict(BUYER, email="yamada@example.jp", phone="03-1111-1111")
    partner_api.post(INQUIRIES, submit_payload(buyer=other), format="json")

    assert PartnerBuyer.objects.count() == 1
    assert Inquiry.objects.count() == 2
    assert set(Inquiry.objects.values_list("buyer__phone", flat=True)) == {"03-1111-1111"}


def test_a_retry_with_the_same_idempotency_key_returns_the_first_inquiry(
    partner_api, submit_payload
):
    first = partner_api.post(
        INQUIRIES, submit_payload(), format="json", HTTP_IDEMPOTENCY_KEY="order-42"
    )
    retry = partner_api.post(
        INQUIRIES, submit_payload(), format="json", HTTP_IDEMPOTENCY_KEY="order-42"
    )
    other = partner_api.post(
        INQUIRIES, submit_payload(), format="json", HTTP_IDEMPOTENCY_KEY="order-43"
    )

    assert (first.status_code, retry.status_code, other.status_code) == (201, 200, 201)
    assert retry.json()["id"] == first.json()["id"] != other.json()["id"]
    assert Inquiry.objects.count() == 2
    assert DomainEvent.objects.filter(kind="inquiry.submitted").count() == 2


def test_idempotency_keys_are_per_partner(partner_api, other_partner, make_key, submit_payload):
    _key, raw = make_key(other_partner)
    a = partner_api.post(INQUIRIES, submit_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    b = key_client(raw).post(INQUIRIES, submit_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"buyer": None}, "buyer"),
        ({"processes": ["no-such-process"]}, "processes"),
        ({"desired_delivery_date": "2000-01-01"}, "desired_delivery_date"),
        ({"quantity": 0}, "quantity"),
    ],
)
def test_invalid_input_is_400_and_creates_nothing(partner_api, submit_payload, change, field):
    payload = submit_payload(**change)
    if payload["buyer"] is None:
        del payload["buyer"]
    response = partner_api.post(INQUIRIES, payload, format="json")

    assert response.status_code == 400
    assert field in {e["attr"].split(".")[0] for e in response.json()["errors"]}
    assert not Inquiry.objects.exists()
    assert not PartnerBuyer.objects.exists()


def test_a_partner_cannot_choose_another_network(partner_api, submit_payload, other_network):
    response = partner_api.post(INQUIRIES, submit_payload(network=other_network.pk), format="json")
    assert response.status_code == 201
    assert Inquiry.objects.get().network != other_network


# --- Following ------------------------------------------------------------------------------


def test_a_partner_sees_only_its_own_inquiries(
    partner_api, other_partner, make_key, submit_payload, submitted
):
    mine = partner_api.post(INQUIRIES, submit_payload(), format="json").json()
    _key, raw = make_key(other_partner)
    theirs = key_client(raw).post(INQUIRIES, submit_payload(), format="json").json()

    listed = partner_api.get(INQUIRIES).json()["results"]
    assert [i["id"] for i in listed] == [mine["id"]]
    # Another partner's inquiry and a buyer's own (not via a partner) are not found.
    for other_id in (theirs["id"], submitted.pk):
        assert partner_api.get(f"{INQUIRIES}{other_id}/").status_code == 404
        assert partner_api.get(f"{INQUIRIES}{other_id}/timeline/").status_code == 404
        response = partner_api.post(f"{INQUIRIES}{other_id}/withdraw/", {}, format="json")
        assert response.status_code == 404
    assert Inquiry.objects.get(pk=theirs["id"]).status == InquiryStatus.SUBMITTED


def test_list_query_count_does_not_grow(partner_api, submit_payload, django_assert_max_num_queries):
    for n in range(5):
        partner_api.post(INQUIRIES, submit_payload(title=f"件名 {n}"), format="json")
    with django_assert_max_num_queries(12):
        response = partner_api.get(INQUIRIES)
    assert response.json()["count"] == 5


def test_follow_answer_and_withdraw_on_the_buyers_behalf(
    partner_api, submit_payload, secretariat_user
):
    created = partner_api.post(INQUIRIES, submit_payload(), format="json").json()
    inquiry = Inquiry.objects.get(pk=created["id"])
    order_services.inquiry_ask(
        actor=secretariat_user, inquiry=inquiry, question="図面はありますか？"
    )

    assert partner_api.get(f"{INQUIRIES}{inquiry.pk}/").json()["status"] == "question"
    answered = partner_api.post(
        f"{INQUIRIES}{inquiry.pk}/answer/", {"answer": "後日送ります。"}, format="json"
    )
    assert answered.status_code == 200
    assert answered.json()["status"] == "submitted"

    timeline = partner_api.get(f"{INQUIRIES}{inquiry.pk}/timeline/").json()
    assert [(e["kind"], e["text"]) for e in timeline if e["kind"] != "status"] == [
        ("question", "図面はありますか？"),
        ("answer", "後日送ります。"),
    ]

    withdrawn = partner_api.post(
        f"{INQUIRIES}{inquiry.pk}/withdraw/", {"reason": "社内で対応"}, format="json"
    )
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    # A second answer is a state conflict.
    again = partner_api.post(f"{INQUIRIES}{inquiry.pk}/answer/", {"answer": "x"}, format="json")
    assert again.status_code == 409


def test_the_escalation_reason_stays_internal(partner_api, submit_payload, secretariat_user):
    created = partner_api.post(INQUIRIES, submit_payload(), format="json").json()
    inquiry = Inquiry.objects.get(pk=created["id"])
    order_services.inquiry_escalate(
        actor=secretariat_user, inquiry=inquiry, reason="社外秘: 与信の懸念"
    )
    timeline = partner_api.get(f"{INQUIRIES}{inquiry.pk}/timeline/").json()
    assert "社外秘: 与信の懸念" not in str(timeline)


def test_a_key_with_only_the_inquiry_scope_cannot_read_the_catalogue(partner, make_key):
    _key, raw = make_key(partner, scopes=[ApiScope.INQUIRIES_WRITE])
    assert key_client(raw).get("/api/v1/partner/catalogue/").status_code == 403


# --- Catalogue ------------------------------------------------------------------------------


@pytest.fixture
def catalogue_members(network, other_network, buff, stainless):
    lead = CompanyFactory(prefecture="15", phone="0256-00-0001", email="lead@example.jp")
    joint = CompanyFactory(prefecture="17", phone="0256-00-0002", email="joint@example.jp")
    supporting = CompanyFactory(prefecture="13", legal_name="賛助だけの会社")
    suspended = CompanyFactory(prefecture="01", legal_name="停止中の会社")
    outsider = CompanyFactory(prefecture="47", legal_name="他ネットワークの会社")
    MembershipFactory(network=network, company=lead, membership_class=MembershipClass.LEAD)
    MembershipFactory(network=network, company=joint)
    MembershipFactory(
        network=network, company=supporting, membership_class=MembershipClass.SUPPORTING
    )
    MembershipFactory(network=network, company=suspended, status=MembershipStatus.SUSPENDED)
    MembershipFactory(network=other_network, company=outsider)
    barrel = ProcessFactory(code="barrel", name_ja="バレル研磨", name_en="Barrel polishing")
    CapabilityFactory(
        company=lead, process=buff, material=stainless, max_length_mm=2000, lot_max=5000
    )
    CapabilityFactory(
        company=joint,
        process=buff,
        material=stainless,
        finish_ra_um="0.025",
        spare_capacity_per_month=777,
    )
    CapabilityFactory(company=joint, process=barrel, material=stainless, lead_time_days=4)
    for company in (supporting, suspended, outsider):
        CapabilityFactory(company=company, process=buff, material=stainless, max_length_mm=9999)
    return [lead, joint, supporting, suspended, outsider]


def test_catalogue_aggregates_the_members_that_take_joint_orders(
    partner, make_key, catalogue_members
):
    _key, raw = make_key(partner, scopes=[ApiScope.CATALOGUE_READ])
    body = key_client(raw).get("/api/v1/partner/catalogue/").json()

    assert body["network"]["slug"] == "migakiya"
    by_code = {p["code"]: p for p in body["processes"]}
    assert set(by_code) == {"buff", "barrel"}
    buff = by_code["buff"]
    assert (buff["member_count"], buff["prefectures"]) == (2, ["15", "17"])
    stainless = buff["materials"][0]
    assert stainless["code"] == "stainless"
    assert stainless["member_count"] == 2
    assert stainless["max_length_mm"] == 2000  # not 9999: supporting, suspended, outsiders
    assert stainless["finest_ra_um"] == "0.025"
    assert stainless["lot_max"] == 5000
    assert by_code["barrel"]["materials"][0]["shortest_lead_time_days"] == 4


def test_catalogue_contains_no_private_data(partner, make_key, catalogue_members):
    _key, raw = make_key(partner, scopes=[ApiScope.CATALOGUE_READ])
    text = key_client(raw).get("/api/v1/partner/catalogue/").content.decode()

    for company in catalogue_members:
        for private in (company.legal_name, company.corporate_number, company.city):
            assert private not in text
        if company.phone:
            assert company.phone not in text
        if company.email:
            assert company.email not in text
    assert "777" not in text  # a company's spare capacity
    assert "spare" not in text
    assert "company" not in text
