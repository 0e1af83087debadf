"""Redis down is not an outage (issue 13, point 1): sign-in, pages and the partner API keep
answering (sessions from the database, throttles open), /readyz says Redis is the problem,
and the work queued meanwhile is delivered, once, when Redis is back.

The first tests point the cache at a port where nothing listens, so they run in both CI
passes; the last one starts and stops a redis-server of its own (second pass)."""

# ruff: noqa: F811  (fixtures imported by name are used as test arguments)

import logging
import shutil
import socket
import subprocess
import time

import pytest
import redis
import time_machine
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from brokerage.models import EmailStatus, Notification
from config.celery import app as celery_app
from core.models import DomainEvent
from orders.models import Inquiry
from tests.brokerage.partner_fixtures import (  # noqa: F401
    key_client,
    make_key,
    partner,
    submit_payload,
)
from tests.orders.test_pages import form_data

CATALOGUE = "/api/v1/partner/catalogue/"
PARTNER_INQUIRIES = "/api/v1/partner/inquiries/"
PASSWORD = "pass-for-tests-1"  # tests/factories


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def point_at_redis(settings, url: str) -> None:
    """Production's cache (config/settings.py, REDIS_URL set), on `url`."""
    settings.REDIS_URL = url
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": settings.REDIS_CACHE_OPTIONS,
        }
    }


@pytest.fixture
def redis_down(settings):
    point_at_redis(settings, f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there


def sign_in(client, user):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    assert response["Location"] == reverse("home")


# --- Redis unreachable ---------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_in_pages_and_sign_out_work_while_redis_is_down(
    client, redis_down, network, buyer_user, caplog
):
    with caplog.at_level(logging.ERROR, logger="django_redis.cache"):
        sign_in(client, buyer_user)

    # The session lives in the database; every failed cache call was logged, none raised.
    assert Session.objects.get().get_decoded()["_auth_user_id"] == str(buyer_user.pk)
    assert any(r.getMessage() == "Exception ignored" for r in caplog.records)
    for name in ("home", "my_inquiries", "inquiry_create"):
        page = client.get(reverse(name))
        assert page.status_code == 200, name
        assert page.context["user"] == buyer_user
    assert client.post(reverse("logout")).status_code == 302
    assert not Session.objects.exists()
    assert client.get(reverse("home")).status_code == 302  # signed out: sent to the login


@pytest.mark.django_db
def test_a_hung_redis_slows_sign_in_by_its_timeouts_but_does_not_break_it(
    client, settings, buyer_user
):
    """A server that accepts connections and never answers: each cache call gives up after
    the socket timeout, and the session comes from the database."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)  # the kernel completes the handshakes; nobody ever reads
        point_at_redis(settings, f"redis://127.0.0.1:{hung.getsockname()[1]}/0")

        sign_in(client, buyer_user)
        assert client.get(reverse("home")).context["user"] == buyer_user


@pytest.mark.django_db
def test_the_partner_api_answers_while_redis_is_down_with_its_throttle_open(
    redis_down, partner, make_key, settings, caplog
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"partner": "1/min"},
    }
    _key, raw = make_key(partner)
    client = key_client(raw)

    with caplog.at_level(logging.WARNING, logger="core.throttling"):
        statuses = [client.get(CATALOGUE).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]  # over the rate, but the count is unreachable
    assert len([r for r in caplog.records if r.name == "core.throttling"]) == 3
    # A wrong key is still refused: only the count is open, not the door.
    assert key_client(raw + "x").get(CATALOGUE).status_code == 401


@pytest.mark.django_db
def test_readyz_names_redis_while_healthz_stays_up(client, redis_down):
    ready = client.get("/readyz")

    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "database": "ok",
        "broker": "error: Redis unreachable (ConnectionError)",
    }
    assert client.get("/healthz").status_code == 200


# --- Redis up: sessions are read from the cache ----------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db
def test_with_redis_up_a_signed_in_page_reads_its_session_from_the_cache(
    client, settings, buyer_user
):
    point_at_redis(settings, settings.REDIS_URL)
    sign_in(client, buyer_user)

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("my_inquiries")).status_code == 200

    assert not [q for q in queries if "django_session" in q["sql"]]
    # The copy expires within SESSION_CACHE_MAX_AGE, not with the two-week session.
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert 0 < cache.ttl(f"django.contrib.sessions.cached_db{key}") <= 300
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_a_session_deleted_behind_the_cache_ends_within_the_cache_cap(client, settings, buyer_user):
    """A sign-out while Redis was unreachable deletes the row but not the cached copy a
    restarted Redis may bring back: the copy is trusted for SESSION_CACHE_MAX_AGE at most."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with time_machine.travel(timezone.now(), tick=False) as clock:
        sign_in(client, buyer_user)
        Session.objects.all().delete()  # the sign-out whose cache delete was lost

        clock.shift(settings.SESSION_CACHE_MAX_AGE - 1)
        assert client.get(reverse("home")).status_code == 200  # the copy, still
        clock.shift(2)
        response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- A real outage and recovery ------------------------------------------------------------


