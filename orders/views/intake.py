"""A new inquiry: the buyer's form, and the secretariat's entry of one taken by phone."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import BrokerageError, NotAllowed
from members import selectors as member_selectors
from members.forms import apply_service_error
from members.models import (
    Network,
)
from members.pages import (
    BUYER,
    SECRETARIAT,
    networks_kept,
    page,
)

from .. import selectors, services
from ..forms import (
    InquiryForm,
    PhonedBuyerForm,
)
from ..models import (
    Inquiry,
)
from .common import (
    _attach_all,
    _check_files,
    _render,
)


def _submit(
    form: InquiryForm,
    *,
    actor,
    network: Network,
    idempotency_key: str,
    buyer_form: PhonedBuyerForm | None = None,
) -> Inquiry | None:
    """Submit the inquiry and attach its files as one unit: a refused file, or a refused
    inquiry, leaves nothing behind. A repeat with the same key returns the first inquiry.
    With `buyer_form`, the secretariat enters an inquiry taken by phone for that buyer."""
    uploads = form.cleaned_data.get("files") or []
    if not _check_files(form, uploads):
        return None
    existed = bool(idempotency_key) and (
        selectors.inquiry_list(viewer=actor)
        .filter(entered_by=actor, idempotency_key=idempotency_key)
        .exists()
    )
    try:
        with transaction.atomic():
            inquiry = services.inquiry_submit(
                actor=actor,
                network=network,
                data=form.service_data(),
                idempotency_key=idempotency_key,
                **({"buyer_data": buyer_form.buyer_data()} if buyer_form is not None else {}),
            )
            if not existed:
                _attach_all(actor=actor, inquiry=inquiry, uploads=uploads)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "file" in exc.error_dict:
            form.add_error("files", exc.error_dict["file"])
        elif (
            buyer_form is not None
            and hasattr(exc, "error_dict")
            and set(exc.error_dict) <= set(buyer_form.fields)
        ):
            apply_service_error(buyer_form, exc)
        else:
            apply_service_error(form, exc)
        return None
    except BrokerageError as exc:
        if buyer_form is not None and exc.field == "buyer":
            buyer_form.add_error(None, exc.message)
        else:
            apply_service_error(form, exc)
        return None
    return inquiry


def _buyer_networks(request) -> list[Network]:
    return list(
        member_selectors.network_list(viewer=request.user)
        .prefetch_related(None)
        .filter(is_active=True)
    )


@page(BUYER, refusal=gettext_lazy("Only buyers send inquiries from this page."))
def inquiry_create(request):
    networks = _buyer_networks(request)
    if not networks:
        raise Http404
    form = InquiryForm(request.POST or None, request.FILES or None, networks=networks)
    if request.method == "POST" and form.is_valid():
        inquiry = _submit(
            form,
            actor=request.user,
            network=form.cleaned_data["network"],
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
        if inquiry is not None:
            messages.success(
                request,
                _("Your inquiry %(ref)s was sent. The secretariat will get back to you.")
                % {"ref": inquiry.reference},
            )
            return redirect("inquiry_detail", pk=inquiry.pk)
    return _render(
        request,
        "orders/inquiry_form.html",
        {"form": form, "network": networks[0] if len(networks) == 1 else None},
    )


@page(
    SECRETARIAT,
    scope=lambda request: networks_kept(request).filter(is_active=True),
    lookup="network_id",
)
def inquiry_phone(request, network: Network):
    """The secretariat enters an inquiry taken by phone, with who the buyer is: 403 for
    whoever serves no secretariat, 404 for another network."""
    form = InquiryForm(request.POST or None, request.FILES or None, networks=[network])
    buyer_form = PhonedBuyerForm(request.POST or None, prefix="buyer")
    if request.method == "POST" and form.is_valid() and buyer_form.is_valid():
        inquiry = _submit(
            form,
            actor=request.user,
            network=network,
            idempotency_key=form.cleaned_data["idempotency_key"],
            buyer_form=buyer_form,
        )
        if inquiry is not None:
            messages.success(
                request,
                _("The phoned-in inquiry %(ref)s was entered.") % {"ref": inquiry.reference},
            )
            return redirect("inquiry_detail", pk=inquiry.pk)
    return _render(
        request,
        "orders/inquiry_phone.html",
        {"form": form, "buyer_form": buyer_form, "network": network},
    )
