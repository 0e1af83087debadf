"""The guest inquiry form (issue 13, point 2): saved before anything is sent, limited per
visitor's address and per e-mail address by the network's setting, a honeypot for bots, the
confirmation e-mail through the request's outbox after commit with a fixed subject, and a
confirmation that creates the inquiry once."""

import datetime
import re
import smtplib
import threading
from unittest import mock

import pytest
import time_machine
from django.core import mail, signing
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from config.celery import app as celery_app
from core.models import StatusChange
from orders import guests
from orders.models import GuestInquiryRequest, Inquiry
from tests.factories import NetworkFactory
from tests.orders.test_pages import guest_data

R = GuestInquiryRequest
URL = "/inquiries/guest/"


@pytest.fixture
def eager():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def email_task():
    return celery_app.tasks[guests.EMAIL_TASK]


def post(client, buff, stainless, ip="198.51.100.7", **changes):
    return client.post(URL, guest_data(buff, stainless, **changes), REMOTE_ADDR=ip)


def send_pending():
    for pk in R.objects.filter(email_status="pending").values_list("pk", flat=True):
        guests.guest_inquiry_email_send(request_id=pk)


def link_in(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_the_url_is_the_guest_form():
    assert reverse("guest_inquiry") == URL


# ---------------------------------------------------------------------------------------
# Saved first, e-mailed after commit through the outbox


@pytest.mark.django_db
def test_the_request_is_saved_and_its_email_sent_after_commit_exactly_once(
    client, network, buff, stainless, eager, email_task, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(client, buff, stainless, ip="203.0.113.9")

    assert response.status_code == 200
    assert "hanako@example.jp" in response.content.decode().lower()
    # Nothing was sent inside the request: the e-mail waits for the commit.
    assert mail.outbox == []
    guest = R.objects.get()
    assert (guest.network, guest.email, guest.ip_address, guest.status, guest.email_status) == (
        network,
        "hanako@example.jp",
        "203.0.113.9",
        "pending",
        "pending",
    )
    assert guest.payload["inquiry"]["title"] == "ステンレス製タンブラーの鏡面研磨"
    assert guest.payload["buyer"]["name"] == "燕 花子"
    assert "website" not in guest.payload["buyer"]
    assert not Inquiry.objects.exists()
    assert StatusChange.objects.filter(object_id=guest.pk, to_status="pending").count() == 1

    for callback in callbacks:  # the commit: the task is queued (and runs, eagerly)
        callback()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    year = timezone.localdate().year
    assert guest.reference == f"G-{year}-{guest.pk:06d}"
    assert message.subject == f"【磨き屋シンジケート】お問い合わせ内容のご確認 ({guest.reference})"
    assert message.to == ["hanako@example.jp"]
    assert guests.confirmation_token(guest) in message.body
    # A redelivered task or a relay run sends nothing more.
    assert email_task.apply(args=[guest.pk]).get() is False
    assert (
        guests.guest_inquiry_emails_relay(now=timezone.now() + datetime.timedelta(minutes=5)) == 0
    )
    assert len(mail.outbox) == 1
    guest.refresh_from_db()
    assert guest.email_status == "sent" and guest.email_attempts == 1


HEADER_TITLE = "Polish\r\nBcc: victim@example.com\r\nSubject: You won <b>&</b>"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "subject"),
    [
        ("ja", "【磨き屋シンジケート】お問い合わせ内容のご確認 ({ref})"),
        ("en", "[Migakiya Syndicate] Please confirm your inquiry ({ref})"),
    ],
)
def test_the_subject_is_fixed_text_with_the_reference_whatever_the_title(
    client, settings, network, buff, stainless, language, subject
):
    network.name_en = "Migakiya Syndicate"
    network.save(update_fields=["name_en"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    response = post(client, buff, stainless, title=HEADER_TITLE, **{"buyer-name": "A\nBcc: x@y"})
    assert response.status_code == 200
    send_pending()

    guest = R.objects.get()
    assert guest.payload["inquiry"]["title"] == HEADER_TITLE  # kept as typed
    (message,) = mail.outbox
    assert message.subject == subject.format(ref=guest.reference)
    assert (message.to, message.cc, message.bcc) == (["hanako@example.jp"], [], [])
    headers = message.message()
    assert headers.get_all("Bcc") is None
    assert "victim" not in headers["Subject"] and "won" not in headers["Subject"]
    # The body quotes the title on one line, as plain text (not HTML-escaped).
    assert "Polish Bcc: victim@example.com Subject: You won <b>&</b>" in message.body
    assert "&amp;" not in message.body and "\r" not in message.body
    assert "A Bcc: x@y" in message.body


def test_plain_line_removes_breaks_and_controls_and_caps_the_length():
    assert guests.plain_line("a\r\nb\u2028c\x00d\u202ee", 100) == "a b c d e"
    assert guests.plain_line("x" * 150, 100) == "x" * 99 + "…"


# ---------------------------------------------------------------------------------------
# Hourly limits per visitor's address and per e-mail address


@pytest.mark.django_db
def test_the_limit_per_visitor_address_follows_the_network_setting(
    client, network, buff, stainless
):
    network.guest_inquiries_per_hour = 3
    network.save(update_fields=["guest_inquiries_per_hour"])

    answers = [
        post(client, buff, stainless, **{"buyer-email": f"v{n}@example.jp"}).status_code
        for n in range(4)
    ]
    refused = post(client, buff, stainless, **{"buyer-email": "v9@example.jp"})
    elsewhere = post(client, buff, stainless, ip="192.0.2.44", **{"buyer-email": "w@example.jp"})

    assert answers == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert "上限に達しました" in refused.content.decode()
    assert refused.context["buyer_form"].non_field_errors()
    assert elsewhere.status_code == 200  # another address has its own count
    assert R.objects.filter(ip_address="198.51.100.7").count() == 3
    send_pending()
    assert len(mail.outbox) == 4  # nothing was sent for the refused ones
    # An hour later the address may send again.
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=61)):
        assert post(client, buff, stainless, **{"buyer-email": "v5@example.jp"}).status_code == 200


