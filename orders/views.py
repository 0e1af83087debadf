"""The pages of the inquiry flow: the buyer's form and inquiry page, the secretariat's queue
and screening page, the lead companies' board of calls, the committee's list.

Every object is fetched through a selector scoped to the viewer (404 for what the viewer may
not see); the right to act is checked before a form is read (403); every write is one service
call, and what a service refuses is shown on the form field it names.
"""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.errors import BrokerageError, NotAllowed
from core.lockout import client_ip
from core.pagination import ExactPaginator
from members import selectors as member_selectors
from members.forms import apply_service_error, call_service
from members.models import (
    Membership,
    MembershipClass,
    MembershipStatus,
    Network,
)
from members.permissions import roles_of

from . import guests, selectors, services
from .forms import (
    AnswerForm,
    ApplicationForm,
    AttachmentForm,
    ChooseForm,
    CloseApplicationsForm,
    CommitteeCloseForm,
    CommitteeDecisionForm,
    DeadlineForm,
    DeclineCallForm,
    EscalateForm,
    GuestBuyerForm,
    InquiryForm,
    PhonedBuyerForm,
    PublishForm,
    QuestionForm,
    ReferForm,
    RejectForm,
    SplitForm,
    WithdrawForm,
)
from .models import (
    INQUIRY_OUTCOMES,
    Application,
    ApplicationStatus,
    AwardStatus,
    CommitteeDecision,
    Inquiry,
    InquiryStatus,
)
from .uploads import check_attachment

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


def _visible_inquiry(request, pk: int) -> Inquiry:
    return get_object_or_404(selectors.inquiry_list(viewer=request.user), pk=pk)


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


# ---------------------------------------------------------------------------------------
# The buyer: a new inquiry, its list, its page


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


@login_required
def inquiry_create(request):
    if not roles_of(request.user).is_buyer:
        raise PermissionDenied(_("Only buyers send inquiries from this page."))
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


def _secretariat_network(request, network_id: int) -> Network:
    """A network whose secretariat the viewer serves: 403 for whoever serves none, 404 for
    another network's."""
    roles = roles_of(request.user)
    if not (roles.is_platform_admin or roles.secretariat_network_ids):
        raise PermissionDenied
    network = get_object_or_404(
        member_selectors.network_list(viewer=request.user).prefetch_related(None),
        pk=network_id,
        is_active=True,
    )
    if not roles.is_secretariat(network.pk):
        raise Http404
    return network


@login_required
def inquiry_phone(request, network_id: int):
    """The secretariat enters an inquiry taken by phone, with who the buyer is."""
    network = _secretariat_network(request, network_id)
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


@login_required
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


@login_required
def inquiry_detail(request, pk: int):
    """One address per inquiry (the notifications link here): the staff see the screening
    page, the buyer its own page, a lead company the call."""
    inquiry = _visible_inquiry(request, pk)
    if roles_of(request.user).is_staff_of(inquiry.network_id):
        return _render_staff(request, inquiry)
    if _is_buyer_of(request.user, inquiry):
        return _render_buyer(request, inquiry)
    return redirect("call_detail", pk=inquiry.pk)


def _confirmed_award(inquiry: Inquiry):
    award = getattr(inquiry, "award", None)
    return award if award is not None and award.status == AwardStatus.CONFIRMED else None


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


@login_required
@require_POST
def inquiry_answer(request, pk: int):
    inquiry = _visible_inquiry(request, pk)
    if not _is_buyer_of(request.user, inquiry):
        raise PermissionDenied
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


@login_required
@require_POST
def inquiry_withdraw(request, pk: int):
    inquiry = _visible_inquiry(request, pk)
    if not _is_buyer_of(request.user, inquiry):
        raise PermissionDenied
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


@login_required
@require_POST
def attachment_upload(request, pk: int):
    """The buyer or the secretariat adds drawings to an inquiry being handled."""
    inquiry = _visible_inquiry(request, pk)
    staff = roles_of(request.user).is_secretariat(inquiry.network_id)
    if not (staff or _is_buyer_of(request.user, inquiry)):
        raise PermissionDenied
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


