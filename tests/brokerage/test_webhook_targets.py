"""Webhook targets and secrets (issue 13, point 9).

SSRF: every non-public address form is refused, at creation (API, 400 on `url` with the
reason) and again at delivery (DNS may change: refused, recorded, never connected to); a public
address is connected to exactly as checked (one lookup, the checked IP, TLS verified for the
URL's host); a redirect is not followed. These tests run with
PARTNER_WEBHOOKS_ALLOW_PRIVATE_TARGETS off, as production does.

Secrets: shown once (creation, rotation), afterwards a fingerprint; after a rotation deliveries
carry both signatures for the overlap, then only the new one.
"""

# ruff: noqa: F811  (fixtures imported by name are used as test arguments)

import datetime
import shutil
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from brokerage import partners, webhooks
from brokerage.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from core.errors import BrokerageError
from tests.brokerage.partner_fixtures import (  # noqa: F401
    make_key,
    partner,
    partner_api,
    submit_payload,
)
from tests.helpers import dispatch_all

ENDPOINTS = "/api/v1/webhook-endpoints/"
HOST = "hooks.partner.test"
PUBLIC_IP = "93.184.216.34"  # a public (global) address; nothing is ever sent to it

# (URL, words the refusal must contain): every spelling a resolver would accept.
BAD_URLS = [
    ("https://127.0.0.1/hooks", "loopback"),
    ("https://127.1/hooks", "loopback"),
    ("https://0x7f.1/hooks", "loopback"),
    ("https://0177.0.0.1/hooks", "loopback"),
    ("https://2130706433/hooks", "loopback"),
    ("https://0x7f000001/hooks", "loopback"),
    ("https://127.0.0.1./hooks", "loopback"),
    ("https://１２７．０．０．１/hooks", "loopback"),  # full-width, as IDNA maps it
    ("https://localhost/hooks", "local name"),
    ("https://LOCALHOST./hooks", "local name"),
    ("https://api.localhost/hooks", "local name"),
    ("https://10.0.0.8/hooks", "private"),
    ("https://172.16.0.1/hooks", "private"),
    ("https://192.168.1.1/hooks", "private"),
    ("https://012.0.0.1/hooks", "private"),  # octal 012 = 10
    ("https://169.254.169.254/latest/meta-data/", "link-local"),
    ("https://100.64.0.1/hooks", "non-public"),  # carrier-grade NAT
    ("https://0.0.0.0/hooks", "unspecified"),
    ("https://0/hooks", "unspecified"),
    ("https://224.0.0.1/hooks", "multicast"),
    ("https://240.0.0.1/hooks", "reserved"),
    ("https://[::1]/hooks", "loopback"),
    ("https://[::]/hooks", "unspecified"),
    ("https://[fe80::1]/hooks", "link-local"),
    ("https://[fd00:ec2::254]/hooks", "private"),
    ("https://[ff02::1]/hooks", "multicast"),
    ("https://[::ffff:127.0.0.1]/hooks", "IPv4-mapped"),
    ("https://[::ffff:a9fe:a9fe]/hooks", "IPv4-mapped"),
    ("https://[::127.0.0.1]/hooks", "IPv4-compatible"),
    ("https://[::10.0.0.1]/hooks", "IPv4-compatible"),
    ("https://[64:ff9b::7f00:1]/hooks", "NAT64"),
    ("https://[64:ff9b::10.0.0.8]/hooks", "NAT64"),
    ("https://[64:ff9b:1::808:808]/hooks", "local-use NAT64"),
    ("https://[2002:7f00:1::1]/hooks", "6to4"),
    ("https://[2002:a9fe:a9fe::1]/hooks", "6to4"),
    ("https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hooks", "Teredo"),  # client 127.0.0.1
    ("http://hooks.example.jp/hooks", "https"),
    ("ftp://hooks.example.jp/hooks", "http(s)"),
    ("https://user:pw@hooks.example.jp/hooks", "password"),
]

# What a name may resolve to at creation or later (DNS rebinding): each one refused.
BAD_ANSWERS = [
    ["127.0.0.1"],
    ["10.1.2.3"],
    ["172.31.255.1"],
    ["192.168.0.10"],
    ["169.254.169.254"],
    ["100.64.1.1"],
    ["0.0.0.0"],  # noqa: S104
    ["::1"],
    ["fe80::1%eth0"],
    ["fd12:3456::1"],
    ["::ffff:10.0.0.1"],
    ["64:ff9b::a9fe:a9fe"],
    ["64:ff9b:1::1"],
    ["2002:c0a8:0101::1"],
    ["2001:0:4136:e378:8000:63bf:f5ff:fffe"],  # Teredo client 10.0.0.1
    [PUBLIC_IP, "10.0.0.1"],  # any one bad address is enough
    ["2606:2800:220:1::1", "::1"],
]


