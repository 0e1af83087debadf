"""The lead's pages: opening the project, the project lists (the lead's and the secretariat's),
and the board the lead runs the project from (packages, team, agreements, standards, charges,
shipments, claims); the network's staff read the board without its forms."""

import datetime
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from members import selectors as member_selectors
from members.forms import call_service
from members.permissions import roles_of

from .. import execution, projects, selectors
from ..models import AwardStatus, Claim, InquiryStatus, InvitationStatus, Project, ProjectStatus
from ..models import PackageStatus as P
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
from .common import (
    INVITATION_LABELS,
    PACKAGE_BADGES,
    _board_url,
    _due,
    _form_action,
    _group,
    _is_buyer,
    _is_lead,
    _is_staff,
    _label,
    _of,
    _run,
    _terms,
    _visible_package,
    _visible_project,
    agreement_pdf_url,
)

# Packages still added and shipments still sent while the project runs.
ADDING = (ProjectStatus.FORMING, ProjectStatus.IN_PROGRESS)


def _require_lead(request, project: Project) -> None:
    """Whoever may see the project but is not its lead (staff, a member, the buyer): 403."""
    if not _is_lead(request.user, project):
        raise PermissionDenied(_("Only the lead company of this project may do this."))


# ---------------------------------------------------------------------------------------
# Opening the project (the awarded lead)


@login_required
def project_open(request, pk: int):
    inquiry = get_object_or_404(selectors.inquiry_list(viewer=request.user), pk=pk)
    existing = selectors.project_list(viewer=request.user).filter(inquiry=inquiry).first()
    if existing is not None:
        return redirect("project_board", pk=existing.pk)
    award = getattr(inquiry, "award", None)
    if (
        award is None
        or award.status != AwardStatus.CONFIRMED
        or inquiry.status != InquiryStatus.AWARDED
        or not roles_of(request.user).acts_for(award.company_id)
    ):
        raise PermissionDenied(_("Only the awarded lead company opens the project."))
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


@login_required
def project_list(request):
    roles = roles_of(request.user)
    staff = roles.is_platform_admin or bool(roles.staff_network_ids)
    if roles.company_id is None and not staff:
        if roles.is_buyer:
            return redirect("buyer_projects")
        raise PermissionDenied
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


@login_required
def project_board(request, pk: int):
    project = _visible_project(request, pk)
    if _is_lead(request.user, project) or _is_staff(request.user, project):
        return _render_board(request, project)
    if _is_buyer(request.user, project):
        return redirect("project_delivery", pk=project.pk)
    return redirect("my_work")  # a team member: its own packages


def _next_step_for_lead(row: dict, agreements: list) -> tuple[str, str]:
    """(words, anchor or url) of what the package waits for, from the lead's side."""
    package = row["package"]
    status = package.status
    anchor = f"#package-{package.pk}"
    if status == P.OPEN:
        return _("Invite a member, or do it yourselves"), anchor
    if status == P.AWAITING_AGREEMENT:
        if any(a.lead_accepted_at is None for a in agreements):
            return _("Accept the agreement"), anchor
        return _("Waiting for the member to accept the agreement"), anchor
    if status == P.READY:
        if package.self_performed:
            return _("Start the work"), reverse("work_package", args=[package.pk])
        return _("Waiting for the member to start"), anchor
    waiting = [d for d in row["deliveries"] if getattr(d, "inspection", None) is None]
    if waiting:
        return _("Inspect the delivery"), reverse("delivery_inspect", args=[waiting[0].pk])
    if status == P.RETURNED:
        return _("With the member for rework"), anchor
    if status == P.ACCEPTED:
        return _("Done"), anchor
    if status == P.CANCELLED:
        return _("Cancelled"), anchor
    return _("Being worked on"), anchor