@login_required
def attachment_download(request, pk: int, attachment_pk: int):
    """Serve a drawing to those who may see the inquiry; lead companies not when an NDA is
    needed. Never a public media address."""
    inquiry = _visible_inquiry(request, pk)
    attachment = get_object_or_404(inquiry.attachments.all(), pk=attachment_pk)
    privileged = roles_of(request.user).is_staff_of(inquiry.network_id) or _is_buyer_of(
        request.user, inquiry
    )
    if not privileged and inquiry.nda_required:
        raise PermissionDenied(_("The drawings are shared after the NDA is signed."))
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )


# ---------------------------------------------------------------------------------------
# The secretariat: queue and screening page


QUEUE_TABS = [
    (
        "active",
        gettext_lazy("In progress"),
        (S.SUBMITTED, S.QUESTION, S.COMMITTEE, S.OPEN, S.EVALUATION, S.STAGED),
    ),
    ("submitted", gettext_lazy("Received"), (S.SUBMITTED,)),
    ("question", gettext_lazy("Waiting for answer"), (S.QUESTION,)),
    ("committee", gettext_lazy("With the committee"), (S.COMMITTEE,)),
    ("open", gettext_lazy("Open for applications"), (S.OPEN,)),
    ("evaluation", gettext_lazy("Closed: choose the lead"), (S.EVALUATION,)),
    ("staged", gettext_lazy("Split into stages"), (S.STAGED,)),
    ("done", gettext_lazy("Done"), tuple(INQUIRY_OUTCOMES)),
]


def _staff_network_ids(request) -> set[int] | None:
    """The networks whose queue the viewer keeps (None: all, for a platform admin)."""
    roles = roles_of(request.user)
    if roles.is_platform_admin:
        return None
    if not roles.staff_network_ids:
        raise PermissionDenied
    return set(roles.staff_network_ids)


