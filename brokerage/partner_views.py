"""The secretariat's partner pages: partners, their API keys (the full key shown once),
webhook endpoints, the usage log and the webhook delivery log with re-send.

Every page looks the partner up through `partners.partner_list(viewer=…)`: another
network's partner, or any partner for someone outside a secretariat, is 404.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import BrokerageError
from members.models import Network
from members.pages import POST, SECRETARIAT, page
from members.permissions import roles_of

from . import feed, partners
from .models import (
    ApiKeyUsage,
    ApiScope,
    DeliveryStatus,
    PartnerKind,
    WebhookEndpoint,
)

DELIVERY_PAGE_SIZE = 50


def _secretariat_networks(user):
    roles = roles_of(user)
    if roles.is_platform_admin:
        return Network.objects.filter(is_active=True)
    return Network.objects.filter(pk__in=roles.secretariat_network_ids)


def _partners(request):
    """The pages' scope: the partners of the viewer's networks (another's is 404)."""
    return partners.partner_list(viewer=request.user)


# A partner page is not told to whoever serves no secretariat: 404, not 403.
PARTNER_PAGE = {"access": SECRETARIAT, "hide": True}


def _apply_errors(form, exc) -> None:
    if isinstance(exc, BrokerageError):
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
    else:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)


class PartnerForm(forms.Form):
    network = forms.ModelChoiceField(queryset=Network.objects.none(), label=gettext_lazy("network"))
    name = forms.CharField(max_length=200, label=gettext_lazy("name"))
    kind = forms.ChoiceField(choices=PartnerKind.choices, label=gettext_lazy("kind"))
    linked_network = forms.ModelChoiceField(
        queryset=Network.objects.filter(is_active=True),
        required=False,
        label=gettext_lazy("network on this platform"),
        help_text=gettext_lazy(
            "When the partner network runs on this platform: referrals reach it."
        ),
    )
    contact_email = forms.EmailField(required=False, label=gettext_lazy("contact e-mail"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        networks = _secretariat_networks(user)
        self.fields["network"].queryset = networks
        if networks.count() == 1:
            self.fields["network"].initial = networks.first()


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=50,
        label=gettext_lazy("name"),
        help_text=gettext_lazy("e.g. the system that uses it"),
    )
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("scopes"),
    )


class EndpointForm(forms.Form):
    url = forms.URLField(max_length=500, label=gettext_lazy("URL"), assume_scheme="https")
    description = forms.CharField(max_length=200, required=False, label=gettext_lazy("description"))
    event_kinds = forms.MultipleChoiceField(
        choices=[(kind, kind) for kind in feed.PUBLIC_EVENTS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=gettext_lazy("events"),
        help_text=gettext_lazy("None chosen: every event the partner may see."),
    )


@page(**PARTNER_PAGE)
def partner_list(request):
    form = PartnerForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            organisation = partners.partner_create(actor=request.user, **data)
        except (BrokerageError, ValidationError) as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Partner %(name)s admitted.") % {"name": organisation})
            return redirect("partner_detail", organisation.pk)
    return render(
        request,
        "brokerage/partners/list.html",
        {"partners": partners.partner_list(viewer=request.user), "form": form},
    )


def _detail(
    request,
    organisation,
    *,
    key_form=None,
    endpoint_form=None,
    new_key=None,
    new_secret=None,
    status=200,
):
    keys = organisation.api_keys.order_by("-created")
    usage = ApiKeyUsage.objects.filter(key__organisation=organisation).select_related("key")[:20]
    return render(
        request,
        "brokerage/partners/detail.html",
        {
            "partner": organisation,
            "keys": keys,
            "endpoints": organisation.webhook_endpoints.all(),
            "usage": usage,
            "key_form": key_form or ApiKeyForm(),
            "endpoint_form": endpoint_form or EndpointForm(),
            "new_key": new_key,
            "new_secret": new_secret,
            "now": timezone.now(),
        },
        status=status,
    )


@page(**PARTNER_PAGE, scope=_partners)
def partner_detail(request, organisation):
    return _detail(request, organisation)


@page(**PARTNER_PAGE, scope=_partners, methods=POST)
def partner_toggle(request, organisation):
    partners.partner_set_active(
        actor=request.user, organisation=organisation, active=not organisation.is_active
    )
    return redirect("partner_detail", organisation.pk)


@page(**PARTNER_PAGE, scope=_partners, methods=POST)
def api_key_create(request, organisation):
    """Issue a key and show it on this response only: it is never stored nor shown again."""
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            key, raw = partners.api_key_create(
                actor=request.user, organisation=organisation, **form.cleaned_data
            )
        except BrokerageError as exc:
            _apply_errors(form, exc)
        else:
            return _detail(request, organisation, new_key={"key": key, "raw": raw}, status=201)
    return _detail(request, organisation, key_form=form, status=400)


@page(**PARTNER_PAGE, scope=_partners, methods=POST)
def api_key_revoke(request, organisation, prefix: str):
    key = get_object_or_404(organisation.api_keys, prefix=prefix)
    partners.api_key_revoke(actor=request.user, key=key)
    messages.success(request, _("Key %(prefix)s revoked.") % {"prefix": key.prefix})
    return redirect("partner_detail", organisation.pk)


@page(**PARTNER_PAGE, scope=_partners, methods=POST)
def webhook_endpoint_create(request, organisation):
    form = EndpointForm(request.POST)
    if form.is_valid():
        try:
            endpoint = partners.webhook_endpoint_create(
                actor=request.user, organisation=organisation, **form.cleaned_data
            )
        except (BrokerageError, ValidationError) as exc:
            _apply_errors(form, exc)
        else:
            # The secret is on this response only; the pages show its fingerprint afterwards.
            return _detail(request, organisation, new_secret=endpoint, status=201)
    return _detail(request, organisation, endpoint_form=form, status=400)


@page(**PARTNER_PAGE, scope=_partners, methods=POST)
def webhook_endpoint_rotate(request, organisation, endpoint_pk: int):
    """A new signing secret, shown on this response only; the old one signs too for the
    overlap."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_pk, organisation=organisation)
    endpoint = partners.webhook_endpoint_rotate_secret(actor=request.user, endpoint=endpoint)
    return _detail(request, organisation, new_secret=endpoint)


@page(**PARTNER_PAGE, scope=_partners, methods=POST)
def webhook_endpoint_toggle(request, organisation, endpoint_pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_pk, organisation=organisation)
    partners.webhook_endpoint_set_active(
        actor=request.user, endpoint=endpoint, active=not endpoint.is_active
    )
    return redirect("partner_detail", organisation.pk)


@page(**PARTNER_PAGE, scope=_partners)
def delivery_log(request, organisation):
    deliveries = partners.delivery_list(organisation=organisation)
    status = request.GET.get("status", "")
    if status in DeliveryStatus.values:
        deliveries = deliveries.filter(status=status)
    page = Paginator(deliveries, DELIVERY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "brokerage/partners/deliveries.html",
        {
            "partner": organisation,
            "page": page,
            "status": status,
            "statuses": DeliveryStatus.choices,
            "querystring": f"status={status}" if status else "",
        },
    )


@page(**PARTNER_PAGE, scope=_partners, methods=POST)
def delivery_resend(request, organisation, delivery_pk: int):
    delivery = get_object_or_404(partners.delivery_list(organisation=organisation), pk=delivery_pk)
    partners.webhook_delivery_resend(actor=request.user, delivery=delivery)
    messages.success(request, _("Delivery %(id)s queued again.") % {"id": delivery.message_id})
    return redirect("partner_deliveries", organisation.pk)