@pytest.fixture(autouse=True)
def production_targets(settings):
    settings.PARTNER_WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    settings.LANGUAGE_CODE = "en"  # the reasons are asserted in English; one test in Japanese


class FakeDNS:
    """getaddrinfo for HOST answers what the test says and counts the lookups; every other
    name goes to the real resolver."""

    def __init__(self, monkeypatch):
        self.answers = [PUBLIC_IP]
        self.lookups = 0
        real = socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):
            if host != HOST:
                return real(host, port, *args, **kwargs)
            self.lookups += 1
            return [
                (
                    socket.AF_INET6 if ":" in ip else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (ip, port, 0, 0) if ":" in ip else (ip, port),
                )
                for ip in self.answers
            ]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def dns(monkeypatch):
    return FakeDNS(monkeypatch)


class Connections:
    """socket.create_connection that records where it was asked to connect, then either
    refuses or goes to `route_to` (a local receiver standing in for the public address)."""

    def __init__(self, monkeypatch):
        self.addresses = []
        self.route_to = None
        real = socket.create_connection

        def create_connection(address, *args, **kwargs):
            self.addresses.append(address)
            if self.route_to is None:
                raise ConnectionRefusedError("test: nothing listens")
            return real(self.route_to, *args, **kwargs)

        monkeypatch.setattr(socket, "create_connection", create_connection)


@pytest.fixture
def connections(monkeypatch):
    return Connections(monkeypatch)


def _certificate(directory, name):
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(  # noqa: S603  (fixed arguments)
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class TLSReceiver:
    """A partner's HTTPS receiver on 127.0.0.1 with a certificate for `name`: records the
    TLS server name (SNI) and each request; answers `status`."""

    def __init__(self, cert, key):
        self.requests, self.server_names = [], []
        self.status = 200
        receiver = self
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        context.sni_callback = lambda sock, name, ctx: receiver.server_names.append(name)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    {
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body.decode(),
                    }
                )
                self.send_response(receiver.status)
                if 300 <= receiver.status < 400:
                    self.send_header("Location", "https://127.0.0.1:1/internal")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a refused TLS handshake is the expected outcome of a test

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.address = self.server.server_address
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    """A receiver whose certificate names HOST; webhooks trust its certificate (only)."""
    cert, key = _certificate(tmp_path, HOST)
    receiver = TLSReceiver(cert, key)

    def trusting_context():
        context = ssl.create_default_context(cafile=str(cert))
        return context

    monkeypatch.setattr(webhooks, "_tls_context", trusting_context)
    yield receiver
    receiver.close()


@pytest.fixture
def endpoint(partner, secretariat_user, dns):
    """An endpoint registered while HOST resolved to a public address."""
    return partners.webhook_endpoint_create(
        actor=secretariat_user, organisation=partner, url=f"https://{HOST}/hooks"
    )


@pytest.fixture
def delivery(partner_api, submit_payload, endpoint):
    partner_api.post("/api/v1/partner/inquiries/", submit_payload(), format="json")
    dispatch_all()
    return WebhookDelivery.objects.get()


def _url_errors(response):
    return [e for e in response.json()["errors"] if e["attr"] == "url"]


# --- Refused at creation -------------------------------------------------------------------


@pytest.mark.parametrize(("url", "reason"), BAD_URLS)
def test_a_non_public_target_is_refused_at_creation_with_the_reason(
    api, secretariat_user, partner, connections, url, reason
):
    response = api.as_(secretariat_user).post(
        ENDPOINTS, {"organisation": partner.pk, "url": url}, format="json"
    )

    assert response.status_code == 400
    [error] = _url_errors(response)
    assert reason in error["detail"]
    assert error["code"] == "unsafe_target"
    assert not WebhookEndpoint.objects.exists()
    assert connections.addresses == []


@pytest.mark.parametrize("answers", BAD_ANSWERS)
def test_a_name_resolving_to_a_non_public_address_is_refused_at_creation(
    api, secretariat_user, partner, dns, connections, answers
):
    dns.answers = answers

    response = api.as_(secretariat_user).post(
        ENDPOINTS, {"organisation": partner.pk, "url": f"https://{HOST}/hooks"}, format="json"
    )

    assert response.status_code == 400
    [error] = _url_errors(response)
    assert HOST in error["detail"] and "not public" in error["detail"]
    assert not WebhookEndpoint.objects.exists()


