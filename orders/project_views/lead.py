"""The lead's pages: opening the project, the project lists (the lead's and the secretariat's),
the board (drawn by board.py; the network's staff read it without its forms) and the board's
forms, each one service call that comes back to its place on the board."""

from functools import partial

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from members import selectors as member_selectors
from members.forms import call_service
from members.pages import POST, SIGNED_IN, page, require
from members.permissions import roles_of

from .. import execution, projects, selectors
from ..models import AwardStatus, Claim, InquiryStatus, Project
from ..project_forms import (
    CancelPackageForm,
    InviteForm,
    LateChargeForm,
    PackageForm,
    ProjectOpenForm,
    ResolveForm,
    ShipmentForm,
    StandardForm,
    TraceForm,
    WithdrawInvitationForm,
)
from .board import _render_board, _traceable
from .common import (
    ONLY_LEAD,
    _board_url,
    _form_action,
    _is_buyer,
    _is_lead,
    _is_staff,
    _label,
    _of,
    _run,
    _terms,
    visible_packages,
    visible_projects,
)


def _require_lead(request, project: Project) -> None:
    """Whoever may see the project but is not its lead (staff, a member, the buyer): 403."""
    require(_is_lead(request.user, project), ONLY_LEAD)


def _visible_inquiries(request):
    return selectors.inquiry_list(viewer=request.user)


def _visible_invitations(request):
    return selectors.invitation_list(viewer=request.user).select_related("package__project")


def _visible_agreements(request):
    return selectors.agreement_list(viewer=request.user)


def _visible_claims(request):
    return selectors.claim_list(viewer=request.user).select_related("shipment__project")


# ---------------------------------------------------------------------------------------
# Opening the project (the awarded lead)


@page(SIGNED_IN, scope=_visible_inquiries)
def project_open(request, inquiry):
    existing = selectors.project_list(viewer=request.user).filter(inquiry=inquiry).first()
    if existing is not None:
        return redirect("project_board", pk=existing.pk)
    award = getattr(inquiry, "award", None)
    require(
        award is not None
        and award.status == AwardStatus.CONFIRMED
        and inquiry.status == InquiryStatus.AWARDED
        and roles_of(request.user).acts_for(award.company_id),
        _("Only the awarded lead company opens the project."),
    )
    initial = {
        "order_value_yen": f"{award.application.price_yen:,}",
        "delivery_date": inquiry.desired_delivery_date,
    }
    form = ProjectOpenForm(request.POST or None, initial=initial)
    opened = []
    if (
        request.method == "POST"
        and form.is_valid()
        and call_service(
            form,
            lambda: opened.append(
                projects.project_open(actor=request.user, inquiry=inquiry, **form.cleaned_data)
            ),
        )
    ):
        messages.success(
            request,
            _("The project is open (%(terms)s). Next, add packages and invite members.")
            % {"terms": _terms(opened[0])},
        )
        return redirect(_board_url(opened[0].pk, "add-package"))
    return render(
        request,
        "orders/project_open.html",
        {
            "inquiry": inquiry,
            "award": award,
            "form": form,
            # What the posted terms mean, shown again when the form comes back with an error.
            "terms_chosen": form.terms_example() if form.is_bound else None,
        },
    )


# ---------------------------------------------------------------------------------------
# The lead's and the secretariat's projects


@page(SIGNED_IN)
def project_list(request):
    roles = roles_of(request.user)
    staff = roles.is_any_staff
    if roles.company_id is None and not staff and roles.is_buyer:
        return redirect("buyer_projects")
    require(roles.company_id is not None or staff)
    visible = selectors.project_list(viewer=request.user).order_by("-opened_at", "-id")
    led = list(visible.filter(lead_id=roles.company_id)) if roles.company_id else []
    network_projects = []
    if staff:
        scoped = (
            visible
            if roles.is_platform_admin
            else visible.filter(network_id__in=roles.staff_network_ids)
        )
        network_projects = list(scoped[:200])
    to_open = []
    if roles.company_id:
        to_open = list(
            selectors.inquiry_list(viewer=request.user)
            .filter(
                status=InquiryStatus.AWARDED,
                award__company_id=roles.company_id,
                award__status=AwardStatus.CONFIRMED,
                project__isnull=True,
            )
            .prefetch_related(None)
            .order_by("desired_delivery_date", "id")
        )
    for project in [*led, *network_projects]:
        _label(project)
    return render(
        request,
        "orders/project_list.html",
        {
            "led": led,
            "network_projects": network_projects,
            "to_open": to_open,
            "is_staff": staff,
            "has_company": roles.company_id is not None,
        },
    )


# ---------------------------------------------------------------------------------------
# The board (read-only for the network's staff)


@page(SIGNED_IN, scope=visible_projects)
def project_board(request, project: Project):
    if _is_lead(request.user, project) or _is_staff(request.user, project):
        return _render_board(request, project)
    if _is_buyer(request.user, project):
        return redirect("project_delivery", pk=project.pk)
    return redirect("my_work")  # a team member: its own packages


# ---------------------------------------------------------------------------------------
# The board's forms: each posts one form to one service and comes back to its place on the
# board, or shows the board again with the form's errors.


def _board_action(
    request, project: Project, form, service_call, success_message, anchor, **options
):
    """`anchor` (or a function of what the service returned) is where on the board success
    lands; `options` as for common._form_action."""
    return _form_action(
        request,
        form,
        service_call,
        success_message,
        lambda result: _board_url(project.pk, _of(anchor, result)),
        partial(_render_board, request, project),
        **options,
    )


