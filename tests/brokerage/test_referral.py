"""Referral of what the network cannot serve: triggers and categories, ranking, sending
(automatic or confirmed), moving on after a decline or no answer, the exhausted list, what
the buyer and the target are told, the record, and who may act."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from brokerage import referral as services
from brokerage.models import (
    EmailStatus,
    Notification,
    OfferStatus,
    Referral,
    ReferralOffer,
    ReferralStatus,
)
from brokerage.referral import emails
from core.errors import BrokerageError, Conflict, InvalidTransition, NotAllowed
from core.models import DomainEvent
from core.transitions import history
from members.models import StaffRole
from orders import services as order_services
from orders.models import InquiryStatus
from orders.selectors import inquiry_matches
from tests.factories import (
    CapabilityFactory,
    CompanyFactory,
    DirectoryEntryFactory,
    MaterialFactory,
    MembershipFactory,
    NetworkFactory,
    NetworkStaffFactory,
    ProcessFactory,
)
from tests.helpers import dispatch_all, pass_deadline

R = ReferralStatus
O = OfferStatus  # noqa: E741

# Where the directory companies sit; deliveries go to Tokyo (13).
SAITAMA = ("11", "35.861000", "139.645000")
NIIGATA = ("15", "37.673000", "138.882000")
OSAKA = ("27", "34.686000", "135.520000")


def kinds(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user).order_by("id").values_list("kind", flat=True)
    )


def directory_company(
    network, *, name, where, processes, material, consent=True, email=None, **capability
):
    prefecture, lat, lon = where
    company = CompanyFactory(
        legal_name=name,
        prefecture=prefecture,
        latitude=lat,
        longitude=lon,
        phone="03-1234-5678",
        email=email if email is not None else f"{name[-2:]}@example.jp",
    )
    DirectoryEntryFactory(network=network, company=company, consents_to_referrals=consent)
    for process in processes:
        CapabilityFactory(company=company, process=process, material=material, **capability)
    return company


@pytest.fixture
def lapping(db):
    return ProcessFactory(code="lapping", name_ja="ラップ研磨", name_en="Lapping")


@pytest.fixture
def pressing(db):
    return ProcessFactory(code="pressing", name_ja="プレス加工", name_en="Pressing")


@pytest.fixture
def refer(secretariat_user):
    """The secretariat refers an inquiry with a category; the worker dispatches."""

    def do(inquiry, category="process", reason="会員では対応できないため、紹介します。"):
        order_services.inquiry_refer(
            actor=secretariat_user, inquiry=inquiry, reason=reason, category=category
        )
        dispatch_all()
        return Referral.objects.get(inquiry=inquiry)

    return do


@pytest.fixture
def three_candidates(network, buff, stainless):
    """Three consenting directory companies able to buff stainless: Saitama (nearest to
    Tokyo), Niigata, Osaka (farthest)."""
    return [
        directory_company(network, name=name, where=where, processes=[buff], material=stainless)
        for name, where in (
            ("株式会社大阪研磨", OSAKA),
            ("株式会社埼玉研磨", SAITAMA),
            ("株式会社新潟研磨", NIIGATA),
        )
    ]


def offer_names(referral) -> list[str]:
    return [o.target_name for o in referral.offers.order_by("rank")]


def offer_states(referral) -> list[str]:
    return list(referral.offers.order_by("rank").values_list("status", flat=True))


# ---------------------------------------------------------------------------------------
# Triggers and categories


def test_no_member_covers_the_process_and_the_secretariat_refers_with_category_process(
    network, buyer_user, inquiry_data, buff, lapping, stainless, make_lead, refer
):
    # Given: the members buff, but nobody laps; an inquiry needs both
    make_lead()
    inquiry = order_services.inquiry_submit(
        actor=buyer_user, network=network, data=inquiry_data(processes=[buff, lapping])
    )
    _matches, uncovered = inquiry_matches(inquiry=inquiry)
    assert uncovered == [lapping]
    # When: the secretariat refers it
    referral = refer(inquiry, category="process")
    # Then: one referral, category process, the missing process recorded, the buyer told
    assert referral.category == "process"
    assert referral.reason == "会員では対応できないため、紹介します。"
    assert referral.missing_process_ids == [lapping.pk]
    assert kinds(buyer_user) == ["inquiry.submitted", "inquiry.referral"]
    note = Notification.objects.get(recipient=buyer_user, kind="inquiry.referral")
    assert "会員では対応できないため、紹介します。" in note.body


@pytest.mark.parametrize("category", ["location", "deadline", "capacity", "secretariat"])
def test_secretariat_refers_with_each_category(submitted, refer, category):
    referral = refer(submitted, category=category, reason=f"理由: {category}")
    assert referral.category == category
    assert referral.reason == f"理由: {category}"
    assert submitted.__class__.objects.get(pk=submitted.pk).status == InquiryStatus.REFERRAL


def test_no_applicant_by_the_deadline_opens_a_referral_with_category_no_applicant(
    open_inquiry, three_candidates
):
    # Given: an open inquiry nobody applied to, past its deadline
    pass_deadline(open_inquiry)
    # When: the deadline job runs and the worker dispatches
    order_services.inquiries_close_due()
    dispatch_all()
    # Then
    referral = Referral.objects.get(inquiry=open_inquiry)
    assert referral.category == "no_applicant"
    assert referral.reason == "締切までに応募した受注幹事企業はありませんでした。"
    assert referral.status == R.AWAITING_CONFIRMATION
    assert referral.offers.count() == 3


def test_opening_twice_keeps_one_referral(submitted, refer, three_candidates):
    referral = refer(submitted)
    again = services.referral_open(inquiry=submitted)
    assert again.pk == referral.pk
    assert Referral.objects.count() == 1
    assert ReferralOffer.objects.count() == 3


def test_only_a_referred_inquiry_gets_a_referral(submitted):
    with pytest.raises(InvalidTransition):
        services.referral_open(inquiry=submitted)
    assert Referral.objects.count() == 0


def test_scan_opens_a_referral_the_dispatch_missed(submitted, secretariat_user, three_candidates):
    order_services.inquiry_refer(
        actor=secretariat_user, inquiry=submitted, reason="紹介", category="location"
    )
    assert services.referrals_open_missing() == 0  # within the grace period
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=3)):
        services.referrals_expire_due()
    referral = Referral.objects.get(inquiry=submitted)
    assert referral.category == "location"
    assert referral.offers.count() == 3


def test_a_failed_opening_does_not_hold_back_the_referral_notices(
    submitted, secretariat_user, three_candidates, monkeypatch
):
    """The opening is the event's reaction (brokerage.referral_open_task): when it fails the
    buyer and the secretariat are still told, and the scan opens the referral later."""

    def broken(**kwargs):
        raise RuntimeError("ranking failed")

    order_services.inquiry_refer(
        actor=secretariat_user, inquiry=submitted, reason="紹介", category="location"
    )
    monkeypatch.setattr(services, "referral_open", broken)
    dispatch_all()
    event = DomainEvent.objects.get(kind="inquiry.referral")
    assert event.dispatched_at is not None
    assert Notification.objects.filter(kind="inquiry.referral").count() == 2
    assert not Referral.objects.exists()
    monkeypatch.undo()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=3)):
        services.referrals_expire_due()
    assert Referral.objects.get(inquiry=submitted).offers.count() == 3


# ---------------------------------------------------------------------------------------
# Ranking


def test_ranking_needs_consent_and_capability_and_puts_the_nearest_first(
    network, other_network, submitted, refer, buff, stainless, three_candidates
):
    titanium = MaterialFactory(code="titanium")
    directory_company(
        network,
        name="株式会社同意なし研磨",
        where=SAITAMA,
        processes=[buff],
        material=stainless,
        consent=False,
    )
    directory_company(
        network, name="株式会社チタン研磨", where=SAITAMA, processes=[buff], material=titanium
    )
    directory_company(
        network,
        name="株式会社小物研磨",
        where=SAITAMA,
        processes=[buff],
        material=stainless,
        max_length_mm=50,
    )
    directory_company(
        other_network, name="株式会社他所研磨", where=SAITAMA, processes=[buff], material=stainless
    )
    member = directory_company(
        network, name="株式会社会員研磨", where=SAITAMA, processes=[buff], material=stainless
    )
    MembershipFactory(network=network, company=member)

    referral = refer(submitted, category="capacity")

    assert offer_names(referral) == ["株式会社埼玉研磨", "株式会社新潟研磨", "株式会社大阪研磨"]
    first, second, third = referral.offers.order_by("rank")
    assert [first.rank, second.rank, third.rank] == [1, 2, 3]
    assert first.distance_km < second.distance_km < third.distance_km
    assert first.distance_km == pytest.approx(19.6, abs=0.5)
    assert first.score > second.score > third.score
    assert first.reasons == ["consented", "covers_processes", "within_deadline", "spare_capacity"]
    assert services.reason_labels(first.reasons)[0] == "紹介への同意あり"


def test_a_candidate_that_can_meet_the_delivery_date_ranks_before_a_nearer_one(
    network, submitted, refer, buff, stainless
):
    directory_company(
        network,
        name="株式会社近いが遅い",
        where=SAITAMA,
        processes=[buff],
        material=stainless,
        lead_time_days=120,
    )
    directory_company(
        network, name="株式会社遠いが早い", where=OSAKA, processes=[buff], material=stainless
    )
    referral = refer(submitted, category="deadline")
    assert offer_names(referral) == ["株式会社遠いが早い", "株式会社近いが遅い"]
    assert referral.offers.get(rank=2).reasons[2] == "lead_time_long"


def test_partner_network_whose_members_cover_the_missing_process_is_a_candidate(
    network, buyer_user, inquiry_data, buff, pressing, stainless, make_lead, refer
):
    # Given: our members buff; a partner network presses; another partner cannot press; a
    # network that is no partner presses too
    make_lead()
    partner = NetworkFactory(name="プロシアムネット", prefecture="15", contact_email="p@ex.jp")
    weak_partner = NetworkFactory(name="販促シンジケート", prefecture="15")
    stranger = NetworkFactory(name="無関係ネット", prefecture="15")
    network.partners.add(partner, weak_partner)
    for net in (partner, stranger):
        presser = MembershipFactory(network=net).company
        CapabilityFactory(company=presser, process=pressing, material=stainless)
    inquiry = order_services.inquiry_submit(
        actor=buyer_user, network=network, data=inquiry_data(processes=[buff, pressing])
    )
    # When
    referral = refer(inquiry, category="process")
    # Then
    assert referral.missing_process_ids == [pressing.pk]
    assert offer_names(referral) == ["プロシアムネット"]
    offer = referral.offers.get()
    assert offer.partner_network == partner
    assert offer.company is None
    assert offer.reasons == [
        "partner_network",
        "covers_missing",
        "within_deadline",
        "spare_capacity",
    ]
    assert offer.distance_km == pytest.approx(250, abs=10)  # Tokyo → Niigata


# ---------------------------------------------------------------------------------------
# Sending: automatic or confirmed


def test_the_network_rule_sends_the_first_offer_automatically(
    network, submitted, refer, three_candidates
):
    network.referral_auto_send = True
    network.referral_response_hours = 24
    network.save()
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        referral = refer(submitted)
    assert referral.status == R.OFFERED
    assert offer_states(referral) == [O.OFFERED, O.PENDING, O.PENDING]
    first = referral.offers.get(rank=1)
    assert first.offered_at == now
    assert first.expires_at == now + datetime.timedelta(hours=24)
    assert first.email_status == EmailStatus.PENDING
    assert [c.to_status for c in history(referral)] == [R.SEARCHING, R.OFFERED]


def test_without_the_rule_the_secretariat_confirms_with_one_action(
    submitted, refer, three_candidates, secretariat_user
):
    referral = refer(submitted)
    assert referral.status == R.AWAITING_CONFIRMATION
    assert offer_states(referral) == [O.PENDING, O.PENDING, O.PENDING]
    services.referral_confirm(actor=secretariat_user, referral=referral)
    referral.refresh_from_db()
    assert referral.status == R.OFFERED
    assert offer_states(referral) == [O.OFFERED, O.PENDING, O.PENDING]
    assert [c.to_status for c in history(referral)] == [
        R.SEARCHING,
        R.AWAITING_CONFIRMATION,
        R.OFFERED,
    ]
    assert history(referral).last().actor == secretariat_user


def test_secretariat_sends_to_a_chosen_candidate_and_a_repeat_click_is_a_no_op(
    submitted, refer, three_candidates, secretariat_user
):
    referral = refer(submitted)
    third = referral.offers.get(rank=3)
    services.referral_confirm(actor=secretariat_user, referral=referral, offer=third)
    services.referral_confirm(actor=secretariat_user, referral=referral, offer=third)
    assert offer_states(referral) == [O.PENDING, O.PENDING, O.OFFERED]
    with pytest.raises(InvalidTransition):
        services.referral_confirm(
            actor=secretariat_user, referral=referral, offer=referral.offers.get(rank=1)
        )


def test_the_target_is_emailed_its_signed_link(
    submitted, refer, three_candidates, secretariat_user
):
    referral = refer(submitted)
    services.referral_confirm(actor=secretariat_user, referral=referral)
    offer = referral.offers.get(rank=1)
    assert services.referral_offer_email_send(offer_id=offer.pk) is True
    assert services.referral_offer_email_send(offer_id=offer.pk) is False  # once
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [offer.company.email]
    assert services.referral_response_url(offer) in message.body
    assert submitted.title in message.body
    offer.refresh_from_db()
    assert offer.email_status == EmailStatus.SENT


def test_email_relay_queues_what_a_broker_outage_left(
    submitted, refer, three_candidates, secretariat_user, monkeypatch
):
    queued = []
    monkeypatch.setattr(emails, "enqueue_offer_emails", lambda ids: queued.extend(ids) or 0)
    referral = refer(submitted)
    services.referral_confirm(actor=secretariat_user, referral=referral)
    assert services.referral_emails_relay() == 0
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=31)):
        services.referral_emails_relay()
    assert queued == [referral.offers.get(rank=1).pk]


# ---------------------------------------------------------------------------------------
# Moving on


@pytest.fixture
def sent(submitted, refer, three_candidates, secretariat_user):
    referral = refer(submitted)
    services.referral_confirm(actor=secretariat_user, referral=referral)
    dispatch_all()
    return referral


def test_a_decline_moves_on_to_the_next_candidate(sent, secretariat_user):
    first = sent.offers.get(rank=1)
    services.referral_respond(offer=first, accept=False, reason="繁忙期のため")
    sent.refresh_from_db()
    assert sent.status == R.OFFERED
    assert offer_states(sent) == [O.DECLINED, O.OFFERED, O.PENDING]
    first.refresh_from_db()
    assert first.decline_reason == "繁忙期のため"
    assert first.responded_at is not None
    dispatch_all()
    note = Notification.objects.get(recipient=secretariat_user, kind="referral.declined")
    assert "繁忙期のため" in note.body


def test_a_decline_needs_a_reason(sent):
    with pytest.raises(BrokerageError) as error:
        services.referral_respond(offer=sent.offers.get(rank=1), accept=False, reason=" ")
    assert error.value.field == "reason"
    assert offer_states(sent) == [O.OFFERED, O.PENDING, O.PENDING]


def test_no_answer_in_time_expires_and_the_next_candidate_is_offered(network, sent):
    first = sent.offers.get(rank=1)
    assert services.referrals_expire_due() == 0
    later = first.expires_at + datetime.timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        assert services.referrals_expire_due() == 1
        assert services.referrals_expire_due() == 0  # a repeat is a no-op
    assert offer_states(sent) == [O.EXPIRED, O.OFFERED, O.PENDING]
    second = sent.offers.get(rank=2)
    assert second.offered_at == later
    assert second.expires_at == later + datetime.timedelta(hours=network.referral_response_hours)
    # A late answer through the first link is refused.
    with pytest.raises(InvalidTransition):
        services.referral_respond(offer=first, accept=True)


def test_an_answer_after_the_limit_but_before_the_scan_is_refused(sent):
    first = sent.offers.get(rank=1)
    with (
        time_machine.travel(first.expires_at + datetime.timedelta(seconds=1)),
        pytest.raises(InvalidTransition),
    ):
        services.referral_respond(offer=first, accept=True)
    assert offer_states(sent) == [O.OFFERED, O.PENDING, O.PENDING]


def test_when_the_list_is_exhausted_the_secretariat_is_asked_to_act(
    sent, secretariat_user, network
):
    for rank in (1, 2):
        services.referral_respond(offer=sent.offers.get(rank=rank), accept=False, reason="不可")
    third = sent.offers.get(rank=3)
    with time_machine.travel(third.expires_at + datetime.timedelta(minutes=1)):
        services.referrals_expire_due()
    sent.refresh_from_db()
    assert sent.status == R.EXHAUSTED
    assert sent.exhausted_at is not None
    assert offer_states(sent) == [O.DECLINED, O.DECLINED, O.EXPIRED]
    dispatch_all()
    assert kinds(secretariat_user)[-1] == "referral.exhausted"
    assert Notification.objects.filter(kind="referral.exhausted").count() == 1

    # The secretariat adds a candidate by hand and sends it.
    extra = directory_company(
        network,
        name="株式会社手配研磨",
        where=NIIGATA,
        processes=[],
        material=None,
    )
    offer = services.referral_add_candidate(
        actor=secretariat_user, referral=sent, company=extra, reason="電話で確認済み"
    )
    assert offer.rank == 4
    assert offer.reasons == ["added_by_hand"]
    sent.refresh_from_db()
    assert sent.status == R.AWAITING_CONFIRMATION
    services.referral_confirm(actor=secretariat_user, referral=sent, offer=offer)
    assert offer_states(sent) == [O.DECLINED, O.DECLINED, O.EXPIRED, O.OFFERED]


def test_no_candidate_at_all_exhausts_at_once(submitted, refer, secretariat_user):
    referral = refer(submitted)
    assert referral.status == R.EXHAUSTED
    assert referral.offers.count() == 0
    assert kinds(secretariat_user)[-2:] == ["referral.opened", "referral.exhausted"]


def test_a_candidate_is_added_once_and_only_from_the_consenting_directory(
    sent, secretariat_user, network, other_network, buff, stainless
):
    existing = sent.offers.get(rank=2).company
    with pytest.raises(Conflict):
        services.referral_add_candidate(actor=secretariat_user, referral=sent, company=existing)
    refusing = directory_company(
        network, name="株式会社未同意", where=OSAKA, processes=[], material=None, consent=False
    )
    with pytest.raises(BrokerageError):
        services.referral_add_candidate(actor=secretariat_user, referral=sent, company=refusing)
    with pytest.raises(BrokerageError):
        services.referral_add_candidate(
            actor=secretariat_user, referral=sent, partner_network=other_network
        )
    assert sent.offers.count() == 3


# ---------------------------------------------------------------------------------------
# Acceptance: what the buyer and the target are told


def test_acceptance_tells_the_buyer_who_took_it_and_how_to_reach_them(
    sent, buyer_user, secretariat_user
):
    first = sent.offers.get(rank=1)
    services.referral_respond(offer=first, accept=True)
    sent.refresh_from_db()
    assert sent.status == R.ACCEPTED
    assert offer_states(sent) == [O.ACCEPTED, O.PENDING, O.PENDING]
    dispatch_all()
    note = Notification.objects.get(recipient=buyer_user, kind="referral.accepted")
    company = first.company
    assert company.legal_name in note.subject
    assert company.legal_name in note.body
    assert "03-1234-5678" in note.body
    assert company.email in note.body
    assert "referral.accepted" in kinds(secretariat_user)
    # The same answer again is a no-op; another answer is refused.
    services.referral_respond(offer=first, accept=True)
    with pytest.raises(InvalidTransition):
        services.referral_respond(offer=first, accept=False, reason="やはり無理")


def test_partner_network_secretariat_is_notified_and_answers(
    network,
    buyer_user,
    inquiry_data,
    buff,
    pressing,
    stainless,
    make_lead,
    refer,
    secretariat_user,
):
    make_lead()
    partner = NetworkFactory(name="プロシアムネット", prefecture="15")
    network.partners.add(partner)
    CapabilityFactory(
        company=MembershipFactory(network=partner).company, process=pressing, material=stainless
    )
    partner_staff = NetworkStaffFactory(network=partner, role=StaffRole.SECRETARIAT).user
    inquiry = order_services.inquiry_submit(
        actor=buyer_user, network=network, data=inquiry_data(processes=[buff, pressing])
    )
    referral = refer(inquiry)
    services.referral_confirm(actor=secretariat_user, referral=referral)
    dispatch_all()
    note = Notification.objects.get(recipient=partner_staff, kind="referral.offered")
    offer = referral.offers.get()
    assert services.referral_response_url(offer) in note.body
    # Only the partner's secretariat answers as a user.
    with pytest.raises(NotAllowed):
        services.referral_respond(offer=offer, accept=True, actor=secretariat_user)
    services.referral_respond(offer=offer, accept=True, actor=partner_staff)
    offer.refresh_from_db()
    assert offer.status == O.ACCEPTED
    assert offer.responded_by == partner_staff


def test_nda_content_is_withheld_unless_the_buyer_agreed(
    network, buyer_user, inquiry_data, refer, three_candidates, secretariat_user
):
    inquiry = order_services.inquiry_submit(
        actor=buyer_user,
        network=network,
        data=inquiry_data(nda_required=True, description="極秘: 新型端末の筐体"),
    )
    referral = refer(inquiry)
    services.referral_confirm(actor=secretariat_user, referral=referral)
    first = referral.offers.get(rank=1)
    assert first.confidential_shared is False
    context = services.offer_context(first)
    assert context["buyer"] is None
    assert context["description"] == ""
    services.referral_offer_email_send(offer_id=first.pk)
    body = mail.outbox[0].body
    assert "極秘" not in body
    assert buyer_user.buyer.organisation not in body
    assert buyer_user.buyer.name not in body

    # The buyer agrees: the next offer carries the details; the first keeps what it had.
    services.referral_buyer_agree(actor=buyer_user, referral=referral)
    services.referral_respond(offer=first, accept=False, reason="不可")
    second = referral.offers.get(rank=2)
    assert second.confidential_shared is True
    assert services.offer_context(second)["description"] == "極秘: 新型端末の筐体"
    first.refresh_from_db()
    assert first.confidential_shared is False


def test_without_nda_the_target_sees_the_buyer_and_the_description(sent, buyer_user):
    context = services.offer_context(sent.offers.get(rank=1))
    assert context["buyer"] == buyer_user.buyer
    assert context["description"] == "SUS304 タンブラー 500個、鏡面仕上げ"


# ---------------------------------------------------------------------------------------
# The record


def test_outcomes_count_per_outcome_and_category(
    network, buyer_user, inquiry_data, refer, three_candidates, secretariat_user
):
    def referred(category):
        inquiry = order_services.inquiry_submit(
            actor=buyer_user, network=network, data=inquiry_data()
        )
        referral = refer(inquiry, category=category)
        services.referral_confirm(actor=secretariat_user, referral=referral)
        return referral

    a = referred("process")
    services.referral_respond(offer=a.offers.get(rank=1), accept=False, reason="不可")
    services.referral_respond(offer=a.offers.get(rank=2), accept=True)
    b = referred("location")
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=49)):
        services.referrals_expire_due()
    b.refresh_from_db()
    today = timezone.localdate()

    table = services.referral_outcomes(network=network, period=(today, today))

    assert table["process"] == {
        "referrals": 1,
        "accepted": 1,
        "declined": 1,
        "no_answer": 0,
        "exhausted": 0,
    }
    assert table["location"] == {
        "referrals": 1,
        "accepted": 0,
        "declined": 0,
        "no_answer": 1,
        "exhausted": 0,
    }
    assert table["total"]["referrals"] == 2
    assert table["deadline"]["referrals"] == 0
    yesterday = today - datetime.timedelta(days=1)
    assert services.referral_outcomes(network=network, period=(yesterday, yesterday))["total"] == {
        "referrals": 0,
        "accepted": 0,
        "declined": 0,
        "no_answer": 0,
        "exhausted": 0,
    }


# ---------------------------------------------------------------------------------------
# Who may act


@pytest.fixture
def waiting(submitted, refer, three_candidates):
    return refer(submitted)


@pytest.mark.parametrize(
    "who", ["other_secretariat_user", "committee_user", "buyer_user", "member_user"]
)
def test_only_the_networks_secretariat_confirms_and_adds(request, waiting, who, network):
    user = request.getfixturevalue(who)
    with pytest.raises(NotAllowed):
        services.referral_confirm(actor=user, referral=waiting)
    company = directory_company(
        network, name="株式会社追加", where=OSAKA, processes=[], material=None
    )
    with pytest.raises(NotAllowed):
        services.referral_add_candidate(actor=user, referral=waiting, company=company)
    # No side effect.
    waiting.refresh_from_db()
    assert waiting.status == R.AWAITING_CONFIRMATION
    assert offer_states(waiting) == [O.PENDING, O.PENDING, O.PENDING]
    assert not DomainEvent.objects.filter(
        kind__in=["referral.offered", "referral.candidate_added"]
    ).exists()


@pytest.mark.parametrize("who", ["other_secretariat_user", "member_user", "lead_user"])
def test_only_buyer_or_secretariat_records_the_buyers_consent(request, waiting, who):
    with pytest.raises(NotAllowed):
        services.referral_buyer_agree(actor=request.getfixturevalue(who), referral=waiting)
    waiting.refresh_from_db()
    assert waiting.buyer_agreed_to_share is False


def test_selector_shows_only_the_viewers_networks(
    waiting, secretariat_user, other_secretariat_user, committee_user, admin_user_
):
    assert list(services.referral_list(viewer=secretariat_user)) == [waiting]
    assert list(services.referral_list(viewer=other_secretariat_user)) == []
    assert list(services.referral_list(viewer=committee_user)) == []
    assert list(services.referral_list(viewer=admin_user_)) == [waiting]


def test_score_is_stored_with_one_decimal(waiting):
    scores = list(waiting.offers.order_by("rank").values_list("score", flat=True))
    assert all(isinstance(s, Decimal) and s == s.quantize(Decimal("0.1")) for s in scores)
    assert scores == sorted(scores, reverse=True)


# ---------------------------------------------------------------------------------------
# Concurrency (PostgreSQL pass only: SQLite has no row locks)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_sends_make_one_offer(waiting, secretariat_user):
    import threading

    from django.db import connection

    barrier = threading.Barrier(2)
    outcomes = []

    def send():
        try:
            barrier.wait()
            services.referral_confirm(actor=secretariat_user, referral=waiting)
            outcomes.append("sent")
        except InvalidTransition:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "sent"]
    assert offer_states(waiting) == [O.OFFERED, O.PENDING, O.PENDING]
