# ruff: noqa: F811  (fixtures imported from the order record's tests, requested by name)
"""Security headers on every kind of response (page, API, error pages, the API docs), and no
inline code in the pages: every <script> and <style> has a source or the response's CSP
nonce, and no element carries an event handler, a style attribute or a javascript: URL
(which the policy would block, breaking the page)."""

import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import include, path, reverse

from core.api_docs import REDOC_STYLE_HASHES
from tests.brokerage.test_record_pages import FY, history, people, today  # noqa: F401
from tests.factories import UserFactory

PERMISSIONS_OFF = ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()")


def boom(request):
    raise RuntimeError("a fault in a view")


# This module is also the URLconf of the 500 test: the platform's URLs plus one that fails.
urlpatterns = [path("boom/", boom), path("api/boom/", boom), path("", include("config.urls"))]
handler404 = "core.api.not_found"
handler500 = "core.api.server_error"


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part
    }


def assert_secure_headers(response):
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"][0] == "'self'"
    assert all(s == "'self'" or s.startswith("'nonce-") for s in policy["script-src"])
    # Hashes: the two <style> elements Redoc's bundle adds (core.api_docs), on its page only.
    assert all(s == "'self'" or s.startswith(("'nonce-", "'sha256-")) for s in policy["style-src"])
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert response["Referrer-Policy"] == "same-origin"
    for feature in PERMISSIONS_OFF:
        assert feature in response["Permissions-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


class _InlineCode(HTMLParser):
    """Collects what a nonce-based policy would block."""

    def __init__(self, nonce: str | None):
        super().__init__()
        self.nonce = nonce
        self.problems: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self.scripts += 1
            if not attributes.get("src") and (
                not self.nonce or attributes.get("nonce") != self.nonce
            ):
                self.problems.append(f"inline <script> without the nonce: {attrs}")
        if tag == "style" and (not self.nonce or attributes.get("nonce") != self.nonce):
            self.problems.append("inline <style> without the nonce")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}= on <{tag}>")
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>: {value}")
            if name in ("href", "src", "action", "formaction") and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL on <{tag}>")


def inline_code(response) -> list[str]:
    nonces = re.findall(r"'nonce-([^']+)'", response["Content-Security-Policy"])
    parser = _InlineCode(nonces[0] if nonces else None)
    parser.feed(response.content.decode())
    return parser.problems


def _pages(history, people, superuser):
    inquiry = next(iter(history.inquiries.values()))
    project = history.projects["A"]
    network = history.network.pk
    return [
        (None, reverse("login")),
        (None, reverse("guest_inquiry")),
        (history.secretariat, reverse("home")),
        (history.secretariat, reverse("inquiry_queue")),
        (history.secretariat, reverse("inquiry_detail", args=[inquiry.pk])),
        (history.secretariat, reverse("referral_list")),
        (history.secretariat, f"{reverse('record_dashboard', args=[network])}?{FY}"),
        (history.secretariat, reverse("record_probation", args=[network])),
        (people["committee"], reverse("home")),
        (history.buyer, reverse("home")),
        (history.buyer, reverse("my_inquiries")),
        (history.buyer, reverse("inquiry_detail", args=[inquiry.pk])),
        (history.lead1, reverse("home")),
        (history.lead1, reverse("call_board")),
        (history.lead1, reverse("project_list")),
        (history.lead1, reverse("project_board", args=[project.pk])),
        (history.m1, reverse("home")),
        (history.m1, reverse("company_edit", args=[history.m1.company_id])),
        (superuser, "/admin/"),
        (superuser, "/admin/auth/group/"),
        (superuser, "/admin/auth/group/add/"),
        (None, "/api/docs/"),
        (None, "/api/redoc/"),
    ]


@pytest.mark.django_db
def test_main_pages_carry_the_headers_and_no_inline_code(client, history, people, today):
    superuser = UserFactory(is_superuser=True, is_staff=True)
    problems = {}
    for user, url in _pages(history, people, superuser):
        client.logout()
        if user is not None:
            client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert_secure_headers(response)
        if found := inline_code(response):
            problems[url] = found
    assert problems == {}


@pytest.mark.django_db
def test_the_api_docs_scripts_carry_this_responses_nonce(client):
    first, second = client.get("/api/docs/"), client.get("/api/docs/")
    nonce = re.findall(r"'nonce-([^']+)'", first["Content-Security-Policy"])
    assert len(nonce) == 2  # script-src and style-src, one nonce per response
    assert nonce[0] == nonce[1] and f'<script nonce="{nonce[0]}">' in first.content.decode()
    assert nonce[0] not in second["Content-Security-Policy"]  # a new one each time
    redoc = client.get("/api/redoc/")
    redoc_nonce = re.findall(r"'nonce-([^']+)'", redoc["Content-Security-Policy"])[0]
    assert f'redocSettings.nonce = "{redoc_nonce}"' in redoc.content.decode()
    assert "fonts.googleapis.com" not in redoc.content.decode()  # no CDN
    policy = _policy(redoc)
    assert policy["style-src"][2:] == REDOC_STYLE_HASHES and policy["worker-src"][1] == "blob:"
    assert "sha256" not in first["Content-Security-Policy"] and "worker-src" not in _policy(first)


def test_inline_code_is_found_where_it_would_be_blocked():
    """The checker itself: each kind of inline code is reported."""

    class Fake(dict):
        content = (
            b'<script>alert(1)</script><script nonce="n1">ok()</script><script src="/a.js">'
            b'</script><a href="javascript:go()" onclick="x()">x</a><svg style="x"></svg>'
            b"<style>p{}</style>"
        )

    response = Fake({"Content-Security-Policy": "script-src 'self' 'nonce-n1'"})
    found = inline_code(response)
    assert len(found) == 5, found


@pytest.mark.django_db
def test_an_api_response_carries_the_headers(api, buyer_user):
    response = api.as_(buyer_user).get("/api/v1/inquiries/")
    assert response.status_code == 200
    assert_secure_headers(response)
    anonymous = api.get("/api/v1/inquiries/")
    assert anonymous.status_code in (401, 403)
    assert_secure_headers(anonymous)


@pytest.mark.django_db
def test_error_pages_carry_the_headers(client, buyer_user):
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    assert_secure_headers(missing)
    assert inline_code(missing) == []
    api_missing = client.get("/api/v1/no-such-thing/")
    assert api_missing.status_code == 404
    assert_secure_headers(api_missing)
    client.force_login(buyer_user)
    forbidden = client.get(reverse("inquiry_queue"))
    assert forbidden.status_code == 403
    assert_secure_headers(forbidden)
    assert inline_code(forbidden) == []
    health = Client().get("/healthz")
    assert_secure_headers(health)


@pytest.mark.django_db
@pytest.mark.urls("tests.test_headers")
def test_a_server_error_carries_the_headers():
    client = Client(raise_request_exception=False)
    page = client.get("/boom/")
    assert page.status_code == 500
    assert_secure_headers(page)
    assert inline_code(page) == []
    api = client.get("/api/boom/")
    assert api.status_code == 500 and api["Content-Type"].startswith("application/json")
    assert_secure_headers(api)