@page(SIGNED_IN, scope=visible_projects, methods=POST)
def package_add(request, project: Project):
    _require_lead(request, project)
    return _board_action(
        request,
        project,
        PackageForm(request.POST, prefix="package"),
        lambda data: projects.package_add(actor=request.user, project=project, **data),
        _("The package was added. Invite a member to take it."),
        lambda package: f"package-{package.pk}",
    )


@page(SIGNED_IN, scope=visible_packages, methods=POST)
def package_invite(request, package):
    pk = package.pk
    project = package.project
    _require_lead(request, project)
    companies = member_selectors.company_list(viewer=request.user).prefetch_related(None)

    def invited(sent) -> str:
        invitation, _warnings = sent
        return _("%(company)s is invited. It has until %(until)s to answer.") % {
            "company": invitation.company.legal_name,
            "until": timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d %H:%M"),
        }

    return _board_action(
        request,
        project,
        InviteForm(request.POST, prefix=f"invite-{pk}", companies=companies),
        lambda data: projects.invitation_send(
            actor=request.user, package=package, company=data["company"]
        ),
        invited,
        f"package-{pk}",
        warnings=lambda sent: sent[1],  # the member states no (or too little) capacity
    )


@page(SIGNED_IN, scope=visible_packages, methods=POST)
def package_cancel(request, package):
    pk = package.pk
    _require_lead(request, package.project)
    return _board_action(
        request,
        package.project,
        CancelPackageForm(request.POST, prefix=f"cancel-{pk}"),
        lambda data: projects.package_cancel(
            actor=request.user, package=package, reason=data["reason"]
        ),
        _("The package is cancelled; invited members are told why."),
        f"package-{pk}",
    )


@page(SIGNED_IN, scope=_visible_invitations, methods=POST)
def invitation_withdraw(request, invitation):
    pk = invitation.pk
    project = invitation.package.project
    _require_lead(request, project)
    return _board_action(
        request,
        project,
        WithdrawInvitationForm(request.POST, prefix=f"withdraw-{pk}"),
        lambda data: projects.invitation_withdraw(
            actor=request.user, invitation=invitation, reason=data["reason"]
        ),
        _("The invitation is withdrawn; the member is told why."),
        f"package-{invitation.package_id}",
    )


@page(SIGNED_IN, scope=visible_packages, methods=POST)
def package_self_perform(request, package):
    pk = package.pk
    _require_lead(request, package.project)
    return _run(
        request,
        lambda: projects.package_self_perform(actor=request.user, package=package),
        _("Your company does this package itself. Start it from 「My work」 when you begin."),
        _board_url(package.project_id, f"package-{pk}"),
    )


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


@page(SIGNED_IN, scope=_visible_agreements, methods=POST)
def agreement_accept(request, agreement):
    """Lead or member accepts an agreement; back to the page the button was on."""
    roles = roles_of(request.user)
    require(
        roles.acts_for(agreement.project.lead_id) or roles.acts_for(agreement.member_id),
        _("Only the two parties accept an agreement."),
    )
    default = (
        _board_url(agreement.project_id, "agreements")
        if roles.acts_for(agreement.project.lead_id)
        else reverse("my_work")
    )
    return _run(
        request,
        lambda: projects.agreement_accept(actor=request.user, agreement=agreement),
        _("You accepted the %(kind)s.") % {"kind": agreement.get_kind_display()},
        _safe_next(request, default),
    )


@page(SIGNED_IN, scope=visible_packages, methods=POST)
def standard_attach(request, package):
    pk = package.pk
    project = package.project
    _require_lead(request, project)
    return _board_action(
        request,
        project,
        StandardForm(request.POST, request.FILES, prefix=f"standard-{pk}"),
        lambda data: execution.standard_attach(
            actor=request.user,
            package=package,
            title=data["title"],
            note=data["note"],
            upload=data["file"],
        ),
        _("The work standard was attached; the member confirms it."),
        f"package-{pk}",
    )


@page(SIGNED_IN, scope=visible_packages, methods=POST)
def package_charge_late(request, package):
    pk = package.pk
    project = package.project
    _require_lead(request, project)
    return _board_action(
        request,
        project,
        LateChargeForm(request.POST, prefix=f"late-{pk}"),
        lambda data: execution.charge_late(
            actor=request.user,
            package=package,
            amount_yen=data["amount_yen"],
            reason=data["reason"],
        ),
        _("The late-delivery penalty was charged to the member."),
        f"package-{pk}",
    )


@page(SIGNED_IN, scope=visible_projects, methods=POST)
def shipment_send(request, project: Project):
    _require_lead(request, project)
    return _board_action(
        request,
        project,
        ShipmentForm(request.POST, prefix="ship"),
        lambda data: execution.shipment_send(actor=request.user, project=project, **data),
        _("The shipment to the buyer was recorded; the buyer is told."),
        "shipments",
    )


@page(SIGNED_IN, scope=_visible_claims, methods=POST)
def claim_trace(request, claim: Claim):
    pk = claim.pk
    project = claim.shipment.project
    _require_lead(request, project)
    return _board_action(
        request,
        project,
        TraceForm(request.POST, prefix=f"trace-{pk}", packages=_traceable(project)),
        lambda data: execution.claim_trace(
            actor=request.user,
            claim=claim,
            package=data["package"],
            charge_yen=data["charge_yen"] or 0,
            note=data["note"],
        ),
        _("The claim is traced to the package."),
        "claims",
    )


@page(SIGNED_IN, scope=_visible_claims, methods=POST)
def claim_resolve(request, claim: Claim):
    pk = claim.pk
    project = claim.shipment.project
    _require_lead(request, project)
    return _board_action(
        request,
        project,
        ResolveForm(request.POST, prefix=f"resolve-{pk}"),
        lambda data: execution.claim_resolve(
            actor=request.user, claim=claim, resolution=data["resolution"]
        ),
        _("The claim is closed."),
        "claims",
    )
