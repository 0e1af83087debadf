"""The base of every page, as core.api.ScopedViewSet is of every API view: a page declares
who may open it (`access`) and, when its URL names an object, where that object is looked
up (`scope`), so no page can skip either. A function view is wrapped by `@page(...)`, a
class view inherits `Page`; tests/architecture/test_pages_declare_access.py walks the URLs
and fails on a page that declares neither.

What a refused visitor gets, the same on every page:
- not signed in (any access but PUBLIC): the login page, as `login_required`;
- another HTTP method than `methods`: 405, as `require_http_methods`;
- signed in without the role: 403 (404 with `hide=True`, for pages whose existence is
  not told to outsiders);
- an object outside the scope: 404;
- `NotAllowed` raised by the page or a service it calls: 403 with its message.

The rules themselves (who is the secretariat of which network, …) live in
members.permissions.Roles, shared with the API and the services.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.views import View
from django.views.decorators.http import require_http_methods

from core.errors import NotAllowed

from . import selectors
from .permissions import Roles, roles_of


@dataclass(frozen=True)
class Access:
    """Who may open a page: a name (for reading and for the architecture test) and the rule,
    a question put to the viewer's Roles."""

    name: str
    allows: Callable[[Roles], bool]

    def __repr__(self) -> str:
        return f"Access({self.name})"

    def __or__(self, other: "Access") -> "Access":
        return Access(f"{self.name} or {other.name}", lambda r: self.allows(r) or other.allows(r))


PUBLIC = Access("public", lambda roles: True)
SIGNED_IN = Access("signed in", lambda roles: roles.user.is_authenticated)
SECRETARIAT = Access("secretariat", lambda roles: roles.is_any_secretariat)
COMMITTEE = Access("committee", lambda roles: roles.is_any_committee)
STAFF = Access("secretariat or committee", lambda roles: roles.is_any_staff)
BUYER = Access("buyer", lambda roles: roles.is_buyer)
COMPANY = Access("user of a company", lambda roles: roles.company_id is not None)
LEAD = Access("user of a lead company", lambda roles: bool(roles.lead_network_ids))
MEMBER = Access("user of a member company", lambda roles: bool(roles.member_network_ids))

POST = ("POST",)
Scope = Callable[[HttpRequest], QuerySet]


@dataclass(frozen=True)
class PageSpec:
    """What a page declared; kept on the view as `view.page` for the architecture test."""

    access: Access
    scope: Scope | None = None
    lookup: str = "pk"
    refusal: str | None = None
    hide: bool = False
    methods: tuple[str, ...] | None = None
    field: str = "pk"

    def admit(self, request) -> None:
        """Raise unless the signed-in viewer may open the page (404 when hidden)."""
        if self.access.allows(roles_of(request.user)):
            return
        if self.hide:
            raise Http404
        raise NotAllowed(self.refusal or "")

    def lookup_object(self, request, value):
        """The object the URL names, from the scope only: 404 for anything else."""
        return get_object_or_404(self.scope(request), **{self.field: value})


def require(allowed: bool, refusal: str = "") -> None:
    """A page's own check on its object (the rule asked of Roles): NotAllowed → 403."""
    if not allowed:
        raise NotAllowed(refusal)


def page(
    access: Access,
    *,
    scope: Scope | None = None,
    lookup: str = "pk",
    refusal: str | None = None,
    hide: bool = False,
    methods: tuple[str, ...] | None = None,
    field: str = "pk",
):
    """Declare a function view a page. With `scope` (a function of the request returning
    the queryset the viewer may see), the URL's `lookup` argument is replaced by the object
    whose `field` it names, passed as the view's second positional argument (None when the
    URL has no such argument, e.g. the ledger's own company)."""
    if not isinstance(access, Access):
        raise ImproperlyConfigured("page(access=…) takes one of members.pages' Access rules")
    spec = PageSpec(access, scope, lookup, refusal, hide, methods, field)

    def decorate(view):
        @wraps(view)
        def opened(request, *args, **kwargs):
            try:
                spec.admit(request)
                if spec.scope is None:
                    return view(request, *args, **kwargs)
                value = kwargs.pop(spec.lookup, None)
                found = None if value is None else spec.lookup_object(request, value)
                return view(request, found, *args, **kwargs)
            except NotAllowed as exc:
                raise PermissionDenied(exc.message) from exc

        guarded = opened
        if methods:
            guarded = require_http_methods(list(methods))(guarded)
        if access is not PUBLIC:
            guarded = login_required(guarded)
        guarded.page = spec
        return guarded

    return decorate


class Page(View):
    """Base of a class-based page: subclasses set `access` (and may set `refusal`, `hide`).
    An object page also sets `lookup` (the URL argument) and defines the classmethod
    `scope(request)` (the queryset the viewer may see; named apart from the generic views'
    get_queryset, which takes no request); the object is then on `self.object` before the
    handler runs."""

    access: Access
    refusal: str | None = None
    hide: bool = False
    lookup: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not isinstance(getattr(cls, "access", None), Access):
            raise ImproperlyConfigured(f"{cls.__name__} must declare its page access")
        if cls.lookup and not callable(getattr(cls, "scope", None)):
            raise ImproperlyConfigured(f"{cls.__name__} names an object but has no scope")

    @classmethod
    def page_spec(cls) -> PageSpec:
        scope = cls.scope if cls.lookup else None
        return PageSpec(cls.access, scope, cls.lookup or "pk", cls.refusal, cls.hide)

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        view.page = cls.page_spec()
        return view

    def dispatch(self, request, *args, **kwargs):
        if self.access is not PUBLIC and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        spec = self.page_spec()
        try:
            spec.admit(request)
            if self.lookup:
                self.object = spec.lookup_object(request, kwargs[self.lookup])
            return super().dispatch(request, *args, **kwargs)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc


# ---------------------------------------------------------------------------------------
# Scopes the apps' pages share: the networks a viewer keeps.


def networks_kept(request, *, committee_too: bool = False) -> QuerySet:
    """The networks whose secretariat (and with `committee_too`, committee) the viewer sits
    in; every network for a platform administrator."""
    roles = roles_of(request.user)
    networks = selectors.network_list(viewer=request.user).prefetch_related(None)
    if roles.is_platform_admin:
        return networks
    ids = roles.secretariat_network_ids
    if committee_too:
        ids = ids | roles.committee_network_ids
    return networks.filter(pk__in=ids)


def networks_seen(request) -> QuerySet:
    """The networks the viewer may see, without the catalogue's prefetches."""
    return selectors.network_list(viewer=request.user).prefetch_related(None)