def test_the_reason_is_given_in_the_users_language(api, secretariat_user, partner):
    response = api.as_(secretariat_user).post(
        ENDPOINTS,
        {"organisation": partner.pk, "url": "https://[64:ff9b::7f00:1]/hooks"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    assert response.status_code == 400
    detail = _url_errors(response)[0]["detail"]
    assert "127.0.0.1（NAT64）を含み、公開アドレスではありません（ループバック）" in detail


def test_an_unresolvable_name_is_refused(api, secretariat_user, partner, dns):
    dns.answers = []
    response = api.as_(secretariat_user).post(
        ENDPOINTS, {"organisation": partner.pk, "url": f"https://{HOST}/hooks"}, format="json"
    )
    assert response.status_code == 400
    assert "cannot be resolved" in _url_errors(response)[0]["detail"]


def test_the_page_form_shows_the_reason_on_the_url_field(client, secretariat_user, partner):
    from django.urls import reverse

    client.force_login(secretariat_user)
    response = client.post(
        reverse("partner_endpoint_create", args=[partner.pk]),
        {"url": "https://[::ffff:127.0.0.1]/hooks"},
    )
    assert response.status_code == 400
    assert "IPv4-mapped" in str(response.context["endpoint_form"].errors["url"])
    assert not WebhookEndpoint.objects.exists()


# --- Refused at delivery (DNS changed since) ------------------------------------------------


@pytest.mark.parametrize("answers", BAD_ANSWERS)
def test_a_delivery_to_a_name_now_resolving_to_a_non_public_address_is_refused(
    delivery, dns, connections, answers
):
    dns.answers = answers

    result = webhooks.webhook_deliver(delivery_id=delivery.pk)

    assert result.sent and not result.succeeded and result.retry_in is None
    assert connections.addresses == []  # never connected
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error.startswith("refused:") and "not public" in delivery.last_error
    assert delivery.last_status_code is None


@pytest.mark.parametrize(("url", "reason"), BAD_URLS)
def test_a_delivery_to_a_stored_non_public_url_is_refused(delivery, connections, url, reason):
    # A row written before this check existed (or by hand): delivery checks again.
    WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(url=url)

    webhooks.webhook_deliver(delivery_id=delivery.pk)

    assert connections.addresses == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error.startswith("refused:") and reason in delivery.last_error


# --- A public address: connected to exactly as checked --------------------------------------


def test_a_public_address_is_the_one_connected_to_after_one_lookup(delivery, dns, connections):
    dns.lookups = 0

    result = webhooks.webhook_deliver(delivery_id=delivery.pk)

    assert dns.lookups == 1  # resolved once; the connection uses that answer
    assert connections.addresses == [(PUBLIC_IP, 443)]
    assert result.retry_in is not None  # connection refused: transient, retried
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("connection error")


def test_every_checked_address_is_tried_and_no_other(delivery, dns, connections):
    dns.answers = ["2606:2800:220:1::1", PUBLIC_IP]
    webhooks.webhook_deliver(delivery_id=delivery.pk)
    assert connections.addresses == [("2606:2800:220:1::1", 443), (PUBLIC_IP, 443)]


def test_the_pinned_connection_speaks_tls_to_the_urls_host(
    delivery, endpoint, dns, connections, tls_receiver
):
    connections.route_to = tls_receiver.address  # the "public" address answers here
    dns.lookups = 0

    result = webhooks.webhook_deliver(delivery_id=delivery.pk)

    assert result.succeeded
    assert connections.addresses == [(PUBLIC_IP, 443)] and dns.lookups == 1
    assert tls_receiver.server_names == [HOST]  # SNI is the URL's host, not the IP
    [request] = tls_receiver.requests
    assert request["headers"]["host"] == HOST
    Webhook(endpoint.secret).verify(request["body"], request["headers"])
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("succeeded", 200)


def test_a_certificate_for_another_host_is_refused(
    delivery, dns, connections, tmp_path, monkeypatch
):
    cert, key = _certificate(tmp_path, "elsewhere.example")
    receiver = TLSReceiver(cert, key)
    monkeypatch.setattr(
        webhooks, "_tls_context", lambda: ssl.create_default_context(cafile=str(cert))
    )
    connections.route_to = receiver.address
    try:
        result = webhooks.webhook_deliver(delivery_id=delivery.pk)
    finally:
        receiver.close()

    assert not result.succeeded and receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("connection error: TLS")


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_a_failed_delivery_and_is_not_followed(
    delivery, dns, connections, tls_receiver, status
):
    connections.route_to = tls_receiver.address
    tls_receiver.status = status

    result = webhooks.webhook_deliver(delivery_id=delivery.pk)

    assert not result.succeeded and result.retry_in is None
    assert len(tls_receiver.requests) == 1 and connections.addresses == [(PUBLIC_IP, 443)]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("failed", status)


# --- Secrets: shown once, rotated with an overlap --------------------------------------------


def test_the_secret_is_shown_at_creation_only(api, secretariat_user, partner, dns):
    client = api.as_(secretariat_user)

    created = client.post(
        ENDPOINTS, {"organisation": partner.pk, "url": f"https://{HOST}/hooks"}, format="json"
    )

    assert created.status_code == 201
    secret = created.json()["secret"]
    endpoint = WebhookEndpoint.objects.get()
    assert secret == endpoint.secret and secret.startswith("whsec_")
    for response in (client.get(ENDPOINTS), client.get(f"{ENDPOINTS}{endpoint.pk}/")):
        assert response.status_code == 200
        assert secret not in response.content.decode()
        assert endpoint.secret_fingerprint in response.content.decode()
    assert "secret" not in client.get(f"{ENDPOINTS}{endpoint.pk}/").json()


def test_rotation_shows_the_new_secret_once_and_states_the_overlap(
    api, secretariat_user, endpoint, settings, time_machine
):
    settings.PARTNER_WEBHOOK_SECRET_OVERLAP_HOURS = 24
    time_machine.move_to(timezone.now(), tick=False)
    old = endpoint.secret
    client = api.as_(secretariat_user)

    response = client.post(f"{ENDPOINTS}{endpoint.pk}/rotate-secret/")

    assert response.status_code == 200
    body = response.json()
    endpoint.refresh_from_db()
    assert body["secret"] == endpoint.secret != old
    assert endpoint.previous_secret == old
    expected = timezone.now() + datetime.timedelta(hours=24)
    assert datetime.datetime.fromisoformat(body["previous_secret_valid_until"]) == expected
    detail = client.get(f"{ENDPOINTS}{endpoint.pk}/").content.decode()
    assert endpoint.secret not in detail and old not in detail


@pytest.mark.parametrize("who", ["other_secretariat_user", "member_user", "buyer_user"])
def test_nobody_else_reads_or_rotates_an_endpoint(api, request, endpoint, who):
    client = api.as_(request.getfixturevalue(who))
    secret = endpoint.secret

    assert client.get(f"{ENDPOINTS}{endpoint.pk}/").status_code == 404
    assert client.post(f"{ENDPOINTS}{endpoint.pk}/rotate-secret/").status_code == 404
    assert client.get(ENDPOINTS).json()["results"] == []
    endpoint.refresh_from_db()
    assert endpoint.secret == secret
    with pytest.raises(BrokerageError):
        partners.webhook_endpoint_rotate_secret(
            actor=request.getfixturevalue(who), endpoint=endpoint
        )


def test_another_networks_partner_cannot_be_given_an_endpoint(
    api, other_secretariat_user, partner, dns
):
    response = api.as_(other_secretariat_user).post(
        ENDPOINTS, {"organisation": partner.pk, "url": f"https://{HOST}/hooks"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "organisation"
    assert not WebhookEndpoint.objects.exists()


def _deliver_again(delivery):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now()
    )
    return webhooks.webhook_deliver(delivery_id=delivery.pk)


def test_during_the_overlap_deliveries_carry_both_signatures_then_only_the_new(
    delivery, endpoint, secretariat_user, dns, connections, tls_receiver, settings, time_machine
):
    settings.PARTNER_WEBHOOK_SECRET_OVERLAP_HOURS = 24
    connections.route_to = tls_receiver.address
    start = timezone.now()
    time_machine.move_to(start)
    old = endpoint.secret
    endpoint = partners.webhook_endpoint_rotate_secret(actor=secretariat_user, endpoint=endpoint)
    new = endpoint.secret

    time_machine.move_to(start + datetime.timedelta(hours=23, minutes=59))
    assert _deliver_again(delivery).succeeded
    time_machine.move_to(start + datetime.timedelta(hours=24, minutes=1))
    assert _deliver_again(delivery).succeeded

    during, after = tls_receiver.requests
    assert len(during["headers"]["webhook-signature"].split()) == 2
    time_machine.move_to(start + datetime.timedelta(hours=23, minutes=59))
    assert Webhook(new).verify(during["body"], during["headers"])
    assert Webhook(old).verify(during["body"], during["headers"])

    time_machine.move_to(start + datetime.timedelta(hours=24, minutes=1))
    assert len(after["headers"]["webhook-signature"].split()) == 1
    assert Webhook(new).verify(after["body"], after["headers"])
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after["body"], after["headers"])


def test_a_second_rotation_ends_the_first_secret_at_once(endpoint, secretariat_user, time_machine):
    first = endpoint.secret
    endpoint = partners.webhook_endpoint_rotate_secret(actor=secretariat_user, endpoint=endpoint)
    second = endpoint.secret
    endpoint = partners.webhook_endpoint_rotate_secret(actor=secretariat_user, endpoint=endpoint)

    assert endpoint.signing_secrets(timezone.now()) == [endpoint.secret, second]
    assert first not in endpoint.signing_secrets(timezone.now())
