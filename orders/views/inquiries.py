"""The one address per inquiry (the staff's screening page, the buyer's page or the
call), and its drawings: added by the buyer or the secretariat, served to those who may see
them."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _

from core.errors import BrokerageError, NotAllowed
from members.pages import (
    POST,
    SIGNED_IN,
    page,
    require,
)
from members.permissions import roles_of

from ..forms import (
    AttachmentForm,
)
from ..models import (
    Inquiry,
)
from .buyer import _render_buyer
from .common import (
    _attach_all,
    _check_files,
    _is_buyer_of,
    visible_inquiries,
)
from .screening import _render_staff


@page(SIGNED_IN, scope=visible_inquiries)
def inquiry_detail(request, inquiry: Inquiry):
    """One address per inquiry (the notifications link here): the staff see the screening
    page, the buyer its own page, a lead company the call."""
    if roles_of(request.user).is_staff_of(inquiry.network_id):
        return _render_staff(request, inquiry)
    if _is_buyer_of(request.user, inquiry):
        return _render_buyer(request, inquiry)
    return redirect("call_detail", pk=inquiry.pk)


@page(SIGNED_IN, scope=visible_inquiries, methods=POST)
def attachment_upload(request, inquiry: Inquiry):
    """The buyer or the secretariat adds drawings to an inquiry being handled."""
    staff = roles_of(request.user).is_secretariat(inquiry.network_id)
    require(staff or _is_buyer_of(request.user, inquiry))
    form = AttachmentForm(request.POST, request.FILES, prefix="attach")
    if form.is_valid() and _check_files(form, form.cleaned_data["files"]):
        try:
            with transaction.atomic():
                _attach_all(actor=request.user, inquiry=inquiry, uploads=form.cleaned_data["files"])
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except ValidationError as exc:
            form.add_error("files", exc.messages)
        except BrokerageError as exc:
            form.add_error("files", exc.message)
        else:
            messages.success(request, _("The files were added."))
            return redirect("inquiry_detail", pk=inquiry.pk)
    if staff:
        return _render_staff(request, inquiry, bound={"attach": form})
    return _render_buyer(request, inquiry, bound={"attach": form})


@page(SIGNED_IN, scope=visible_inquiries)
def attachment_download(request, inquiry: Inquiry, attachment_pk: int):
    """Serve a drawing to those who may see the inquiry; lead companies not when an NDA is
    needed. Never a public media address."""
    attachment = get_object_or_404(inquiry.attachments.all(), pk=attachment_pk)
    privileged = roles_of(request.user).is_staff_of(inquiry.network_id) or _is_buyer_of(
        request.user, inquiry
    )
    require(
        privileged or not inquiry.nda_required,
        _("The drawings are shared after the NDA is signed."),
    )
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
