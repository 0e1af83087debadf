import smtplib
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMessage
from django.utils import timezone
from kombu.exceptions import OperationalError

from brokerage import notifications
from brokerage.models import EmailStatus, Notification
from brokerage.services import capacity_reminders_send
from brokerage.tasks import notification_deliver_task, notifications_deliver_task
from config.celery import app as celery_app
from tests.factories import CapabilityFactory, CompanyUserFactory, MembershipFactory, UserFactory


@pytest.fixture
def eager():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def send(users, key="event:1", template="capacity_reminder", **context):
    company = context.pop("company", None) or users[0].company
    return notifications.notify(
        recipients=users,
        event_key=key,
        kind="test",
        template=template,
        context={"company": company, **context},
        link="/x/",
    )


def test_each_recipient_gets_one_notification_in_its_language(db):
    ja = CompanyUserFactory(preferred_language="ja")
    en = UserFactory(preferred_language="en", company=ja.company)
    send([ja, en])
    send([ja, en])  # the same event again: nobody is told twice
    by_user = {n.recipient_id: n for n in Notification.objects.all()}
    assert len(by_user) == 2
    assert by_user[en.pk].subject == "Please update your spare capacity"
    assert by_user[ja.pk].subject != by_user[en.pk].subject


def test_delivery_is_queued_after_commit_and_sends_once(
    db, eager, django_capture_on_commit_callbacks
):
    user = CompanyUserFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send([user])
    assert mail.outbox == []  # nothing sent inside the transaction
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    notification = Notification.objects.get()
    assert notification.email_status == EmailStatus.SENT
    # A redelivery of the same task is a no-op.
    assert notification_deliver_task.apply(args=[notification.pk]).get() is False
    assert len(mail.outbox) == 1


def test_user_without_email_is_skipped_not_retried(db, eager, django_capture_on_commit_callbacks):
    user = CompanyUserFactory(email="")
    with django_capture_on_commit_callbacks(execute=True):
        send([user])
    assert Notification.objects.get().email_status == EmailStatus.SKIPPED
    assert mail.outbox == []


def test_broker_outage_loses_nothing_and_the_relay_delivers_once(
    db, eager, django_capture_on_commit_callbacks
):
    users = [CompanyUserFactory() for _ in range(3)]
    with (
        mock.patch.object(
            notifications_deliver_task, "delay", side_effect=OperationalError("redis down")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        for n, user in enumerate(users):
            send([user], key=f"event:{n}")
    assert Notification.objects.filter(email_status=EmailStatus.PENDING).count() == 3
    assert mail.outbox == []
    # Within the grace period the relay leaves them to the after-commit enqueue.
    assert notifications.notifications_relay() == 0
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=31)):
        assert notifications.notifications_relay() == 3
        assert notifications.notifications_relay() == 0  # all sent: nothing left
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)


def test_failed_sends_are_counted_and_give_up_after_max_attempts(db):
    user = CompanyUserFactory()
    with mock.patch("core.mail.send_mail", side_effect=smtplib.SMTPException("x")):
        send([user])
        notification = Notification.objects.get()
        for _ in range(notifications.MAX_ATTEMPTS):
            with pytest.raises(smtplib.SMTPException):
                notifications.notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.email_attempts == notifications.MAX_ATTEMPTS
    assert notification.email_status == EmailStatus.FAILED
    assert "SMTPException" in notification.last_error


def test_a_batch_sends_each_pending_notification_once(db, eager):
    users = [CompanyUserFactory() for _ in range(250)]
    for n, user in enumerate(users):
        send([user], key=f"batch:{n}")
    ids = list(Notification.objects.values_list("pk", flat=True))
    mail.outbox = []
    # 250 notifications: three batches of at most 100.
    with mock.patch.object(notifications_deliver_task, "delay") as delay:
        assert notifications.enqueue_delivery(ids) == 250
    assert [len(call.args[0]) for call in delay.call_args_list] == [100, 100, 50]
    assert notifications.notifications_deliver(notification_ids=ids) == (250, [])
    assert notifications.notifications_deliver(notification_ids=ids) == (0, [])
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)
    assert not Notification.objects.exclude(email_status=EmailStatus.SENT).exists()


def test_one_failing_address_does_not_hold_back_the_batch(db):
    users = [CompanyUserFactory() for _ in range(3)]
    for n, user in enumerate(users):
        send([user], key=f"fail:{n}")
    ids = sorted(Notification.objects.values_list("pk", flat=True))
    real_send = EmailMessage.send

    def flaky(message, *args, **kwargs):
        if message.to == [users[1].email]:
            raise smtplib.SMTPRecipientsRefused({})
        return real_send(message, *args, **kwargs)

    mail.outbox = []
    with mock.patch.object(EmailMessage, "send", flaky):
        sent, retry = notifications.notifications_deliver(notification_ids=ids)
    assert (sent, retry) == (2, [ids[1]])
    failed = Notification.objects.get(pk=ids[1])
    assert (failed.email_status, failed.email_attempts) == (EmailStatus.PENDING, 1)
    assert "SMTPRecipientsRefused" in failed.last_error
    # The retry sends only the failed one.
    assert notifications.notifications_deliver(notification_ids=ids) == (1, [])
    assert len(mail.outbox) == 3


def test_capacity_reminders_go_to_stale_members_once_a_week(db, network, eager):
    stale = CompanyUserFactory()
    MembershipFactory(network=network, company=stale.company)
    CapabilityFactory(
        company=stale.company, capacity_updated_at=timezone.now() - timezone.timedelta(days=45)
    )
    fresh = CompanyUserFactory()
    MembershipFactory(network=network, company=fresh.company)
    CapabilityFactory(company=fresh.company, capacity_updated_at=timezone.now())
    outsider = CompanyUserFactory()  # not a member anywhere
    CapabilityFactory(company=outsider.company, capacity_updated_at=None)

    assert capacity_reminders_send() == 1
    assert capacity_reminders_send() == 1  # same week: the event key stops a second notice
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [stale.pk]
    with time_machine.travel(timezone.now() + timezone.timedelta(days=7)):
        capacity_reminders_send()
    assert Notification.objects.filter(recipient=stale).count() == 2


def test_inbox_api_shows_only_own_and_marks_read(api, db):
    me, other = CompanyUserFactory(), CompanyUserFactory()
    send([me], key="a")
    send([other], key="b")
    response = api.as_(me).get("/api/v1/notifications/")
    assert [n["subject"] for n in response.json()["results"]] == [
        Notification.objects.get(recipient=me).subject
    ]
    theirs = Notification.objects.get(recipient=other)
    assert api.as_(me).post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    mine = Notification.objects.get(recipient=me)
    assert api.as_(me).post(f"/api/v1/notifications/{mine.pk}/read/").json()["read_at"]
    assert api.as_(me).get("/api/v1/notifications/?unread=true").json()["results"] == []
