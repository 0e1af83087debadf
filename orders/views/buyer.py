"""The buyer's pages: its inquiries, the page of one, its answer to a question, its
withdrawal."""

from django.contrib import messages
from django.contrib.auth.tokens import default_token_generator
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from core.pagination import ExactPaginator
from members import selectors as member_selectors
from members.forms import call_service
from members.pages import (
    POST,
    SIGNED_IN,
    page,
    require,
)
from members.permissions import roles_of

from .. import selectors, services
from ..forms import (
    AnswerForm,
    AttachmentForm,
    WithdrawForm,
)
from ..models import (
    Inquiry,
)
from .common import (
    ATTACHABLE,
    QUEUE_PAGE_SIZE,
    WITHDRAWABLE,
    S,
    _confirmed_award,
    _is_buyer_of,
    _render,
    _stage_rows,
    visible_inquiries,
)


@page(SIGNED_IN)
def my_inquiries(request):
    roles = roles_of(request.user)
    inquiries = selectors.inquiry_list(viewer=request.user)
    # The buyer's own, by the buyer's id: counted on the inquiries alone.
    if roles.is_buyer:
        inquiries = inquiries.filter(buyer_id=request.user.buyer.pk)
    else:
        inquiries = inquiries.none()
    page = ExactPaginator(inquiries, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(
        request,
        "orders/my_inquiries.html",
        {"page": page, "is_buyer": roles.is_buyer},
    )


def _render_buyer(request, inquiry: Inquiry, *, bound: dict | None = None, status: int = 200):
    bound = bound or {}
    award = _confirmed_award(inquiry)
    context = {
        "inquiry": inquiry,
        "attachments": inquiry.attachments.all(),
        "timeline": selectors.timeline_entries(inquiry, viewer=request.user),
        "award": award,
        # The lead as the buyer may see it (members.selectors: no contacts for buyers).
        "lead": member_selectors.company_card(viewer=request.user, company=award.company)
        if award
        else None,
        "offer": award.application if award else None,
        "answer_form": bound.get("answer") or AnswerForm(prefix="answer")
        if inquiry.status == S.QUESTION
        else None,
        "withdraw_form": bound.get("withdraw") or WithdrawForm(prefix="withdraw")
        if inquiry.status in WITHDRAWABLE
        else None,
        "attach_form": bound.get("attach") or AttachmentForm(prefix="attach")
        if inquiry.status in ATTACHABLE
        else None,
        "question": inquiry.messages.filter(kind="question").last()
        if inquiry.status == S.QUESTION
        else None,
        "password_link": _password_link(request.user),
        "stage_rows": _stage_rows(request, inquiry),
    }
    return _render(request, "orders/inquiry_buyer.html", context, status=status)


def _password_link(user) -> str | None:
    """A guest's account has no password: offer to set one (Django's reset-confirm page)."""
    if user.has_usable_password():
        return None
    return reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


@page(SIGNED_IN, scope=visible_inquiries, methods=POST)
def inquiry_answer(request, inquiry: Inquiry):
    require(_is_buyer_of(request.user, inquiry))
    form = AnswerForm(request.POST, prefix="answer")
    if form.is_valid() and call_service(
        form,
        lambda: services.inquiry_answer(
            actor=request.user, inquiry=inquiry, answer=form.cleaned_data["answer"]
        ),
    ):
        messages.success(request, _("Thank you. Your answer was sent to the secretariat."))
        return redirect("inquiry_detail", pk=inquiry.pk)
    return _render_buyer(request, inquiry, bound={"answer": form})


@page(SIGNED_IN, scope=visible_inquiries, methods=POST)
def inquiry_withdraw(request, inquiry: Inquiry):
    require(_is_buyer_of(request.user, inquiry))
    form = WithdrawForm(request.POST, prefix="withdraw")
    if form.is_valid() and call_service(
        form,
        lambda: services.inquiry_withdraw(
            actor=request.user, inquiry=inquiry, reason=form.cleaned_data["reason"]
        ),
    ):
        messages.success(request, _("Your inquiry was withdrawn."))
        return redirect("inquiry_detail", pk=inquiry.pk)
    return _render_buyer(request, inquiry, bound={"withdraw": form})