@pytest.mark.django_db
def test_behind_the_proxy_each_visitor_is_counted_by_the_forwarded_address(
    client, settings, network, buff, stainless
):
    settings.PROXY_COUNT = 1  # the TLS proxy appends the address it saw
    network.guest_inquiries_per_hour = 1
    network.save(update_fields=["guest_inquiries_per_hour"])

    def from_(forwarded, n):
        data = guest_data(buff, stainless, **{"buyer-email": f"p{n}@example.jp"})
        return client.post(
            URL, data, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    assert from_("203.0.113.1", 1) == 200
    assert from_("203.0.113.2", 2) == 200  # another visitor behind the same proxy
    # A visitor cannot escape its count by sending a header of its own.
    assert from_("6.6.6.6, 203.0.113.1", 3) == 429
    assert sorted(R.objects.values_list("ip_address", flat=True)) == [
        "203.0.113.1",
        "203.0.113.2",
    ]


@pytest.mark.django_db
def test_the_limit_per_email_address_counts_every_visitor_address(client, network, buff, stainless):
    network.guest_inquiries_per_hour = 2
    network.save(update_fields=["guest_inquiries_per_hour"])

    answers = [
        post(client, buff, stainless, ip=f"192.0.2.{n}", **{"buyer-email": email}).status_code
        for n, email in enumerate(["Hanako@example.jp", "hanako@example.jp", "HANAKO@example.jp"])
    ]

    assert answers == [200, 200, 429]
    assert list(R.objects.values_list("email", flat=True)) == ["hanako@example.jp"] * 2


@pytest.mark.django_db
def test_each_network_counts_with_its_own_setting(client, network, buff, stainless):
    strict = NetworkFactory(name="厳しいネットワーク", guest_inquiries_per_hour=1)
    network.guest_inquiries_per_hour = 2
    network.save(update_fields=["guest_inquiries_per_hour"])

    def to(net, n):
        return post(
            client, buff, stainless, network=str(net.pk), **{"buyer-email": f"{n}@example.jp"}
        ).status_code

    assert [to(strict, 1), to(strict, 2)] == [200, 429]
    assert [to(network, 3), to(network, 4), to(network, 5)] == [200, 200, 429]
    assert R.objects.filter(network=strict).count() == 1
    assert R.objects.filter(network=network).count() == 2


@pytest.mark.django_db
def test_a_flood_gets_429_never_500_and_keeps_what_was_saved(
    client, network, buff, stainless, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [
            post(client, buff, stainless, **{"buyer-email": f"f{n}@example.jp"}).status_code
            for n in range(40)
        ]

    assert statuses == [200] * 5 + [429] * 35  # the default limit: 5 an hour
    assert sorted(R.objects.values_list("email", flat=True)) == sorted(
        f"f{n}@example.jp" for n in range(5)
    )
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"f{n}@example.jp" for n in range(5))


@pytest.mark.django_db
def test_the_service_refuses_over_the_limit_with_a_coded_429(network):
    network.guest_inquiries_per_hour = 1
    network.save(update_fields=["guest_inquiries_per_hour"])
    args = {
        "network": network,
        "inquiry_data": {"title": "x"},
        "buyer_data": {"email": "a@example.jp", "name": "a", "kind": "individual"},
        "ip_address": "192.0.2.1",
    }
    guests.guest_inquiry_request(**args)

    with pytest.raises(guests.TooManyRequests) as refused:
        guests.guest_inquiry_request(**args)

    assert (refused.value.status_code, refused.value.code) == (429, "guest_inquiries_per_hour")
    assert R.objects.count() == 1


# ---------------------------------------------------------------------------------------
# The honeypot


@pytest.mark.django_db
def test_the_honeypot_is_hidden_from_people_and_assistive_technology(client, network):
    page = client.get(URL).content.decode()

    trap = re.search(r'<div class="hp-field" aria-hidden="true">(.*?)</div>', page, re.S)
    assert trap is not None
    field = re.search(r"<input[^>]*buyer-website[^>]*>", trap.group(1)).group(0)
    assert 'tabindex="-1"' in field and 'autocomplete="off"' in field
    assert "style=" not in trap.group(0)  # a class, not an inline style (CSP)
    assert page.count("buyer-website") == 3  # label for, id and name: only in the trap


@pytest.mark.django_db
def test_a_filled_honeypot_gets_the_sent_page_but_nothing_is_saved_or_sent(
    client, network, buff, stainless, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(client, buff, stainless, **{"buyer-website": "http://spam.example"})

    honest = post(client, buff, stainless, **{"buyer-email": "real@example.jp"})
    assert response.status_code == honest.status_code == 200
    assert response.templates[0].name == "orders/guest_sent.html"
    assert callbacks == []
    assert list(R.objects.values_list("email", flat=True)) == ["real@example.jp"]
    assert mail.outbox == []


# ---------------------------------------------------------------------------------------
# Broker down, mail server down


@pytest.mark.django_db
def test_the_relay_sends_once_what_a_broker_outage_left(
    client, network, buff, stainless, eager, email_task, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(email_task, "delay", side_effect=OperationalError("redis down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = post(client, buff, stainless)

    assert response.status_code == 200  # the outage did not reach the visitor
    assert R.objects.get().email_status == "pending"
    assert mail.outbox == []
    # Within the grace period the relay leaves it to the after-commit enqueue.
    assert guests.guest_inquiry_emails_relay() == 0
    later = timezone.now() + datetime.timedelta(seconds=31)
    assert guests.guest_inquiry_emails_relay(now=later) == 1
    assert guests.guest_inquiry_emails_relay(now=later) == 0
    assert len(mail.outbox) == 1
    # A request older than its link's validity is not sent any more.
    assert guests.guest_inquiry_emails_relay(now=later + datetime.timedelta(days=3)) == 0


def test_the_email_task_and_its_relay_are_registered_scheduled_and_routed(settings):
    from celery.app.routes import Router, prepare

    beat = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    relay = "brokerage.guest_inquiry_emails_relay_task"
    assert {guests.EMAIL_TASK, relay} <= set(celery_app.tasks)
    assert relay in beat
    router = Router(prepare(settings.CELERY_TASK_ROUTES), celery_app.amqp.queues, app=celery_app)
    assert router.route({}, guests.EMAIL_TASK)["queue"].name == "notifications"
    assert celery_app.tasks[guests.EMAIL_TASK].acks_late


@pytest.mark.django_db
def test_a_failing_mail_server_is_retried_then_marked_failed(client, network, buff, stainless):
    post(client, buff, stainless)
    guest = R.objects.get()

    with mock.patch("core.mail.send_mail", side_effect=smtplib.SMTPException("down")):
        for _ in range(guests.MAX_EMAIL_ATTEMPTS):
            with pytest.raises(smtplib.SMTPException):
                guests.guest_inquiry_email_send(request_id=guest.pk)

    guest.refresh_from_db()
    assert (guest.email_status, guest.email_attempts) == ("failed", guests.MAX_EMAIL_ATTEMPTS)
    assert "SMTPException" in guest.email_error
    assert guest.status == "pending"  # the request itself is kept
    assert guests.guest_inquiry_email_send(request_id=guest.pk) is False


# ---------------------------------------------------------------------------------------
# Confirmation


@pytest.mark.django_db
def test_confirming_twice_makes_one_inquiry(client, network, buff, stainless):
    post(client, buff, stainless)
    send_pending()
    link = link_in(mail.outbox[0])

    first = client.post(link)
    second = client.post(link)
    again = Client().get(link)  # the link opened later, elsewhere

    inquiry = Inquiry.objects.get()
    guest = R.objects.get()
    assert (guest.status, guest.inquiry, guest.confirmed_at is not None) == (
        "confirmed",
        inquiry,
        True,
    )
    assert first["Location"] == second["Location"] == again["Location"]
    assert first["Location"] == reverse("inquiry_detail", args=[inquiry.pk])
    assert inquiry.title == "ステンレス製タンブラーの鏡面研磨"
    assert inquiry.buyer.email == "hanako@example.jp"
    assert StatusChange.objects.filter(object_id=guest.pk, to_status="confirmed").count() == 1
    assert guests.guest_inquiry_confirm(guest_request=guest) == inquiry


@pytest.mark.django_db
def test_a_link_naming_another_request_id_is_refused(client, network, buff, stainless):
    post(client, buff, stainless)
    guest = R.objects.get()
    token = guests.confirmation_token(guest)
    other_id = signing.b64_encode(f'{{"r":{guest.pk + 1}}}'.encode()).decode()
    forged = other_id + token[token.index(":") :]  # another id under this link's signature
    assert forged != token

    assert client.get(reverse("guest_inquiry_confirm", args=[forged])).status_code == 400
    assert client.post(reverse("guest_inquiry_confirm", args=[token + "x"])).status_code == 400
    assert not Inquiry.objects.exists()


@pytest.mark.django_db
def test_a_delivery_date_passed_since_is_a_clear_error_not_a_500(client, network, buff, stainless):
    soon = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    post(client, buff, stainless, desired_delivery_date=soon)
    guest = R.objects.get()

    with time_machine.travel(timezone.now() + datetime.timedelta(days=1, hours=1)):
        response = client.post(
            reverse("guest_inquiry_confirm", args=[guests.confirmation_token(guest)])
        )

    assert response.status_code == 400
    assert not Inquiry.objects.exists()
    guest.refresh_from_db()
    assert guest.status == "pending"


# ---------------------------------------------------------------------------------------
# PostgreSQL: concurrent requests count exactly; concurrent confirmations make one inquiry


def _in_threads(count, work):
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(n):
        try:
            barrier.wait()
            results[n] = work(n)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_from_one_address_stop_exactly_at_the_limit(network, buff, stainless):
    def one(n):
        data = guest_data(buff, stainless, **{"buyer-email": f"c{n}@example.jp"})
        return Client().post(URL, data, REMOTE_ADDR="198.51.100.99").status_code

    statuses = _in_threads(20, one)

    assert sorted(statuses) == [200] * 5 + [429] * 15
    assert R.objects.count() == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_confirmations_make_one_inquiry(network, buff, stainless):
    Client().post(URL, guest_data(buff, stainless), REMOTE_ADDR="198.51.100.5")
    link = reverse("guest_inquiry_confirm", args=[guests.confirmation_token(R.objects.get())])

    statuses = _in_threads(8, lambda n: Client().post(link).status_code)

    assert statuses == [302] * 8
    assert Inquiry.objects.count() == 1
    assert R.objects.get().inquiry == Inquiry.objects.get()


# ---------------------------------------------------------------------------------------
# The real stack (services pass): a worker on the Redis broker


@pytest.fixture
def worker():
    from celery.contrib.testing.worker import start_worker

    celery_app.conf.task_always_eager = False
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        yield


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_flood_on_the_real_stack_is_cut_at_the_limit_and_each_saved_request_mailed_once(
    network, buff, stainless, worker
):
    from tests.brokerage.test_worker_integration import wait_for

    statuses = [
        Client()
        .post(
            URL,
            guest_data(buff, stainless, **{"buyer-email": f"i{n}@example.jp"}),
            REMOTE_ADDR="198.51.100.50",
        )
        .status_code
        for n in range(30)
    ]

    assert statuses == [200] * 5 + [429] * 25
    assert wait_for(lambda: R.objects.filter(email_status="sent").count() == 5)
    # A relay run later and the tasks queued again send nothing more.
    assert (
        guests.guest_inquiry_emails_relay(now=timezone.now() + datetime.timedelta(minutes=5)) == 0
    )
    guests.enqueue_guest_emails(R.objects.values_list("pk", flat=True))
    assert not wait_for(lambda: len(mail.outbox) > 5, timeout=3)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"i{n}@example.jp" for n in range(5))


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_form_still_answers_and_the_relay_mails_once_it_is_back(
    network, buff, stainless
):
    from celery.contrib.testing.worker import start_worker

    from tests.brokerage.test_worker_integration import _reset_publisher_pools, wait_for

    good = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"  # a closed port: Redis is "down"
    _reset_publisher_pools()
    try:
        statuses = [
            Client()
            .post(
                URL,
                guest_data(buff, stainless, **{"buyer-email": f"d{n}@example.jp"}),
                REMOTE_ADDR=f"198.51.100.{n}",
            )
            .status_code
            for n in range(3)
        ]
    finally:
        celery_app.conf.broker_url = good
        _reset_publisher_pools()

    assert statuses == [200, 200, 200]
    assert R.objects.filter(email_status="pending").count() == 3 and mail.outbox == []
    celery_app.conf.task_always_eager = False
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        later = timezone.now() + datetime.timedelta(minutes=1)
        assert guests.guest_inquiry_emails_relay(now=later) == 3
        assert wait_for(lambda: R.objects.filter(email_status="sent").count() == 3)
        assert guests.guest_inquiry_emails_relay(now=later) == 0
        assert not wait_for(lambda: len(mail.outbox) > 3, timeout=3)
    assert sorted(m.to[0] for m in mail.outbox) == [f"d{n}@example.jp" for n in range(3)]