def _late_chargeable(package, today: datetime.date) -> bool:
    """As execution.charge_late decides: a member's package finished (or still owed) after
    its due date."""
    if package.self_performed or package.member_id is None:
        return False
    finished = package.completed_at and timezone.localdate(package.completed_at)
    return (finished or today) > package.due_date


def _render_board(request, project: Project, *, bound: dict | None = None):
    bound = bound or {}
    viewer = request.user
    is_lead = _is_lead(viewer, project)
    today = timezone.localdate()
    rows = selectors.project_board(project)

    invitations = _group(
        selectors.invitation_list(viewer=viewer)
        .filter(package__project=project)
        .select_related("company")
        .order_by("-invited_at", "-id"),
        lambda i: i.package_id,
    )
    agreements = list(
        selectors.agreement_list(viewer=viewer).filter(project=project).order_by("member", "kind")
    )
    for agreement in agreements:
        agreement.pdf_url = agreement_pdf_url(agreement.pk)
    agreements_by_member = _group(agreements, lambda a: a.member_id)
    standards = _group(
        selectors.standard_list(viewer=viewer).filter(package__project=project),
        lambda s: s.package_id,
    )
    deliveries = _group(
        selectors.delivery_list(viewer=viewer).filter(package__project=project),
        lambda d: d.package_id,
    )
    charges = list(
        selectors.charge_list(viewer=viewer)
        .filter(package__project=project)
        .select_related("package__process")
    )
    charges_by_package = _group(charges, lambda c: c.package_id)
    shipments = list(selectors.shipment_list(viewer=viewer).filter(project=project))
    claims = list(
        selectors.claim_list(viewer=viewer)
        .filter(shipment__project=project)
        .select_related("shipment")
    )
    traceable = _traceable(project)
    companies = member_selectors.company_list(viewer=viewer).prefetch_related(None)

    for row in rows:
        package = row["package"]
        pk = package.pk
        row["badge"] = PACKAGE_BADGES.get(package.status, "")
        row["due"] = _due(package, today)
        row["invitations"] = invitations.get(pk, [])
        row["agreements"] = (
            agreements_by_member.get(package.member_id, []) if not package.self_performed else []
        )
        row["standards"] = standards.get(pk, [])
        row["deliveries"] = deliveries.get(pk, [])
        row["charges"] = charges_by_package.get(pk, [])
        row["next_step"] = _next_step_for_lead(row, row["agreements"])
        for invitation in row["invitations"]:
            invitation.label, invitation.badge = INVITATION_LABELS.get(
                invitation.status, (invitation.get_status_display(), "")
            )
            if is_lead and invitation.status == InvitationStatus.INVITED:
                prefix = f"withdraw-{invitation.pk}"
                invitation.withdraw_form = bound.get(prefix) or WithdrawInvitationForm(
                    prefix=prefix
                )
        if not is_lead:
            continue
        if package.status == P.OPEN:
            row["cancel_form"] = bound.get(f"cancel-{pk}") or CancelPackageForm(
                prefix=f"cancel-{pk}"
            )
            row["suggestions"] = selectors.package_suggestions(package)
            row["invite_form"] = bound.get(f"invite-{pk}") or InviteForm(
                prefix=f"invite-{pk}", companies=companies
            )
        if package.status not in (P.ACCEPTED, P.CANCELLED):
            row["standard_form"] = bound.get(f"standard-{pk}") or StandardForm(
                prefix=f"standard-{pk}"
            )
        if _late_chargeable(package, today):
            row["late_form"] = bound.get(f"late-{pk}") or LateChargeForm(prefix=f"late-{pk}")

    for claim in claims:
        if not is_lead:
            continue
        if claim.status == Claim.Status.OPEN:
            claim.trace_form = bound.get(f"trace-{claim.pk}") or TraceForm(
                prefix=f"trace-{claim.pk}", packages=traceable
            )
        elif claim.status == Claim.Status.TRACED:
            claim.resolve_form = bound.get(f"resolve-{claim.pk}") or ResolveForm(
                prefix=f"resolve-{claim.pk}"
            )
    claims_by_shipment = _group(claims, lambda c: c.shipment_id)
    for shipment in shipments:
        shipment.claim_rows = claims_by_shipment.get(shipment.pk, [])

    running = project.status in execution.RUNNING
    inquiry = project.inquiry
    context = {
        "project": project,
        "inquiry": inquiry,
        "is_lead": is_lead,
        "terms": _terms(project),
        "rows": rows,
        "agreements": agreements,
        "shipments": shipments,
        "claims": claims,
        "charges": charges,
        "shippable": execution.shippable(project) if running else 0,
        "shipped_total": sum(s.quantity for s in shipments),
        "accepted_total": sum(s.accepted_quantity or 0 for s in shipments),
        "package_form": (bound.get("package") or _new_package_form(project))
        if is_lead and project.status in ADDING
        else None,
        "ship_form": (bound.get("ship") or ShipmentForm(prefix="ship"))
        if is_lead and running
        else None,
    }
    _label(project)
    return render(request, "orders/project_board.html", context)


