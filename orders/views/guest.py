"""Guest inquiries: the form is saved as a request and a confirmation link e-mailed (through
the request's outbox, after commit); the inquiry is created when the visitor confirms.
Files are not taken from guests (unconfirmed uploads would be a spam store); once confirmed
the buyer adds them on the inquiry page."""

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from core.errors import BrokerageError
from core.lockout import client_ip
from members.pages import (
    PUBLIC,
    page,
)
from members.permissions import roles_of

from .. import guests
from ..forms import (
    GuestBuyerForm,
    InquiryForm,
)
from .common import (
    _render,
)
from .intake import _buyer_networks


def _guest_inquiry_data(form: InquiryForm) -> dict:
    """The inquiry fields, JSON-ready for the saved request."""
    data = form.service_data()
    data["material"] = data["material"].pk
    data["processes"] = [p.pk for p in data["processes"]]
    data["desired_delivery_date"] = data["desired_delivery_date"].isoformat()
    for name in ("weight_kg", "finish_ra_input"):
        data[name] = None if data[name] is None else str(data[name])
    return data


@page(PUBLIC)
def guest_inquiry(request):
    if request.user.is_authenticated and roles_of(request.user).is_buyer:
        return redirect("inquiry_create")
    networks = _buyer_networks(request)
    if not networks:
        raise Http404
    form = InquiryForm(request.POST or None, networks=networks)
    del form.fields["files"]
    buyer_form = GuestBuyerForm(request.POST or None, prefix="buyer")
    status = 200
    if request.method == "POST" and buyer_form.is_bot:
        # The same answer as a real request, so a bot learns nothing; nothing saved or sent.
        return _render(
            request,
            "orders/guest_sent.html",
            {"email": buyer_form.data.get(buyer_form.add_prefix("email"), "")},
        )
    if request.method == "POST" and form.is_valid() and buyer_form.is_valid():
        try:
            guests.guest_inquiry_request(
                network=form.cleaned_data["network"],
                inquiry_data=_guest_inquiry_data(form),
                buyer_data=buyer_form.buyer_data(),
                # The address as the login lockout sees it (PROXY_COUNT proxies deep).
                ip_address=client_ip(request),
                language=request.LANGUAGE_CODE,
            )
        except BrokerageError as exc:
            buyer_form.add_error(None, exc.message)  # shown at the top, in "About you"
            status = exc.status_code  # 429 for the hourly limit
        else:
            return _render(
                request, "orders/guest_sent.html", {"email": buyer_form.cleaned_data["email"]}
            )
    return _render(
        request,
        "orders/guest_form.html",
        {
            "form": form,
            "buyer_form": buyer_form,
            "network": networks[0] if len(networks) == 1 else None,
        },
        status=status,
    )


@page(PUBLIC)  # the signed token in the link is the scope: it names one request
def guest_inquiry_confirm(request, token: str):
    """GET shows what will be sent (mail scanners follow links); POST creates it, once."""
    try:
        guest = guests.guest_request_from_token(token)
    except guests.GuestLinkError as exc:
        return _render(request, "orders/guest_invalid.html", {"message": exc.message}, status=400)
    if guest.status == guest.Status.CONFIRMED:
        # A repeated link or double click: the inquiry exists; its page asks who may see it.
        return redirect("inquiry_detail", pk=guest.inquiry_id)
    if request.method != "POST":
        return _render(
            request,
            "orders/guest_confirm.html",
            {
                "data": guests.guest_inquiry_data(guest),
                "buyer": guest.payload["buyer"],
                "network": guest.network,
                "reference": guest.reference,
            },
        )
    try:
        inquiry = guests.guest_inquiry_confirm(guest_request=guest)
    except guests.GuestLinkError as exc:
        if exc.code == guests.GuestErrorCode.HAS_ACCOUNT:
            messages.error(request, exc.message)
            return redirect("login")
        return _render(request, "orders/guest_invalid.html", {"message": exc.message}, status=400)
    except (ValidationError, BrokerageError) as exc:
        message = exc.message if isinstance(exc, BrokerageError) else " ".join(exc.messages)
        return _render(request, "orders/guest_invalid.html", {"message": message}, status=400)
    user = inquiry.buyer.user
    if user is not None and not user.has_usable_password():
        # The link proved the address; an account without a password is signed in here.
        login(request, user, backend="members.backends.ModelBackend")
    messages.success(
        request,
        _("Your inquiry %(ref)s was sent. The secretariat will get back to you.")
        % {"ref": inquiry.reference},
    )
    return redirect("inquiry_detail", pk=inquiry.pk)
