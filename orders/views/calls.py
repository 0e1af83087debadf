"""Lead companies: the board of calls, the call page with the application form, the
answer to a call, their applications."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import BrokerageError, NotAllowed
from core.pagination import ExactPaginator
from members import selectors as member_selectors
from members.forms import apply_service_error
from members.models import (
    Membership,
    MembershipClass,
    MembershipStatus,
)
from members.pages import (
    COMPANY,
    POST,
    SIGNED_IN,
    page,
    require,
)
from members.permissions import roles_of

from .. import selectors, services
from ..forms import (
    ApplicationForm,
    DeclineCallForm,
)
from ..models import (
    Application,
    ApplicationStatus,
    Inquiry,
)
from .common import (
    QUEUE_PAGE_SIZE,
    S,
    _confirmed_award,
    _is_buyer_of,
    _lead_network_ids,
    _render,
    _window_open,
    visible_inquiries,
)


@page(SIGNED_IN)
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


@page(SIGNED_IN, scope=visible_inquiries)
def call_detail(request, inquiry: Inquiry):
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
        require(is_lead)
        form = ApplicationForm(request.POST, team_candidates=_team_candidates(request, inquiry))
        if form.is_valid() and _place_or_revise(request, inquiry, form):
            return redirect("call_detail", pk=inquiry.pk)
    return _render(request, "orders/call_detail.html", _call_context(request, inquiry, form))


@page(SIGNED_IN, scope=visible_inquiries, methods=POST)
def call_decline(request, inquiry: Inquiry):
    """A called lead company answers that it does not apply, with a reason."""
    require(inquiry.network_id in _lead_network_ids(request.user))
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


def own_applications(request):
    """The applications of the viewer's company (another's is 404)."""
    company_id = roles_of(request.user).company_id
    return selectors.application_list(viewer=request.user).filter(company_id=company_id)


@page(SIGNED_IN, scope=own_applications, methods=POST)
def application_withdraw(request, application: Application):
    try:
        services.application_withdraw(actor=request.user, application=application)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except BrokerageError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your application was withdrawn."))
    return redirect("call_detail", pk=application.inquiry_id)


@page(COMPANY)
def my_applications(request):
    applications = (
        own_applications(request)
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
