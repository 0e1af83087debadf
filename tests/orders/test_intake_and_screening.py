import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.errors import BrokerageError, InvalidTransition, NotAllowed
from core.models import DomainEvent
from core.transitions import history
from members.models import Buyer
from orders import services
from orders.models import CommitteeDecision, Inquiry, InquiryMessage, InquiryStatus

S = InquiryStatus


def test_buyer_submits_and_gets_a_reference_and_a_timeline(network, buyer_user, inquiry_data):
    inquiry = services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    year = timezone.localdate().year
    assert inquiry.reference == f"MIGAKIYA-{year}-00001"
    assert inquiry.status == S.SUBMITTED
    assert inquiry.required_ra_um is not None
    assert inquiry.buyer == buyer_user.buyer
    second = services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    assert second.reference.endswith("00002")
    assert [c.to_status for c in history(inquiry)] == ["submitted"]
    assert DomainEvent.objects.filter(kind="inquiry.submitted").count() == 2


def test_same_idempotency_key_returns_the_first_inquiry(network, buyer_user, inquiry_data):
    first = services.inquiry_submit(
        actor=buyer_user, network=network, data=inquiry_data(), idempotency_key="k-1"
    )
    again = services.inquiry_submit(
        actor=buyer_user, network=network, data=inquiry_data(), idempotency_key="k-1"
    )
    assert again.pk == first.pk
    assert Inquiry.objects.count() == 1


def test_secretariat_enters_a_phoned_in_inquiry(network, secretariat_user, inquiry_data):
    inquiry = services.inquiry_submit(
        actor=secretariat_user,
        network=network,
        data=inquiry_data(),
        buyer_data={"kind": "individual", "name": "燕 花子", "email": "hanako@example.jp"},
    )
    assert inquiry.entered_by == secretariat_user
    assert inquiry.buyer.name == "燕 花子"
    assert inquiry.buyer.user is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"desired_delivery_date": datetime.date(2020, 1, 1)}, "desired_delivery_date"),
        ({"processes": []}, "processes"),
        ({"quantity": 0}, "quantity"),
        ({"length_mm": 0}, "length_mm"),
        ({"finish_kind": "grit", "finish_grit": None}, "finish_grit"),
        ({"title": ""}, "title"),
    ],
)
def test_bad_inquiries_name_the_field_and_save_nothing(
    network, buyer_user, inquiry_data, overrides, field
):
    with pytest.raises(ValidationError) as exc:
        services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data(**overrides))
    assert field in exc.value.message_dict
    assert not Inquiry.objects.exists()
    assert not DomainEvent.objects.exists()


def test_phoned_in_inquiry_needs_a_buyer(network, secretariat_user, inquiry_data):
    with pytest.raises(BrokerageError) as exc:
        services.inquiry_submit(actor=secretariat_user, network=network, data=inquiry_data())
    assert exc.value.field == "buyer"
    assert not Buyer.objects.exists()


@pytest.mark.parametrize(
    "role", ["member_user", "lead_user", "committee_user", "other_secretariat_user"]
)
def test_only_buyers_and_the_secretariat_submit(request, network, inquiry_data, role):
    with pytest.raises(NotAllowed):
        services.inquiry_submit(
            actor=request.getfixturevalue(role), network=network, data=inquiry_data()
        )
    assert not Inquiry.objects.exists()


def test_publish_opens_the_window_with_the_networks_default(submitted, secretariat_user, network):
    before = timezone.now()
    inquiry = services.inquiry_publish(actor=secretariat_user, inquiry=submitted)
    assert inquiry.status == S.OPEN
    assert inquiry.award_mode == "bid"
    window = inquiry.application_deadline - before
    assert datetime.timedelta(days=7) <= window < datetime.timedelta(days=7, seconds=5)
    # Publishing again is a no-op, not an error or a second event.
    services.inquiry_publish(actor=secretariat_user, inquiry=inquiry)
    assert DomainEvent.objects.filter(kind="inquiry.published").count() == 1


def test_publish_refuses_a_past_deadline_and_a_mode_the_network_lacks(
    submitted, secretariat_user, network
):
    with pytest.raises(BrokerageError) as exc:
        services.inquiry_publish(
            actor=secretariat_user,
            inquiry=submitted,
            deadline=timezone.now() - datetime.timedelta(hours=1),
        )
    assert exc.value.field == "deadline"
    network.award_by_coordination = False
    network.save()
    submitted.refresh_from_db()
    with pytest.raises(BrokerageError) as exc:
        services.inquiry_publish(
            actor=secretariat_user, inquiry=submitted, award_mode="coordination"
        )
    assert exc.value.field == "award_mode"
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED


def test_question_and_answer_round_trip(submitted, secretariat_user, buyer_user):
    services.inquiry_ask(actor=secretariat_user, inquiry=submitted, question="材質の詳細は?")
    submitted.refresh_from_db()
    assert submitted.status == S.QUESTION
    with pytest.raises(InvalidTransition):
        services.inquiry_publish(actor=secretariat_user, inquiry=submitted)
    with pytest.raises(NotAllowed):
        services.inquiry_answer(actor=secretariat_user, inquiry=submitted, answer="x")
    services.inquiry_answer(actor=buyer_user, inquiry=submitted, answer="SUS304です")
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED
    assert list(InquiryMessage.objects.values_list("kind", flat=True)) == ["question", "answer"]


