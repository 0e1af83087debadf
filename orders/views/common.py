"""What the inquiry pages share: the inquiries the viewer may see (the pages' scope), who
the viewer is to an inquiry, the statuses that allow a step, the stages of a split inquiry,
and the checks every upload passes before anything is written."""

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from members.models import (
    Membership,
    MembershipClass,
    MembershipStatus,
)
from members.permissions import roles_of

from .. import selectors, services
from ..models import (
    AwardStatus,
    Inquiry,
    InquiryStatus,
)
from ..uploads import check_attachment

S = InquiryStatus
QUEUE_PAGE_SIZE = 50
# Statuses in which the buyer or the secretariat may still add a drawing (attachment_add).
ATTACHABLE = (S.SUBMITTED, S.QUESTION, S.COMMITTEE, S.OPEN)
WITHDRAWABLE = (S.SUBMITTED, S.QUESTION, S.OPEN, S.EVALUATION)
# While the match list still informs a decision (publish, refer, who to call).
MATCHING_STATUSES = (S.SUBMITTED, S.QUESTION, S.COMMITTEE, S.OPEN)


def _render(request, template: str, context: dict, status: int = 200):
    # The navigation's unread badge comes from brokerage.context_processors.unread (settings).
    return render(request, template, context, status=status)


def visible_inquiries(request):
    """The pages' scope: the inquiries the viewer may see (any other is 404)."""
    return selectors.inquiry_list(viewer=request.user)


def _is_buyer_of(user, inquiry: Inquiry) -> bool:
    return user.is_authenticated and inquiry.buyer.user_id == user.pk


def _lead_network_ids(user) -> set[int]:
    """Networks in which the user's company is an active lead company."""
    company_id = roles_of(user).company_id
    if company_id is None:
        return set()
    return set(
        Membership.objects.filter(
            company_id=company_id,
            membership_class=MembershipClass.LEAD,
            status=MembershipStatus.ACTIVE,
        ).values_list("network_id", flat=True)
    )


def _window_open(inquiry: Inquiry) -> bool:
    return inquiry.status == S.OPEN and timezone.now() < inquiry.application_deadline


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


def _confirmed_award(inquiry: Inquiry):
    award = getattr(inquiry, "award", None)
    return award if award is not None and award.status == AwardStatus.CONFIRMED else None


def _stage_rows(request, inquiry: Inquiry) -> list[dict]:
    """The stages of a split inquiry, each linked when the viewer may open its inquiry."""
    roles = roles_of(request.user)
    rows = []
    for stage in inquiry.stages.all():
        child = stage.inquiry
        rows.append(
            {
                "stage": stage,
                "inquiry": child,
                "processes": list(stage.processes.all()),
                "lead": _confirmed_award(child),
                "linked": roles.is_staff_of(stage.network_id) or _is_buyer_of(request.user, child),
            }
        )
    return rows


def _check_files(form: forms.Form, uploads) -> bool:
    """Check every upload before anything is written; the refused ones go on `files`."""
    errors = []
    for upload in uploads:
        try:
            check_attachment(upload)
        except ValidationError as exc:
            for message in exc.message_dict.get("file", exc.messages):
                errors.append(f"{upload.name}: {message}")
    for error in errors:
        form.add_error("files", error)
    return not errors


def _attach_all(*, actor, inquiry: Inquiry, uploads) -> None:
    for upload in uploads:
        services.attachment_add(actor=actor, inquiry=inquiry, upload=upload)
