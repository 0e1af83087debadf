import pytest
from django.core import mail

from brokerage.dispatch import event_dispatch, events_relay
from brokerage.models import Notification
from core.models import DomainEvent
from orders import services
from tests.factories import (
    CapabilityFactory,
    CompanyUserFactory,
    MaterialFactory,
    MembershipFactory,
)
from tests.helpers import dispatch_all
from tests.orders.conftest import pass_deadline


def subjects(user):
    return list(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_submission_tells_the_secretariat_and_the_buyer(
    submitted, secretariat_user, buyer_user, committee_user
):
    dispatch_all()
    assert subjects(secretariat_user) == ["inquiry.submitted"]
    assert subjects(buyer_user) == ["inquiry.submitted"]
    assert subjects(committee_user) == []


def test_publication_calls_the_leads_whose_team_can_cover_it(
    submitted, secretariat_user, make_lead, network, member_user, other_member_user
):
    leads = [make_lead(), make_lead()]
    services.inquiry_publish(actor=secretariat_user, inquiry=submitted)
    dispatch_all()
    for lead in leads:
        assert "inquiry.published" in subjects(lead)
    assert subjects(member_user) == []  # joint-order members are not called to apply
    assert subjects(other_member_user) == []


def test_when_members_cannot_cover_only_leads_able_themselves_are_called(
    network, buyer_user, secretariat_user, inquiry_data, make_lead, buff
):
    other_process_lead = CompanyUserFactory()
    MembershipFactory(network=network, company=other_process_lead.company, membership_class="lead")
    titanium = MaterialFactory(code="titanium")
    CapabilityFactory(company=other_process_lead.company, process=buff, material=titanium)
    able = make_lead()  # buff on stainless
    # Needs a second process nobody has: coverage incomplete.
    from tests.factories import ProcessFactory

    lapping = ProcessFactory(code="lapping")
    inquiry = services.inquiry_submit(
        actor=buyer_user, network=network, data=inquiry_data(processes=[buff, lapping])
    )
    services.inquiry_publish(actor=secretariat_user, inquiry=inquiry)
    dispatch_all()
    assert "inquiry.published" in subjects(able)
    assert "inquiry.published" not in subjects(other_process_lead)


def test_award_tells_buyer_winner_and_losers_without_prices(
    open_inquiry, make_lead, secretariat_user, buyer_user
):
    winner, loser = make_lead(), make_lead()
    services.application_place(
        actor=winner, inquiry=open_inquiry, price_yen=777_001, lead_time_days=9
    )
    services.application_place(
        actor=loser, inquiry=open_inquiry, price_yen=888_002, lead_time_days=9
    )
    pass_deadline(open_inquiry)
    services.inquiries_close_due()
    services.award_confirm(actor=secretariat_user, inquiry=open_inquiry)
    dispatch_all()
    assert "award.confirmed" in subjects(buyer_user)
    winner_note = Notification.objects.get(recipient=winner, kind="award.confirmed")
    loser_note = Notification.objects.get(recipient=loser, kind="award.confirmed")
    assert winner_note.subject != loser_note.subject
    for note in Notification.objects.all():
        assert "777" not in note.body + note.subject
        assert "888" not in note.body + note.subject


def test_dispatch_twice_notifies_once(submitted):
    event = DomainEvent.objects.get(kind="inquiry.submitted")
    assert event_dispatch(event_id=event.pk) is True
    assert event_dispatch(event_id=event.pk) is False
    count = Notification.objects.count()
    DomainEvent.objects.filter(pk=event.pk).update(
        dispatched_at=None
    )  # as if a crash lost the mark
    event_dispatch(event_id=event.pk)
    assert Notification.objects.count() == count


def test_relay_picks_up_events_left_by_a_broker_outage(
    submitted, secretariat_user, django_capture_on_commit_callbacks
):
    import time_machine
    from django.utils import timezone

    from config.celery import app

    app.conf.task_always_eager = True
    try:
        assert events_relay() == 0  # within the grace period
        with (
            time_machine.travel(timezone.now() + timezone.timedelta(seconds=31)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert events_relay() == 1
    finally:
        app.conf.task_always_eager = False
    assert DomainEvent.objects.get().dispatched_at is not None
    assert Notification.objects.filter(kind="inquiry.submitted").count() == 2
    assert len(mail.outbox) == 2  # delivery queued after the dispatch, run eagerly


@pytest.mark.parametrize("lang,expected", [("ja", "新しい引き合い"), ("en", "New inquiry")])
def test_notifications_are_in_the_recipients_language(submitted, secretariat_user, lang, expected):
    secretariat_user.preferred_language = lang
    secretariat_user.save()
    dispatch_all()
    subject = Notification.objects.get(recipient=secretariat_user).subject
    assert subject.startswith(expected) or expected in subject