def test_reject_needs_a_reason_and_is_final(submitted, secretariat_user):
    with pytest.raises(BrokerageError) as exc:
        services.inquiry_reject(actor=secretariat_user, inquiry=submitted, reason="")
    assert exc.value.field == "reason"
    services.inquiry_reject(actor=secretariat_user, inquiry=submitted, reason="対応工程なし")
    submitted.refresh_from_db()
    assert (submitted.status, submitted.outcome_reason) == (S.REJECTED, "対応工程なし")
    assert submitted.closed_at is not None
    with pytest.raises(InvalidTransition):
        services.inquiry_publish(actor=secretariat_user, inquiry=submitted)


@pytest.mark.parametrize(
    "role", ["member_user", "lead_user", "buyer_user", "other_secretariat_user"]
)
def test_screening_is_the_secretariats(request, submitted, role):
    user = request.getfixturevalue(role)
    for call in (
        lambda: services.inquiry_publish(actor=user, inquiry=submitted),
        lambda: services.inquiry_reject(actor=user, inquiry=submitted, reason="x"),
        lambda: services.inquiry_ask(actor=user, inquiry=submitted, question="x"),
        lambda: services.inquiry_escalate(actor=user, inquiry=submitted, reason="x"),
    ):
        with pytest.raises(NotAllowed):
            call()
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED
    assert len(history(submitted)) == 1


def test_committee_accepts_an_escalated_special_case(submitted, secretariat_user, committee_user):
    services.inquiry_escalate(
        actor=secretariat_user, inquiry=submitted, reason="ブランド品 45,000個"
    )
    with pytest.raises(NotAllowed):
        services.inquiry_committee_decide(
            actor=secretariat_user,
            inquiry=submitted,
            accept=True,
            votes_for=5,
            votes_against=0,
            reason="x",
        )
    services.inquiry_committee_decide(
        actor=committee_user,
        inquiry=submitted,
        accept=True,
        votes_for=5,
        votes_against=1,
        reason="地域のブランド価値向上",
    )
    submitted.refresh_from_db()
    assert submitted.status == S.OPEN
    decision = CommitteeDecision.objects.get(inquiry=submitted)
    assert (decision.accept, decision.votes_for, decision.decided_by) == (True, 5, committee_user)
    assert [c.to_status for c in history(submitted)] == ["submitted", "committee", "open"]


def test_committee_declines_with_reason(submitted, secretariat_user, committee_user):
    services.inquiry_escalate(actor=secretariat_user, inquiry=submitted, reason="特殊")
    with pytest.raises(BrokerageError) as exc:
        services.inquiry_committee_decide(
            actor=committee_user,
            inquiry=submitted,
            accept=True,
            votes_for=1,
            votes_against=3,
            reason="x",
        )
    assert exc.value.field == "votes_for"
    services.inquiry_committee_decide(
        actor=committee_user,
        inquiry=submitted,
        accept=False,
        votes_for=1,
        votes_against=3,
        reason="リスク過大",
    )
    submitted.refresh_from_db()
    assert (submitted.status, submitted.outcome_reason) == (S.REJECTED, "リスク過大")


def test_buyer_withdraws_but_nobody_else_can(submitted, buyer_user, member_user, secretariat_user):
    with pytest.raises(NotAllowed):
        services.inquiry_withdraw(actor=secretariat_user, inquiry=submitted)
    services.inquiry_withdraw(actor=buyer_user, inquiry=submitted, reason="社内で対応")
    submitted.refresh_from_db()
    assert submitted.status == S.WITHDRAWN


def test_refer_records_the_category(submitted, secretariat_user):
    with pytest.raises(BrokerageError) as exc:
        services.inquiry_refer(actor=secretariat_user, inquiry=submitted, reason="x", category="??")
    assert exc.value.field == "category"
    services.inquiry_refer(
        actor=secretariat_user, inquiry=submitted, reason="遠方のため", category="location"
    )
    event = DomainEvent.objects.get(kind="inquiry.referral")
    assert event.payload == {"reason": "遠方のため", "category": "location"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_get_consecutive_references(network, inquiry_data):
    import threading

    from django.db import connection

    from tests.factories import BuyerFactory

    buyers = [BuyerFactory().user for _ in range(20)]
    barrier = threading.Barrier(len(buyers))
    references, errors = [], []

    def submit(user):
        try:
            barrier.wait()
            inquiry = services.inquiry_submit(actor=user, network=network, data=inquiry_data())
            references.append(inquiry.reference)
        except Exception as exc:  # the assertion below shows it
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(u,)) for u in buyers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    year = timezone.localdate().year
    assert sorted(references) == [f"MIGAKIYA-{year}-{n:05d}" for n in range(1, 21)]