@login_required
def inquiry_queue(request):
    network_ids = _staff_network_ids(request)
    inquiries = selectors.inquiry_list(viewer=request.user)
    if network_ids is not None:
        inquiries = inquiries.filter(network_id__in=network_ids)
    networks = list(
        member_selectors.network_list(viewer=request.user)
        .prefetch_related(None)
        .filter(**({} if network_ids is None else {"pk__in": network_ids}))
    )
    network = None
    if request.GET.get("network", "").isdigit():
        network = next((n for n in networks if n.pk == int(request.GET["network"])), None)
        if network is not None:
            inquiries = inquiries.filter(network=network)
    counts = dict(
        inquiries.prefetch_related(None)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    tab = request.GET.get("status", "active")
    if tab not in {key for key, _label, _s in QUEUE_TABS}:
        raise Http404
    tabs = []
    for key, label, statuses in QUEUE_TABS:
        tabs.append({"key": key, "label": label, "count": sum(counts.get(s, 0) for s in statuses)})
        if key == tab:
            inquiries = inquiries.filter(status__in=statuses)
    inquiries = inquiries.order_by("application_deadline", "submitted_at", "id")
    if tab == "done":
        inquiries = inquiries.order_by("-closed_at", "-id")
    page = ExactPaginator(inquiries, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    at_risk = set(selectors.inquiries_at_risk(viewer=request.user).values_list("pk", flat=True))
    now = timezone.now()
    rows = [
        {
            "inquiry": inquiry,
            "at_risk": inquiry.pk in at_risk,
            "deadline_passed": inquiry.status == S.OPEN
            and inquiry.application_deadline is not None
            and inquiry.application_deadline <= now,
        }
        for inquiry in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return _render(
        request,
        "orders/queue.html",
        {
            "rows": rows,
            "page": page,
            "tabs": tabs,
            "tab": tab,
            "networks": networks,
            "network": network,
            "querystring": query.urlencode(),
            "at_risk_count": len(at_risk),
            "phone_networks": [
                n for n in networks if n.is_active and roles_of(request.user).is_secretariat(n.pk)
            ],
        },
    )


@dataclass(frozen=True)
class Action:
    """A form on the staff page and the one service it calls."""

    role: str  # "secretariat" or "committee"
    form: Any  # (inquiry, data) -> form, or None for a plain button
    run: Any  # (actor, inquiry, form) -> None
    done: str


def _applications_to_choose(inquiry: Inquiry):
    return Application.objects.filter(
        inquiry=inquiry, status=ApplicationStatus.ACTIVE
    ).select_related("company")


def _split(actor, inquiry, form):
    services.inquiry_split(actor=actor, inquiry=inquiry, stages=form.stages)


def _choose(actor, inquiry, form):
    services.award_choose(
        actor=actor,
        inquiry=inquiry,
        application=form.cleaned_data["application"],
        reason=form.cleaned_data["reason"],
    )


ACTIONS = {
    "publish": Action(
        "secretariat",
        lambda i, d: PublishForm(d, prefix="publish", network=i.network),
        lambda a, i, f: services.inquiry_publish(actor=a, inquiry=i, **f.service_kwargs()),
        gettext_lazy("The inquiry is published: the lead companies are called."),
    ),
    "ask": Action(
        "secretariat",
        lambda i, d: QuestionForm(d, prefix="ask"),
        lambda a, i, f: services.inquiry_ask(
            actor=a, inquiry=i, question=f.cleaned_data["question"]
        ),
        gettext_lazy("The question was sent to the buyer."),
    ),
    "reject": Action(
        "secretariat",
        lambda i, d: RejectForm(d, prefix="reject"),
        lambda a, i, f: services.inquiry_reject(
            actor=a, inquiry=i, reason=f.cleaned_data["reason"]
        ),
        gettext_lazy("The inquiry was declined; the buyer has the reason."),
    ),
    "escalate": Action(
        "secretariat",
        lambda i, d: EscalateForm(d, prefix="escalate"),
        lambda a, i, f: services.inquiry_escalate(
            actor=a, inquiry=i, reason=f.cleaned_data["reason"]
        ),
        gettext_lazy("The inquiry is now with the steering committee."),
    ),
    "refer": Action(
        "secretariat",
        lambda i, d: ReferForm(d, prefix="refer"),
        lambda a, i, f: services.inquiry_refer(actor=a, inquiry=i, **f.cleaned_data),
        gettext_lazy("The inquiry was referred."),
    ),
    "deadline": Action(
        "secretariat",
        lambda i, d: DeadlineForm(d, prefix="deadline"),
        lambda a, i, f: services.inquiry_extend_deadline(actor=a, inquiry=i, **f.cleaned_data),
        gettext_lazy("The deadline was extended; the called lead companies are told."),
    ),
    "close_applications": Action(
        "secretariat",
        lambda i, d: CloseApplicationsForm(d, prefix="close"),
        lambda a, i, f: services.inquiry_close_applications(actor=a, inquiry=i, **f.cleaned_data),
        gettext_lazy("The applications are closed; the lead companies are told first."),
    ),
    "committee_close": Action(
        "committee",
        lambda i, d: CommitteeCloseForm(d, prefix="committee_close"),
        lambda a, i, f: services.inquiry_committee_close_applications(
            actor=a, inquiry=i, **f.cleaned_data
        ),
        gettext_lazy("The committee's decision was recorded; the lead companies are told first."),
    ),
    "choose": Action(
        "secretariat",
        lambda i, d: ChooseForm(d, prefix="choose", applications=_applications_to_choose(i)),
        _choose,
        gettext_lazy("The lead is proposed. Confirm the award to tell the buyer and the leads."),
    ),
    "split": Action(
        "secretariat",
        lambda i, d: SplitForm(d, prefix="split", inquiry=i),
        _split,
        gettext_lazy("The inquiry was split into stages, one inquiry per stage."),
    ),
    "confirm": Action(
        "secretariat",
        None,
        lambda a, i, f: services.award_confirm(actor=a, inquiry=i),
        gettext_lazy("The award is confirmed: the buyer and the lead companies are told."),
    ),
    "decide": Action(
        "committee",
        lambda i, d: CommitteeDecisionForm(d, prefix="decide", network=i.network),
        lambda a, i, f: services.inquiry_committee_decide(actor=a, inquiry=i, **f.service_kwargs()),
        gettext_lazy("The committee's decision was recorded."),
    ),
    "open_applications": Action(
        "committee",
        None,
        lambda a, i, f: services.inquiry_open_applications(actor=a, inquiry=i),
        gettext_lazy("The applications are opened."),
    ),
}


def _available_actions(request, inquiry: Inquiry) -> list[str]:
    """The forms that make sense now, for this viewer's roles."""
    roles = roles_of(request.user)
    names = []
    status = inquiry.status
    if roles.is_committee(inquiry.network_id):
        if status == S.COMMITTEE:
            names.append("decide")
        if status == S.EVALUATION and inquiry.applications_opened_at is None:
            names.append("open_applications")
        if _window_open(inquiry):
            names.append("committee_close")
    if roles.is_secretariat(inquiry.network_id):
        award = getattr(inquiry, "award", None)
        by_status = {
            S.SUBMITTED: ["publish", "ask", "escalate", "reject", "refer"],
            S.QUESTION: ["reject"],
            S.COMMITTEE: ["refer"],
            S.OPEN: ["deadline", "refer"],
            S.EVALUATION: ["refer"],
        }
        if status == S.EVALUATION and inquiry.applications_opened_at is not None:
            if award is not None and award.status == AwardStatus.PROPOSED:
                names.append("confirm")
            names.append("choose")
        names += by_status.get(status, [])
        if _window_open(inquiry):
            # Closing early only once every called lead applied or declined (else the
            # committee decides); the service checks again under the lock.
            if not selectors.leads_not_answered(inquiry):
                names.append("close_applications")
        elif "deadline" in names:
            names.remove("deadline")  # past the deadline: the job closes the window
        if status == S.SUBMITTED and len(inquiry.processes.all()) >= 2:
            names.append("split")
    return names


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


SCORE_TERMS = [
    ("price", gettext_lazy("Price points")),
    ("lead_time", gettext_lazy("Lead-time points")),
    ("track_record", gettext_lazy("Track-record points")),
    ("fairness", gettext_lazy("Fairness points")),
]


def _render_staff(request, inquiry: Inquiry, *, bound: dict | None = None, status: int = 200):
    bound = bound or {}
    viewer = request.user
    actions = _available_actions(request, inquiry)
    action_forms = {
        name: bound.get(name) or (ACTIONS[name].form(inquiry, None) if ACTIONS[name].form else None)
        for name in actions
    }
    applications = list(
        selectors.application_list(viewer=viewer)
        .filter(inquiry=inquiry)
        .order_by("status", "created_at", "id")
    )
    for application in applications:
        application.price_visible = selectors.can_see_price(viewer=viewer, application=application)
    matches, uncovered = [], []
    if inquiry.status in MATCHING_STATUSES:
        matches, uncovered = selectors.inquiry_matches(inquiry=inquiry)
    processes = {p.pk: p for p in inquiry.processes.all()}
    for match in matches:
        match.process = processes.get(match.process_id)
    award = getattr(inquiry, "award", None)
    breakdown = award.score_breakdown if award else []
    present = {key for row in breakdown for key in row.get("terms", {})}
    context = {
        "inquiry": inquiry,
        "buyer": inquiry.buyer,
        "breakdown": breakdown,
        "terms": [(key, label) for key, label in SCORE_TERMS if key in present],
        "attachments": inquiry.attachments.all(),
        "timeline": selectors.timeline_entries(inquiry, viewer=viewer),
        "matches": matches,
        "candidate_count": sum(1 for m in matches if m.is_candidate),
        "uncovered": uncovered,
        "applications": applications,
        "active_count": sum(1 for a in applications if a.status == ApplicationStatus.ACTIVE),
        "award": award,
        "award_offer": award.application if award else None,
        "decision": CommitteeDecision.objects.filter(inquiry=inquiry).first(),
        "forms": action_forms,
        "actions": actions,
        "attach_form": (bound.get("attach") or AttachmentForm(prefix="attach"))
        if inquiry.status in ATTACHABLE and roles_of(viewer).is_secretariat(inquiry.network_id)
        else None,
        "is_lead_too": inquiry.network_id in _lead_network_ids(viewer),
        "stage_rows": _stage_rows(request, inquiry),
        "window_open": inquiry.status == S.OPEN and _window_open(inquiry),
        "call_answers": selectors.call_answers(inquiry) if inquiry.status != S.SUBMITTED else [],
    }
    return _render(request, "orders/inquiry_staff.html", context, status=status)


@login_required
@require_POST
def inquiry_action(request, pk: int, action: str):
    """Every screening, award and committee form posts here; one service each."""
    inquiry = _visible_inquiry(request, pk)
    spec = ACTIONS[action]
    roles = roles_of(request.user)
    allowed = (
        roles.is_committee(inquiry.network_id)
        if spec.role == "committee"
        else roles.is_secretariat(inquiry.network_id)
    )
    if not allowed:
        raise PermissionDenied
    form = spec.form(inquiry, request.POST) if spec.form else None
    if form is None or form.is_valid():
        try:
            spec.run(request.user, inquiry, form)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except (ValidationError, BrokerageError) as exc:
            if form is None:
                message = exc.message if isinstance(exc, BrokerageError) else " ".join(exc.messages)
                messages.error(request, message)
                return redirect(_safe_next(request, reverse("inquiry_detail", args=[inquiry.pk])))
            apply_service_error(form, exc)
        else:
            messages.success(request, spec.done)
            return redirect(_safe_next(request, reverse("inquiry_detail", args=[inquiry.pk])))
    # Show the refused form in place, on a fresh read of the inquiry.
    return _render_staff(request, _visible_inquiry(request, pk), bound={action: form})


# ---------------------------------------------------------------------------------------
# The steering committee


@login_required
def committee_list(request):
    roles = roles_of(request.user)
    if not (roles.is_platform_admin or roles.committee_network_ids):
        raise PermissionDenied
    inquiries = selectors.inquiry_list(viewer=request.user)
    if not roles.is_platform_admin:
        inquiries = inquiries.filter(network_id__in=roles.committee_network_ids)
    escalated = inquiries.filter(status=S.COMMITTEE).order_by("submitted_at", "id")
    to_open = inquiries.filter(
        status=S.EVALUATION,
        applications_opened_at__isnull=True,
        network__applications_opened_by_committee=True,
    ).order_by("application_deadline", "id")
    decided = (
        inquiries.filter(committee_decision__isnull=False)
        .select_related("committee_decision")
        .order_by("-committee_decision__decided_at")[:20]
    )
    return _render(
        request,
        "orders/committee_list.html",
        {"escalated": escalated, "to_open": to_open, "decided": decided},
    )


# ---------------------------------------------------------------------------------------
# Lead companies: the board of calls, the call page, their applications


@login_required
def call_board(request):
    roles = roles_of(request.user)
    lead_networks = _lead_network_ids(request.user)
    calls = []
    if lead_networks:
        applied = Application.objects.filter(
            inquiry=OuterRef("pk"), company_id=roles.company_id, status=ApplicationStatus.ACTIVE
        )
        calls = (
            selectors.inquiry_list(viewer=request.user)
            .filter(status=S.OPEN, network_id__in=lead_networks)
            .annotate(applied=Exists(applied))
            .order_by("application_deadline", "id")
        )
    return _render(
        request,
        "orders/call_board.html",
        {
            "calls": calls,
            "is_lead": bool(lead_networks),
            "has_company": roles.company_id is not None,
            "many_networks": len(lead_networks) > 1,
            "now": timezone.now(),
        },
    )


def _team_candidates(request, inquiry: Inquiry):
    members = Membership.objects.filter(
        company=OuterRef("pk"),
        network_id=inquiry.network_id,
        status=MembershipStatus.ACTIVE,
        membership_class=MembershipClass.JOINT_ORDER,
    )
    return (
        member_selectors.company_list(viewer=request.user)
        .prefetch_related(None)
        .filter(Exists(members))
        .exclude(pk=roles_of(request.user).company_id)
        .order_by("legal_name_kana", "id")
    )


def _call_context(
    request, inquiry: Inquiry, form: ApplicationForm | None = None, decline_form=None
) -> dict:
    roles = roles_of(request.user)
    own = list(
        selectors.application_list(viewer=request.user)
        .filter(inquiry=inquiry, company_id=roles.company_id)
        .order_by("-created_at", "-id")
    )
    active = next((a for a in own if a.status == ApplicationStatus.ACTIVE), None)
    window_open = _window_open(inquiry)
    may_apply = window_open and inquiry.network_id in _lead_network_ids(request.user)
    if may_apply and form is None:
        initial = {}
        if active is not None:
            initial = {
                "application": active.pk,
                "price_yen": f"{active.price_yen:,}",
                "lead_time_days": active.lead_time_days,
                "proposed_team": [c.pk for c in active.proposed_team.all()],
                "notes": active.notes,
            }
        form = ApplicationForm(initial=initial, team_candidates=_team_candidates(request, inquiry))
    award = _confirmed_award(inquiry)
    won = award is not None and roles.acts_for(award.company_id)
    call = selectors.own_call(inquiry, company_id=roles.company_id)
    may_decline = may_apply and call is not None and call.declined_at is None and active is None
    return {
        "inquiry": inquiry,
        "call": call,
        "decline_form": (decline_form or DeclineCallForm(prefix="decline"))
        if may_decline
        else None,
        "attachments": inquiry.attachments.all() if not inquiry.nda_required else [],
        "own_applications": own,
        "active": active,
        # A refused form stays on screen with its reason, even once the window has closed.
        "form": form if may_apply or (form is not None and form.errors) else None,
        "window_open": window_open,
        "award": award,
        "won": won,
        # The buyer is named to a lead only once the order is awarded to it (as in the API).
        "buyer": inquiry.buyer if won else None,
    }


@login_required
def call_detail(request, pk: int):
    inquiry = _visible_inquiry(request, pk)
    roles = roles_of(request.user)
    is_lead = inquiry.network_id in _lead_network_ids(request.user)
    applied = (
        roles.company_id is not None
        and selectors.application_list(viewer=request.user)
        .filter(inquiry=inquiry, company_id=roles.company_id)
        .exists()
    )
    if not (is_lead or applied):
        if roles.is_staff_of(inquiry.network_id) or _is_buyer_of(request.user, inquiry):
            return redirect("inquiry_detail", pk=inquiry.pk)
        raise Http404
    if inquiry.status not in (S.OPEN, S.EVALUATION, S.AWARDED) and not applied:
        raise Http404
    form = None
    if request.method == "POST":
        if not is_lead:
            raise PermissionDenied
        form = ApplicationForm(request.POST, team_candidates=_team_candidates(request, inquiry))
        if form.is_valid() and _place_or_revise(request, inquiry, form):
            return redirect("call_detail", pk=inquiry.pk)
    return _render(request, "orders/call_detail.html", _call_context(request, inquiry, form))


@login_required
@require_POST
def call_decline(request, pk: int):
    """A called lead company answers that it does not apply, with a reason."""
    inquiry = _visible_inquiry(request, pk)
    if inquiry.network_id not in _lead_network_ids(request.user):
        raise PermissionDenied
    form = DeclineCallForm(request.POST, prefix="decline")
    if form.is_valid():
        try:
            services.call_decline(
                actor=request.user, inquiry=inquiry, reason=form.cleaned_data["reason"]
            )
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except BrokerageError as exc:
            form.add_error("reason" if exc.field == "reason" else None, exc.message)
        else:
            messages.success(
                request, _("Your company declined this call. Thank you for answering.")
            )
            return redirect("call_detail", pk=inquiry.pk)
    context = _call_context(request, inquiry, decline_form=form)
    context["decline_form"] = form  # a refused answer stays on screen with its reason
    return _render(request, "orders/call_detail.html", context, status=400)


def _place_or_revise(request, inquiry: Inquiry, form: ApplicationForm) -> bool:
    roles = roles_of(request.user)
    data = form.cleaned_data
    revised = None
    if data["application"]:
        revised = (
            selectors.application_list(viewer=request.user)
            .filter(inquiry=inquiry, company_id=roles.company_id)
            .filter(pk=data["application"])
            .first()
        )
        if revised is None:
            raise Http404
    try:
        if revised is None:
            services.application_place(
                actor=request.user,
                inquiry=inquiry,
                price_yen=data["price_yen"],
                lead_time_days=data["lead_time_days"],
                proposed_team=list(data["proposed_team"]),
                notes=data["notes"],
            )
            messages.success(
                request,
                _("Your application was submitted. Its price stays sealed until the deadline."),
            )
        else:
            services.application_revise(
                actor=request.user,
                application=revised,
                price_yen=data["price_yen"],
                lead_time_days=data["lead_time_days"],
                proposed_team=list(data["proposed_team"]),
                notes=data["notes"],
            )
            messages.success(request, _("Your application was revised."))
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except (ValidationError, BrokerageError) as exc:
        apply_service_error(form, exc)
        return False
    return True


@login_required
@require_POST
def application_withdraw(request, pk: int):
    roles = roles_of(request.user)
    application = get_object_or_404(
        selectors.application_list(viewer=request.user).filter(company_id=roles.company_id),
        pk=pk,
    )
    try:
        services.application_withdraw(actor=request.user, application=application)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except BrokerageError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your application was withdrawn."))
    return redirect("call_detail", pk=application.inquiry_id)


@login_required
def my_applications(request):
    roles = roles_of(request.user)
    if roles.company_id is None:
        raise PermissionDenied
    applications = (
        selectors.application_list(viewer=request.user)
        .filter(company_id=roles.company_id)
        .select_related("inquiry__award", "inquiry__network")
        .prefetch_related(None)
        .order_by("-created_at", "-id")
    )
    page = ExactPaginator(applications, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    for application in page.object_list:
        application.result = _result_of(application)
    return _render(request, "orders/my_applications.html", {"page": page})


def _result_of(application: Application) -> tuple[str, str]:
    """(badge class, words) for a lead's own application."""
    inquiry = application.inquiry
    award = getattr(inquiry, "award", None)
    if application.status == ApplicationStatus.WITHDRAWN:
        return "muted", _("Withdrawn")
    if inquiry.status == S.AWARDED and award is not None:
        if award.application_id == application.pk:
            return "ok", _("Chosen")
        return "muted", _("Not chosen")
    if inquiry.status == S.OPEN:
        return "", _("Window open")
    if inquiry.status == S.EVALUATION:
        return "attention", _("Being decided")
    return "muted", inquiry.get_status_display()


# ---------------------------------------------------------------------------------------
# Guest inquiries: the form is saved as a request and a confirmation link e-mailed (through
# the request's outbox, after commit); the inquiry is created when the visitor confirms.
# Files are not taken from guests (unconfirmed uploads would be a spam store); once confirmed
# the buyer adds them on the inquiry page.


def _guest_inquiry_data(form: InquiryForm) -> dict:
    """The inquiry fields, JSON-ready for the saved request."""
    data = form.service_data()
    data["material"] = data["material"].pk
    data["processes"] = [p.pk for p in data["processes"]]
    data["desired_delivery_date"] = data["desired_delivery_date"].isoformat()
    for name in ("weight_kg", "finish_ra_input"):
        data[name] = None if data[name] is None else str(data[name])
    return data


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
