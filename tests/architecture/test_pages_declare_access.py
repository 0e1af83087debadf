"""Every page declares who may open it and, when its URL names an object, where that object
is looked up (members.pages, issue 14): the pages' counterpart of core.api.ScopedViewSet.

The URL resolver is walked as Django serves it, so a page added anywhere, in any app, is
checked; the API (its own base view), the admin, the language switch, the health checks
and static files are not pages."""

import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from members.models import Network, StaffRole
from members.pages import PUBLIC, SECRETARIAT, SIGNED_IN, Page, PageSpec, page
from tests.factories import NetworkStaffFactory, UserFactory

NOT_PAGES = ("api/", "admin/", "i18n/", "healthz", "readyz", "static/", "media/")
# The first whole-number argument of a route names the object the page shows.
OBJECT_ARGUMENT = re.compile(r"<int:(\w+)>")


def _routes(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern).lstrip("^")
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def _pages():
    return [
        (route, pattern)
        for route, pattern in _routes(get_resolver().url_patterns)
        if not route.startswith(NOT_PAGES)
    ]


def test_the_walk_finds_the_pages():
    routes = {route for route, _pattern in _pages()}

    assert "inquiries/<int:pk>/" in routes
    assert "billing/runs/<int:pk>/" in routes
    assert "" in routes  # home
    assert not any(route.startswith("api/") for route in routes)


def test_every_page_declares_its_access():
    undeclared = sorted(
        f"{route} ({pattern.name})"
        for route, pattern in _pages()
        if not isinstance(getattr(pattern.callback, "page", None), PageSpec)
    )

    assert not undeclared, (
        "pages without a declared access (members.pages: @page(access=…) or a Page "
        f"subclass): {undeclared}"
    )


def test_every_page_of_one_object_looks_it_up_in_a_scope():
    unscoped = []
    for route, pattern in _pages():
        spec = getattr(pattern.callback, "page", None)
        named = OBJECT_ARGUMENT.search(route)
        if spec is None or named is None:
            continue
        if spec.scope is None or spec.lookup != named.group(1):
            unscoped.append(f"{route} ({pattern.name})")

    assert not unscoped, f"object pages without a scope for their object: {sorted(unscoped)}"


def test_a_page_cannot_be_declared_without_an_access_rule():
    with pytest.raises(ImproperlyConfigured):
        page("secretariat")

    with pytest.raises(ImproperlyConfigured):

        class Undeclared(Page):
            pass

    with pytest.raises(ImproperlyConfigured):

        class NoScope(Page):
            access = PUBLIC
            lookup = "pk"


def test_the_declared_rules_are_the_ones_served():
    spec = get_resolver().resolve("/inquiries/queue/").func.page

    assert spec.access.name == "secretariat or committee"
    assert get_resolver().resolve("/partners/").func.page.access is SECRETARIAT


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("inquiry_queue", 403),  # the staff's queue: a refusal
        ("referral_list", 403),
        ("partner_list", 404),  # partner pages are not told to outsiders
    ],
)
def test_a_secretariat_page_refuses_a_member(client, member_user, name, expected):
    client.force_login(member_user)

    assert client.get(reverse(name)).status_code == expected


@pytest.mark.django_db
def test_a_network_page_of_the_secretariat(client, network, other_network, member_user):
    """The contract templates: 403 for a member, 404 for another network's secretariat, 200
    for the network's own."""
    url = reverse("contract_template_list", args=[network.pk])
    client.force_login(member_user)
    assert client.get(url).status_code == 403

    other = NetworkStaffFactory(network=other_network, role=StaffRole.SECRETARIAT).user
    client.force_login(other)
    assert client.get(url).status_code == 404

    own = NetworkStaffFactory(network=network, role=StaffRole.SECRETARIAT).user
    client.force_login(own)
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_a_page_sends_a_visitor_to_the_login(client):
    response = client.get(reverse("inquiry_queue"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_a_class_page_of_one_object_finds_it_in_its_scope(rf, network, other_network):
    class NetworkPage(Page):
        access = SIGNED_IN
        lookup = "network_id"

        @classmethod
        def scope(cls, request):
            return Network.objects.filter(pk=network.pk)

        def get(self, request, network_id):
            return HttpResponse(self.object.name)

    view = NetworkPage.as_view()
    request = rf.get("/")
    request.user = UserFactory()

    assert view(request, network_id=network.pk).content.decode() == network.name
    with pytest.raises(Http404):
        view(request, network_id=other_network.pk)
    assert view.page.scope is not None and view.page.lookup == "network_id"
