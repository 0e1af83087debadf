"""The project pages (issue 5): the awarded lead opens its project and runs it from one board
(packages, team invitations, agreements, standards, inspection, shipments, claims, charges);
a member answers invitations and works its packages (「担当作業」); the buyer accepts its
deliveries or raises claims (「納品・検収」); the secretariat reads its network's projects.

As in orders/views.py: every object comes through a selector scoped to the viewer (404 for
what the viewer may not see); the right to act is checked before a form is read (403); every
write is one service call, and what a service refuses is shown on the form field it names.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.errors import BrokerageError, NotAllowed
from members import selectors as member_selectors
from members.forms import call_service
from members.permissions import roles_of

from . import execution, projects, selectors
from .models import (
    AwardStatus,
    Claim,
    EvidencePhoto,
    InquiryStatus,
    InvitationStatus,
    PackageStatus,
    Project,
    ProjectStatus,
    Shipment,
)
from .project_forms import (
    ClaimForm,
    DeliveryForm,
    InspectionForm,
    InviteForm,
    LateChargeForm,
    PackageForm,
    ProjectOpenForm,
    ResolveForm,
    RespondForm,
    ShipmentForm,
    StandardForm,
    TraceForm,
    payment_terms_plain,
)

P = PackageStatus
# Badge colour per package status: what needs someone's hand stands out.
PACKAGE_BADGES = {
    P.OPEN: "attention",
    P.AWAITING_AGREEMENT: "warn",
    P.READY: "",
    P.IN_PROGRESS: "",
    P.SHIPPED: "attention",
    P.INSPECTED: "",
    P.RETURNED: "warn",
    P.ACCEPTED: "ok",
}
PROJECT_BADGES = {
    ProjectStatus.FORMING: "attention",
    ProjectStatus.IN_PROGRESS: "",
    ProjectStatus.DELIVERED: "attention",
    ProjectStatus.ACCEPTED: "ok",
    ProjectStatus.CANCELLED: "muted",
}
# The words the project pages use for a project's and an invitation's state: the model labels
# "Delivered" and "Accepted" share their msgids with other pages (送信済み, 受け入れ).
PROJECT_LABELS = {
    ProjectStatus.FORMING: ProjectStatus.FORMING.label,
    ProjectStatus.IN_PROGRESS: gettext_lazy("In production"),
    ProjectStatus.DELIVERED: gettext_lazy("Shipped in full, awaiting acceptance"),
    ProjectStatus.ACCEPTED: ProjectStatus.ACCEPTED.label,
    ProjectStatus.CANCELLED: ProjectStatus.CANCELLED.label,
}
INVITATION_LABELS = {
    InvitationStatus.INVITED: (gettext_lazy("Waiting for the answer"), ""),
    InvitationStatus.ACCEPTED: (gettext_lazy("Took the work"), "ok"),
    InvitationStatus.DECLINED: (gettext_lazy("Declined the work"), "muted"),
    InvitationStatus.EXPIRED: (InvitationStatus.EXPIRED.label, "muted"),
    InvitationStatus.WITHDRAWN: (InvitationStatus.WITHDRAWN.label, "muted"),
}
# Packages still added and shipments still sent while the project runs.
ADDING = (ProjectStatus.FORMING, ProjectStatus.IN_PROGRESS)


# ---------------------------------------------------------------------------------------
# Helpers


def _visible_project(request, pk: int) -> Project:
    return get_object_or_404(selectors.project_list(viewer=request.user), pk=pk)


def _visible_package(request, pk: int):
    return get_object_or_404(selectors.package_list(viewer=request.user), pk=pk)


def _is_lead(user, project: Project) -> bool:
    return roles_of(user).acts_for(project.lead_id)


def _is_staff(user, project: Project) -> bool:
    return roles_of(user).is_staff_of(project.network_id)


def _is_buyer(user, project: Project) -> bool:
    return user.is_authenticated and project.inquiry.buyer.user_id == user.pk


def _require_lead(request, project: Project) -> None:
    """Whoever may see the project but is not its lead (staff, a member, the buyer): 403."""
    if not _is_lead(request.user, project):
        raise PermissionDenied(_("Only the lead company of this project may do this."))


def _board_url(project_id: int, anchor: str = "") -> str:
    url = reverse("project_board", args=[project_id])
    return f"{url}#{anchor}" if anchor else url


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


def agreement_pdf_url(agreement_id: int) -> str | None:
    """The agreement's PDF: the page route if orders/urls.py has it, else the API's."""
    for name in ("agreement_pdf", "agreement-pdf"):
        try:
            return reverse(name, args=[agreement_id])
        except NoReverseMatch:
            continue
    return None


def _run(request, call, done: str, back: str):
    """A plain button (no fields): refused as not allowed → 403; a broken rule → the reason
    as a message on the page it came from."""
    try:
        call()
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except BrokerageError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(back)


def _group(items, key) -> dict:
    grouped: dict = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    return grouped


def _due(package, today: datetime.date) -> str:
    """'late', 'soon' or '' for a package still owed to the lead."""
    if package.status == P.ACCEPTED or package.member_id is None:
        return ""
    if package.due_date < today:
        return "late"
    if package.due_date <= today + datetime.timedelta(days=execution.DUE_SOON_DAYS):
        return "soon"
    return ""


def _late_chargeable(package, today: datetime.date) -> bool:
    """As execution.charge_late decides: a member's package finished (or still owed) after
    its due date."""
    if package.self_performed or package.member_id is None:
        return False
    finished = package.completed_at and timezone.localdate(package.completed_at)
    return (finished or today) > package.due_date


def _terms(project: Project) -> str:
    return payment_terms_plain(
        project.payment_closing_day, project.payment_month_offset, project.payment_day
    )


def _label(project: Project) -> None:
    project.label = PROJECT_LABELS.get(project.status, project.get_status_display())
    project.badge = PROJECT_BADGES.get(project.status, "")


def _sees_buyer(user, project: Project) -> bool:
    """The rule of orders/api/projects.py: the lead and the staff always; a team member
    only if the lead shares it."""
    return _is_lead(user, project) or _is_staff(user, project) or project.share_buyer_identity


def _sees_value(user, project: Project) -> bool:
    return _is_lead(user, project) or _is_staff(user, project) or project.share_order_value


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
# Lists: the lead's and the secretariat's projects, the buyer's deliveries


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


@login_required
def buyer_projects(request):
    if not roles_of(request.user).is_buyer:
        raise PermissionDenied
    rows = list(
        selectors.project_list(viewer=request.user)
        .filter(inquiry__buyer__user=request.user)
        .order_by("-opened_at", "-id")
    )
    for project in rows:
        _label(project)
    return render(request, "orders/project_buyer_list.html", {"projects": rows})


# ---------------------------------------------------------------------------------------
# The lead's board (read-only for the network's staff)


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
    return _("Being worked on"), anchor


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
    traceable = project.packages.filter(member__isnull=False).select_related(
        "process", "material", "member"
    )
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
        if not is_lead:
            continue
        if package.status == P.OPEN:
            row["suggestions"] = selectors.package_suggestions(package)
            row["invite_form"] = bound.get(f"invite-{pk}") or InviteForm(
                prefix=f"invite-{pk}", companies=companies
            )
        if package.status != P.ACCEPTED:
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


@login_required
@require_POST
def package_add(request, pk: int):
    project = _visible_project(request, pk)
    _require_lead(request, project)
    form = PackageForm(request.POST, prefix="package")
    added = []
    if form.is_valid() and call_service(
        form,
        lambda: added.append(
            projects.package_add(actor=request.user, project=project, **form.cleaned_data)
        ),
    ):
        messages.success(request, _("The package was added. Invite a member to take it."))
        return redirect(_board_url(project.pk, f"package-{added[0].pk}"))
    return _render_board(request, project, bound={"package": form})


@login_required
@require_POST
def package_invite(request, pk: int):
    package = _visible_package(request, pk)
    project = package.project
    _require_lead(request, project)
    companies = member_selectors.company_list(viewer=request.user).prefetch_related(None)
    form = InviteForm(request.POST, prefix=f"invite-{pk}", companies=companies)
    sent = []
    if form.is_valid() and call_service(
        form,
        lambda: sent.append(
            projects.invitation_send(
                actor=request.user, package=package, company=form.cleaned_data["company"]
            )
        ),
    ):
        invitation, warnings = sent[0]
        messages.success(
            request,
            _("%(company)s is invited. It has until %(until)s to answer.")
            % {
                "company": invitation.company.legal_name,
                "until": timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d %H:%M"),
            },
        )
        for warning in warnings:
            messages.warning(request, warning)
        return redirect(_board_url(project.pk, f"package-{pk}"))
    return _render_board(request, project, bound={f"invite-{pk}": form})


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
    form = StandardForm(request.POST, request.FILES, prefix=f"standard-{pk}")
    if form.is_valid() and call_service(
        form,
        lambda: execution.standard_attach(
            actor=request.user,
            package=package,
            title=form.cleaned_data["title"],
            note=form.cleaned_data["note"],
            upload=form.cleaned_data["file"],
        ),
    ):
        messages.success(request, _("The work standard was attached; the member confirms it."))
        return redirect(_board_url(project.pk, f"package-{pk}"))
    return _render_board(request, project, bound={f"standard-{pk}": form})


@login_required
@require_POST
def package_charge_late(request, pk: int):
    package = _visible_package(request, pk)
    project = package.project
    _require_lead(request, project)
    form = LateChargeForm(request.POST, prefix=f"late-{pk}")
    if form.is_valid() and call_service(
        form,
        lambda: execution.charge_late(
            actor=request.user,
            package=package,
            amount_yen=form.cleaned_data["amount_yen"],
            reason=form.cleaned_data["reason"],
        ),
    ):
        messages.success(request, _("The late-delivery penalty was charged to the member."))
        return redirect(_board_url(project.pk, f"package-{pk}"))
    return _render_board(request, project, bound={f"late-{pk}": form})


@login_required
@require_POST
def shipment_send(request, pk: int):
    project = _visible_project(request, pk)
    _require_lead(request, project)
    form = ShipmentForm(request.POST, prefix="ship")
    if form.is_valid() and call_service(
        form,
        lambda: execution.shipment_send(actor=request.user, project=project, **form.cleaned_data),
    ):
        messages.success(request, _("The shipment to the buyer was recorded; the buyer is told."))
        return redirect(_board_url(project.pk, "shipments"))
    return _render_board(request, project, bound={"ship": form})


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
    packages = project.packages.filter(member__isnull=False).select_related(
        "process", "material", "member"
    )
    form = TraceForm(request.POST, prefix=f"trace-{pk}", packages=packages)
    if form.is_valid() and call_service(
        form,
        lambda: execution.claim_trace(
            actor=request.user,
            claim=claim,
            package=form.cleaned_data["package"],
            charge_yen=form.cleaned_data["charge_yen"] or 0,
            note=form.cleaned_data["note"],
        ),
    ):
        messages.success(request, _("The claim is traced to the package."))
        return redirect(_board_url(project.pk, "claims"))
    return _render_board(request, project, bound={f"trace-{pk}": form})


@login_required
@require_POST
def claim_resolve(request, pk: int):
    claim = _visible_claim(request, pk)
    project = claim.shipment.project
    _require_lead(request, project)
    form = ResolveForm(request.POST, prefix=f"resolve-{pk}")
    if form.is_valid() and call_service(
        form,
        lambda: execution.claim_resolve(
            actor=request.user, claim=claim, resolution=form.cleaned_data["resolution"]
        ),
    ):
        messages.success(request, _("The claim is closed."))
        return redirect(_board_url(project.pk, "claims"))
    return _render_board(request, project, bound={f"resolve-{pk}": form})


# ---------------------------------------------------------------------------------------
# Inspection (検品)


def _plan_for(delivery, params) -> tuple:
    """(plan, error, inputs) for the level, AQL and quantity received in `params` (GET, or the
    form's 'work out the sample' button). Never writes."""
    raw = params.get("quantity_received") or params.get("received") or delivery.quantity
    level = params.get("inspection_level") or params.get("level") or "II"
    aql = params.get("aql") or "1.0"
    try:
        received = int(str(raw).strip())
    except ValueError:
        return None, _("Give the quantity received as a whole number."), {}
    inputs = {"quantity_received": received, "inspection_level": level, "aql": aql}
    try:
        plan = execution.sampling_plan(lot_size=received, level=level, aql=aql)
    except BrokerageError as exc:
        return None, exc.message, inputs
    return plan, None, inputs


@login_required
def delivery_inspect(request, pk: int):
    delivery = get_object_or_404(selectors.delivery_list(viewer=request.user), pk=pk)
    package = delivery.package
    project = package.project
    is_lead = _is_lead(request.user, project)
    if not (is_lead or _is_staff(request.user, project)):
        if request.method == "POST":
            raise PermissionDenied(_("Only the lead company of this project may do this."))
        # The member sees its inspection results on its package page.
        return redirect(reverse("work_package", args=[package.pk]) + "#deliveries")
    inspection = getattr(delivery, "inspection", None)
    context = {
        "delivery": delivery,
        "package": package,
        "project": project,
        "inspection": inspection,
        "is_lead": is_lead,
    }
    if inspection is not None:
        if request.method == "POST":
            messages.error(request, _("This delivery is already inspected."))
        context["photos"] = list(inspection.photos.all())
        context["charge"] = getattr(inspection, "charge", None)
        return render(request, "orders/project_inspection.html", context)
    if request.method == "POST" and not is_lead:
        raise PermissionDenied(_("Only the lead company of this project may do this."))

    form = None
    params = {}
    if request.method == "POST" and "work_out" not in request.POST:
        form = InspectionForm(request.POST, request.FILES)
        if form.is_valid() and call_service(
            form,
            lambda: execution.inspection_record(
                actor=request.user, delivery=delivery, **form.service_kwargs()
            ),
        ):
            messages.success(request, _("The inspection was recorded. The member sees the result."))
            return redirect("delivery_inspect", pk=delivery.pk)
        params = request.POST
    elif request.method == "POST":
        params = request.POST  # 'work out the sample': show the plan, save nothing
    else:
        params = request.GET
    plan, plan_error, inputs = _plan_for(delivery, params)
    if form is None:
        initial = {
            "method": InspectionForm.SAMPLE,
            "quantity_received": delivery.quantity,
            "inspection_level": "II",
            "aql": "1.0",
            "defects_found": 0,
        }
        for name in ("method", "quantity_passed", "defects_found", "defect_reason", "disposition"):
            if params.get(name) not in (None, ""):
                initial[name] = params[name]
        initial.update(inputs)
        form = InspectionForm(initial=initial)
    context.update(
        {
            "form": form if is_lead else None,
            "plan": plan,
            "plan_error": plan_error,
            "plan_sample": min(plan.sample_size, plan.lot_size) if plan else None,
        }
    )
    return render(request, "orders/project_inspection.html", context)


# ---------------------------------------------------------------------------------------
# The member: 担当作業


def _member_company(request) -> int:
    company_id = roles_of(request.user).company_id
    if company_id is None:
        raise PermissionDenied
    return company_id


@login_required
def my_work(request, *, bound: dict | None = None):
    bound = bound or {}
    company_id = _member_company(request)
    viewer = request.user
    invitations = list(
        selectors.invitation_list(viewer=viewer)
        .filter(
            company_id=company_id,
            status=InvitationStatus.INVITED,
            expires_at__gt=timezone.now(),
        )
        .select_related(
            "package__material", "package__project__lead", "package__project__inquiry__buyer"
        )
        .order_by("expires_at", "id")
    )
    for invitation in invitations:
        project = invitation.package.project
        invitation.buyer = project.inquiry.buyer if project.share_buyer_identity else None
        invitation.order_value = project.order_value_yen if project.share_order_value else None
        invitation.form = bound.get(f"respond-{invitation.pk}") or RespondForm(
            prefix=f"respond-{invitation.pk}"
        )
    agreements = list(
        selectors.agreement_list(viewer=viewer)
        .filter(member_id=company_id, member_accepted_at__isnull=True)
        .order_by("project", "kind")
    )
    for agreement in agreements:
        agreement.pdf_url = agreement_pdf_url(agreement.pk)
    today = timezone.localdate()
    packages = list(
        selectors.package_list(viewer=viewer)
        .filter(member_id=company_id)
        .order_by("due_date", "id")
    )
    current, finished = [], []
    for package in packages:
        package.badge = PACKAGE_BADGES.get(package.status, "")
        package.due = _due(package, today)
        package.next_step = _next_step_for_member(package, has_open_standards=None)
        (finished if package.status == P.ACCEPTED else current).append(package)
    return render(
        request,
        "orders/project_my_work.html",
        {
            "invitations": invitations,
            "agreements": agreements,
            "current": current,
            "finished": finished[:20],
        },
    )


def _next_step_for_member(package, *, has_open_standards: bool | None) -> str:
    status = package.status
    if status == P.AWAITING_AGREEMENT:
        return _("Accept the agreement")
    if status == P.READY:
        if has_open_standards:
            return _("Read and confirm the work standards, then start")
        return _("Press 「Start the work」 when you begin")
    if status in (P.IN_PROGRESS, P.INSPECTED):
        return _("Deliver to the lead when the pieces are finished")
    if status == P.RETURNED:
        return _("Rework the returned pieces and deliver them again")
    if status == P.SHIPPED:
        return _("The lead is inspecting your delivery")
    if status == P.ACCEPTED:
        return _("Done: the lead accepted everything")
    return ""


@login_required
@require_POST
def invitation_respond(request, pk: int):
    invitation = get_object_or_404(
        selectors.invitation_list(viewer=request.user).select_related("package"), pk=pk
    )
    if not roles_of(request.user).acts_for(invitation.company_id):
        raise PermissionDenied(_("This invitation is for another company."))
    form = RespondForm(request.POST, prefix=f"respond-{pk}")
    if form.is_valid():
        accept = form.cleaned_data["decision"] == RespondForm.ACCEPT
        if call_service(
            form,
            lambda: projects.invitation_respond(
                actor=request.user,
                invitation=invitation,
                accept=accept,
                reason=form.cleaned_data["reason"],
            ),
        ):
            if accept:
                messages.success(
                    request,
                    _("You took the package. Read and accept the agreement to start work."),
                )
                return redirect("work_package", pk=invitation.package_id)
            messages.success(request, _("You declined. The lead is told your reason."))
            return redirect("my_work")
    return my_work(request, bound={f"respond-{pk}": form})


@login_required
def work_package(request, pk: int, *, bound: dict | None = None):
    package = _visible_package(request, pk)
    project = package.project
    roles = roles_of(request.user)
    if package.member_id is None or not roles.acts_for(package.member_id):
        if _is_lead(request.user, project) or _is_staff(request.user, project):
            return redirect(_board_url(project.pk, f"package-{pk}"))
        return redirect("my_work")  # invited, not (yet) taken: the invitation is there
    viewer = request.user
    agreements = list(
        selectors.agreement_list(viewer=viewer).filter(project=project, member_id=package.member_id)
    )
    for agreement in agreements:
        agreement.pdf_url = agreement_pdf_url(agreement.pk)
    standards = list(selectors.standard_list(viewer=viewer).filter(package=package))
    open_standards = any(s.confirmed_at is None for s in standards)
    deliveries = list(selectors.delivery_list(viewer=viewer).filter(package=package))
    owed = execution.outstanding(package)
    bound = bound or {}
    can_deliver = package.status in execution.DELIVERABLE and owed > 0
    context = {
        "package": package,
        "project": project,
        "badge": PACKAGE_BADGES.get(package.status, ""),
        "due": _due(package, timezone.localdate()),
        "next_step": _next_step_for_member(package, has_open_standards=open_standards),
        "buyer": project.inquiry.buyer if _sees_buyer(viewer, project) else None,
        "order_value": project.order_value_yen if _sees_value(viewer, project) else None,
        "terms": _terms(project),
        "agreements": agreements,
        "standards": standards,
        "open_standards": open_standards,
        "deliveries": deliveries,
        "charges": list(selectors.charge_list(viewer=viewer).filter(package=package)),
        "claims": list(selectors.claim_list(viewer=viewer).filter(package=package)),
        "owed": owed,
        "delivery_form": (bound.get("deliver") or DeliveryForm(prefix="deliver"))
        if can_deliver
        else None,
        "can_start": package.status == P.READY,
    }
    return render(request, "orders/project_work_package.html", context)


@login_required
@require_POST
def standard_confirm(request, pk: int):
    standard = get_object_or_404(
        selectors.standard_list(viewer=request.user).select_related("package"), pk=pk
    )
    package = standard.package
    if package.member_id is None or not roles_of(request.user).acts_for(package.member_id):
        raise PermissionDenied(_("Only the member that took this package may do this."))
    return _run(
        request,
        lambda: execution.standard_confirm(actor=request.user, standard=standard),
        _("You confirmed the work standard."),
        reverse("work_package", args=[package.pk]) + "#standards",
    )


@login_required
@require_POST
def package_start(request, pk: int):
    package = _visible_package(request, pk)
    if package.member_id is None or not roles_of(request.user).acts_for(package.member_id):
        raise PermissionDenied(_("Only the member that took this package starts it."))
    return _run(
        request,
        lambda: projects.package_start(actor=request.user, package=package),
        _("Work started. Deliver to the lead when the pieces are finished."),
        reverse("work_package", args=[package.pk]),
    )


@login_required
@require_POST
def delivery_record(request, pk: int):
    package = _visible_package(request, pk)
    if package.member_id is None or not roles_of(request.user).acts_for(package.member_id):
        raise PermissionDenied(_("Only the member that took this package may do this."))
    form = DeliveryForm(request.POST, prefix="deliver")
    if form.is_valid() and call_service(
        form,
        lambda: execution.delivery_record(
            actor=request.user,
            package=package,
            quantity=form.cleaned_data["quantity"],
            note=form.cleaned_data["note"],
        ),
    ):
        messages.success(request, _("The delivery was recorded. The lead inspects it."))
        return redirect(reverse("work_package", args=[package.pk]) + "#deliveries")
    return work_package(request, pk, bound={"deliver": form})


# ---------------------------------------------------------------------------------------
# The buyer: 納品・検収 (the secretariat sees it too and records for a buyer who phoned)


@login_required
def project_delivery(request, pk: int, *, bound: dict | None = None):
    project = _visible_project(request, pk)
    viewer = request.user
    if not (_is_buyer(viewer, project) or _is_staff(viewer, project)):
        if _is_lead(viewer, project):
            return redirect(_board_url(project.pk, "shipments"))
        raise Http404  # team members do not see the buyer's side
    bound = bound or {}
    can_act = execution.acts_for_buyer(viewer, project)
    shipments = list(selectors.shipment_list(viewer=viewer).filter(project=project))
    claims = _group(
        selectors.claim_list(viewer=viewer).filter(shipment__project=project),
        lambda c: c.shipment_id,
    )
    for shipment in shipments:
        shipment.claim_rows = claims.get(shipment.pk, [])
        shipment.claimed = sum(c.quantity for c in shipment.claim_rows)
        shipment.acceptable = shipment.quantity - shipment.claimed
        open_to_act = can_act and shipment.status == Shipment.Status.SHIPPED
        shipment.claim_form = (
            (bound.get(f"claim-{shipment.pk}") or ClaimForm(prefix=f"claim-{shipment.pk}"))
            if open_to_act
            else None
        )
        shipment.can_accept = open_to_act
    accepted = sum(s.accepted_quantity or 0 for s in shipments)
    _label(project)
    return render(
        request,
        "orders/project_delivery.html",
        {
            "project": project,
            "inquiry": project.inquiry,
            "shipments": shipments,
            "accepted": accepted,
            "ordered": project.inquiry.quantity,
            "waiting": sum(1 for s in shipments if s.status == Shipment.Status.SHIPPED),
            "can_act": can_act,
            "on_behalf": can_act and not _is_buyer(viewer, project),
        },
    )


def _visible_shipment(request, pk: int) -> Shipment:
    return get_object_or_404(
        selectors.shipment_list(viewer=request.user).select_related("project__inquiry__buyer"),
        pk=pk,
    )


def _require_buyer_side(request, project: Project) -> None:
    if not execution.acts_for_buyer(request.user, project):
        raise PermissionDenied(_("Only the buyer accepts or claims its delivery."))


@login_required
@require_POST
def shipment_accept(request, pk: int):
    shipment = _visible_shipment(request, pk)
    _require_buyer_side(request, shipment.project)
    return _run(
        request,
        lambda: execution.shipment_accept(actor=request.user, shipment=shipment),
        _("You accepted the delivery (検収). Thank you."),
        reverse("project_delivery", args=[shipment.project_id]),
    )


@login_required
@require_POST
def shipment_claim(request, pk: int):
    shipment = _visible_shipment(request, pk)
    project = shipment.project
    _require_buyer_side(request, project)
    form = ClaimForm(request.POST, request.FILES, prefix=f"claim-{pk}")
    if form.is_valid() and call_service(
        form,
        lambda: execution.claim_raise(
            actor=request.user,
            shipment=shipment,
            quantity=form.cleaned_data["quantity"],
            description=form.cleaned_data["description"],
            photos=form.cleaned_data["photos"],
        ),
    ):
        messages.success(request, _("Your claim was sent to the lead company."))
        return redirect("project_delivery", pk=project.pk)
    return project_delivery(request, project.pk, bound={f"claim-{pk}": form})


# ---------------------------------------------------------------------------------------
# Files: work standards and photos of defects, to those who may see their record


@login_required
def standard_file(request, pk: int):
    standard = get_object_or_404(selectors.standard_list(viewer=request.user), pk=pk)
    if not standard.file:
        raise Http404
    return FileResponse(
        standard.file.open("rb"),
        as_attachment=True,
        filename=standard.original_name or "standard",
        content_type=standard.content_type or "application/octet-stream",
    )


@login_required
def evidence_photo(request, pk: int):
    photo = get_object_or_404(EvidencePhoto, pk=pk)
    if photo.claim_id:
        visible = selectors.claim_list(viewer=request.user).filter(pk=photo.claim_id).exists()
    else:
        visible = (
            selectors.delivery_list(viewer=request.user)
            .filter(inspection__pk=photo.inspection_id)
            .exists()
        )
    if not visible:
        raise Http404
    response = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response