def _new_package_form(project: Project) -> PackageForm:
    inquiry = project.inquiry
    return PackageForm(
        prefix="package",
        initial={
            "process": inquiry.processes.values_list("pk", flat=True).first(),
            "material": inquiry.material_id,
            "quantity": inquiry.quantity,
        },
    )


def _traceable(project: Project):
    """The packages a claim may be traced to: those a member took."""
    return project.packages.filter(member__isnull=False).select_related(
        "process", "material", "member"
    )


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


@login_required
@require_POST
def package_add(request, pk: int):
    project = _visible_project(request, pk)
    _require_lead(request, project)
    return _board_action(
        request,
        project,
        PackageForm(request.POST, prefix="package"),
        lambda data: projects.package_add(actor=request.user, project=project, **data),
        _("The package was added. Invite a member to take it."),
        lambda package: f"package-{package.pk}",
    )


@login_required
@require_POST
def package_invite(request, pk: int):
    package = _visible_package(request, pk)
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


@login_required
@require_POST
def package_cancel(request, pk: int):
    package = _visible_package(request, pk)
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


@login_required
@require_POST
def invitation_withdraw(request, pk: int):
    invitation = get_object_or_404(
        selectors.invitation_list(viewer=request.user).select_related("package__project"), pk=pk
    )
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


@login_required
@require_POST
def package_self_perform(request, pk: int):
    package = _visible_package(request, pk)
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


@login_required
@require_POST
def agreement_accept(request, pk: int):
    """Lead or member accepts an agreement; back to the page the button was on."""
    agreement = get_object_or_404(selectors.agreement_list(viewer=request.user), pk=pk)
    roles = roles_of(request.user)
    if not (roles.acts_for(agreement.project.lead_id) or roles.acts_for(agreement.member_id)):
        raise PermissionDenied(_("Only the two parties accept an agreement."))
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


@login_required
@require_POST
def standard_attach(request, pk: int):
    package = _visible_package(request, pk)
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


@login_required
@require_POST
def package_charge_late(request, pk: int):
    package = _visible_package(request, pk)
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


@login_required
@require_POST
def shipment_send(request, pk: int):
    project = _visible_project(request, pk)
    _require_lead(request, project)
    return _board_action(
        request,
        project,
        ShipmentForm(request.POST, prefix="ship"),
        lambda data: execution.shipment_send(actor=request.user, project=project, **data),
        _("The shipment to the buyer was recorded; the buyer is told."),
        "shipments",
    )


def _visible_claim(request, pk: int) -> Claim:
    return get_object_or_404(
        selectors.claim_list(viewer=request.user).select_related("shipment__project"), pk=pk
    )


@login_required
@require_POST
def claim_trace(request, pk: int):
    claim = _visible_claim(request, pk)
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


@login_required
@require_POST
def claim_resolve(request, pk: int):
    claim = _visible_claim(request, pk)
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