class OwnRedis:
    """A redis-server of this test's own on a free port (never the machine's shared one)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        command = [shutil.which("redis-server"), "--port", str(self.port)]
        command += ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            command, stdout=subprocess.DEVNULL
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _reset_publisher_pools():
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def own_redis(settings):
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server")
    server = OwnRedis()
    server.start()
    point_at_redis(settings, server.url)
    broker_url = celery_app.conf.broker_url
    celery_app.conf.broker_url = server.url
    _reset_publisher_pools()
    yield server
    server.stop()
    celery_app.conf.broker_url = broker_url
    _reset_publisher_pools()


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_redis_stopped_and_restarted_nothing_fails_and_the_outbox_is_delivered_once(
    client,
    own_redis,
    settings,
    network,
    secretariat_user,
    buyer_user,
    partner,
    make_key,
    submit_payload,
    buff,
    stainless,
):
    from celery.contrib.testing.worker import start_worker

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"partner": "2/min"},
    }
    _key, raw = make_key(partner)
    partner_client = key_client(raw)
    own_redis.stop()

    # Redis is down. A buyer signs in through the login page and uses the site.
    sign_in(client, buyer_user)
    for name in ("home", "my_inquiries", "inquiry_create"):
        assert client.get(reverse(name)).status_code == 200, name
    submitted = client.post(reverse("inquiry_create"), form_data(buff, stainless))
    assert submitted.status_code == 302, submitted.content
    # The partner reads the catalogue past its rate and submits an inquiry.
    assert [partner_client.get(CATALOGUE).status_code for _ in range(3)] == [200] * 3
    created = partner_client.post(PARTNER_INQUIRIES, submit_payload(), format="json")
    assert created.status_code == 201, created.content
    # Both inquiries are saved; their events wait in the outbox; /readyz says why.
    assert Inquiry.objects.count() == 2
    assert DomainEvent.objects.filter(dispatched_at__isnull=True).count() == 2
    assert not Notification.objects.exists()
    assert client.get("/readyz").json()["broker"].startswith("error: Redis unreachable")

    # Redis is back (empty: it kept nothing); a worker and the relay job run.
    own_redis.start()
    _reset_publisher_pools()
    assert client.get(reverse("my_inquiries")).status_code == 200  # the session survived
    assert client.get("/readyz").status_code == 200
    celery_app.conf.task_always_eager = False
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        DomainEvent.objects.update(created_at=timezone.now() - timezone.timedelta(minutes=5))
        celery_app.tasks["brokerage.events_relay_task"].delay()
        assert wait_for(lambda: not DomainEvent.objects.filter(dispatched_at__isnull=True).exists())
        assert wait_for(
            lambda: (
                Notification.objects.exists()
                and not Notification.objects.filter(email_status=EmailStatus.PENDING).exists()
            )
        )
        # A second relay run, as the beat would do a minute later, sends nothing again.
        Notification.objects.update(created_at=timezone.now() - timezone.timedelta(minutes=5))
        celery_app.tasks["brokerage.notifications_relay_task"].delay()
        celery_app.tasks["brokerage.events_relay_task"].delay()
        assert not wait_for(lambda: len(mail.outbox) > Notification.objects.count(), timeout=3)

    # Told once each: the secretariat of both inquiries, each buyer of its own (the
    # partner's buyer has an account without an address: no e-mail, the partner's feed).
    partner_buyer = Inquiry.objects.get(pk=created.json()["id"]).buyer.user
    assert sorted(
        Notification.objects.values_list("recipient", "email_status").order_by("pk")
    ) == sorted(
        [
            (secretariat_user.pk, EmailStatus.SENT),
            (secretariat_user.pk, EmailStatus.SENT),
            (buyer_user.pk, EmailStatus.SENT),
            (partner_buyer.pk, EmailStatus.SKIPPED),
        ]
    )
    sent = [(m.to[0], m.subject) for m in mail.outbox]
    assert len(sent) == len(set(sent)) == 3  # every e-mail went out, none twice
    # And the partner's rate is counted again now that Redis is back.
    assert [partner_client.get(CATALOGUE).status_code for _ in range(3)] == [200, 200, 429]
