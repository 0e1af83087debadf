"""The staff's screening page of an inquiry and its forms (publish, ask, refer, award,
the committee's decisions): one table of actions, each one service call."""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy

from core.errors import BrokerageError, NotAllowed
from members.forms import apply_service_error
from members.pages import (
    POST,
    SIGNED_IN,
    page,
    require,
)
from members.permissions import roles_of

from .. import selectors, services
from ..forms import (
    AttachmentForm,
    ChooseForm,
    CloseApplicationsForm,
    CommitteeCloseForm,
    CommitteeDecisionForm,
    DeadlineForm,
    EscalateForm,
    PublishForm,
    QuestionForm,
    ReferForm,
    RejectForm,
    SplitForm,
)
from ..models import (
    Application,
    ApplicationStatus,
    AwardStatus,
    CommitteeDecision,
    Inquiry,
)
from .common import (
    ATTACHABLE,
    MATCHING_STATUSES,
    S,
    _lead_network_ids,
    _render,
    _safe_next,
    _stage_rows,
    _window_open,
    visible_inquiries,
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


@page(SIGNED_IN, scope=visible_inquiries, methods=POST)
def inquiry_action(request, inquiry: Inquiry, action: str):
    """Every screening, award and committee form posts here; one service each."""
    spec = ACTIONS[action]
    roles = roles_of(request.user)
    require(
        roles.is_committee(inquiry.network_id)
        if spec.role == "committee"
        else roles.is_secretariat(inquiry.network_id)
    )
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
    fresh = get_object_or_404(visible_inquiries(request), pk=inquiry.pk)
    return _render_staff(request, fresh, bound={action: form})
