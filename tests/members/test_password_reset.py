"""Password reset (members.accounts, brokerage dispatch): the same answer for every address,
the e-mail through the outbox, the link made at sending and good once."""

import re

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from brokerage.dispatch import events_relay
from brokerage.models import Notification
from brokerage.notifications import notifications_relay
from config.celery import app as celery_app
from core.models import DomainEvent
from members.models import PasswordResetRequest
from tests.factories import CompanyUserFactory

A, B = "203.0.113.10", "198.51.100.20"


@pytest.fixture
def eager():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def alice(db):
    return CompanyUserFactory(username="alice", email="alice@example.jp", password="old-password-1")


def ask(email, ip=A):
    return Client(REMOTE_ADDR=ip).post("/password-reset/", {"email": email})


def later(**delta):
    # An epoch timestamp, not an aware datetime: time-machine would move the local time zone
    # to UTC with the latter, and Django's reset tokens count in local time.
    return time_machine.travel((timezone.now() + timezone.timedelta(**delta)).timestamp())


def relay_everything(callbacks_fixture):
    """What the beat does every minute, a minute later: relay events, then notifications."""
    with later(minutes=2):
        with callbacks_fixture(execute=True):
            events_relay()
        with callbacks_fixture(execute=True):
            notifications_relay()


def reset_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/password-reset/\S+/)", message.body).group(1)


def test_known_and_unknown_addresses_get_the_same_answer(alice):
    known = ask("alice@example.jp")
    unknown = ask("nobody@example.jp")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/password-reset/sent/"
    # The same work was done for both: a request row and an event each.
    assert PasswordResetRequest.objects.count() == 2
    assert DomainEvent.objects.filter(kind="user.password_reset").count() == 2
    page = Client().get("/password-reset/sent/")
    assert page.status_code == 200


def test_the_email_goes_out_after_the_relay_once(alice, eager, django_capture_on_commit_callbacks):
    ask("Alice@Example.jp ")
    ask("nobody@example.jp")
    assert mail.outbox == []  # nothing is sent inside the request
    relay_everything(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.jp"]
    relay_everything(django_capture_on_commit_callbacks)  # again: nothing twice
    assert len(mail.outbox) == 1
    # Nothing stored holds the link: the notification and the event have no token.
    notification = Notification.objects.get(recipient=alice)
    token_path = reset_link(mail.outbox[0])
    assert token_path.split("/")[-2] not in notification.body + notification.link
    assert "/password-reset/" not in str(DomainEvent.objects.values_list("payload", flat=True))


def test_the_link_sets_a_new_password_and_works_once(
    alice, eager, django_capture_on_commit_callbacks
):
    ask("alice@example.jp")
    relay_everything(django_capture_on_commit_callbacks)
    link = reset_link(mail.outbox[0])
    browser = Client()
    form = browser.get(link, follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    set_password_url = form.redirect_chain[-1][0]
    done = browser.post(
        set_password_url,
        {"new_password1": "Tsubame-new-2026", "new_password2": "Tsubame-new-2026"},
    )
    assert done.status_code == 302 and done["Location"] == "/password-reset/complete/"
    alice.refresh_from_db()
    assert alice.check_password("Tsubame-new-2026")
    # The used link fails (the token signs the old password hash).
    again = Client().get(link, follow=True)
    assert again.context["validlink"] is False
    assert (
        Client().post("/login/", {"username": "alice", "password": "old-password-1"}).status_code
        == 200
    )
    assert (
        Client().post("/login/", {"username": "alice", "password": "Tsubame-new-2026"}).status_code
        == 302
    )


def test_a_forged_token_fails(alice):
    page = Client().get("/password-reset/MQ/forged-token/", follow=True)
    assert page.context["validlink"] is False


def test_the_link_expires_after_an_hour(alice, eager, django_capture_on_commit_callbacks):
    ask("alice@example.jp")
    relay_everything(django_capture_on_commit_callbacks)
    link = reset_link(mail.outbox[0])
    with later(hours=1, minutes=5):
        assert Client().get(link, follow=True).context["validlink"] is False


def test_an_inactive_account_gets_no_email(alice, eager, django_capture_on_commit_callbacks):
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert ask("alice@example.jp").status_code == 302
    relay_everything(django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_requests_are_limited_per_email_and_per_address(alice, settings):
    settings.PASSWORD_RESET_PER_HOUR_PER_EMAIL = 3
    settings.PASSWORD_RESET_PER_HOUR_PER_ADDRESS = 10
    for _ in range(3):
        assert ask("alice@example.jp", ip=A).status_code == 302
    refused = ask("alice@example.jp", ip=B)  # another address, the same e-mail
    assert refused.status_code == 429
    assert "Too many" in refused.content.decode() or "多すぎ" in refused.content.decode()
    # The unknown address hits the same limit: the limit tells nothing about accounts.
    for _ in range(3):
        ask("nobody@example.jp", ip=B)
    assert ask("nobody@example.jp", ip=B).status_code == 429
    # Per visitor's address across e-mails.
    for n in range(7):
        assert ask(f"user{n}@example.jp", ip=B).status_code in (302, 429)
    assert ask("fresh@example.jp", ip=B).status_code == 429
    assert PasswordResetRequest.objects.filter(ip_address=B).count() == 10
    # An hour later the limits are lifted.
    with later(hours=1, minutes=1):
        assert ask("alice@example.jp", ip=B).status_code == 302


def test_the_login_page_links_to_the_reset(db):
    page = Client().get("/login/")
    assert 'href="/password-reset/"' in page.content.decode()
