"""The project board the lead runs the project from (packages, team, agreements, standards,
charges, shipments, claims), each with its forms for the lead; the network's staff read it
without them. The board's pages (lead.py) show it, and show it again with a refused form."""

import datetime

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from members import selectors as member_selectors

from .. import execution, selectors
from ..models import Claim, InvitationStatus, Project, ProjectStatus
from ..models import PackageStatus as P
from ..project_forms import (
    CancelPackageForm,
    InviteForm,
    LateChargeForm,
    PackageForm,
    ResolveForm,
    ShipmentForm,
    StandardForm,
    TraceForm,
    WithdrawInvitationForm,
)
from .common import (
    INVITATION_LABELS,
    PACKAGE_BADGES,
    _due,
    _group,
    _is_lead,
    _label,
    _terms,
    agreement_pdf_url,
)

# Packages still added and shipments still sent while the project runs.
ADDING = (ProjectStatus.FORMING, ProjectStatus.IN_PROGRESS)


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


def _board_records(viewer, project: Project) -> dict:
    """Everything on the board the viewer may see, grouped by package where it belongs."""
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
    shipments = list(selectors.shipment_list(viewer=viewer).filter(project=project))
    claims = list(
        selectors.claim_list(viewer=viewer)
        .filter(shipment__project=project)
        .select_related("shipment")
    )
    return {
        "invitations": invitations,
        "agreements": agreements,
        "agreements_by_member": _group(agreements, lambda a: a.member_id),
        "standards": standards,
        "deliveries": deliveries,
        "charges": charges,
        "charges_by_package": _group(charges, lambda c: c.package_id),
        "shipments": shipments,
        "claims": claims,
    }


def _fill_row(row: dict, records: dict, today: datetime.date) -> None:
    package = row["package"]
    pk = package.pk
    row["badge"] = PACKAGE_BADGES.get(package.status, "")
    row["due"] = _due(package, today)
    row["invitations"] = records["invitations"].get(pk, [])
    row["agreements"] = (
        records["agreements_by_member"].get(package.member_id, [])
        if not package.self_performed
        else []
    )
    row["standards"] = records["standards"].get(pk, [])
    row["deliveries"] = records["deliveries"].get(pk, [])
    row["charges"] = records["charges_by_package"].get(pk, [])
    row["next_step"] = _next_step_for_lead(row, row["agreements"])


def _label_invitations(invitations, *, is_lead: bool, bound: dict) -> None:
    for invitation in invitations:
        invitation.label, invitation.badge = INVITATION_LABELS.get(
            invitation.status, (invitation.get_status_display(), "")
        )
        if is_lead and invitation.status == InvitationStatus.INVITED:
            prefix = f"withdraw-{invitation.pk}"
            invitation.withdraw_form = bound.get(prefix) or WithdrawInvitationForm(prefix=prefix)


def _lead_row_forms(row: dict, bound: dict, today: datetime.date, companies) -> None:
    """The lead's forms on one package's row."""
    package = row["package"]
    pk = package.pk
    if package.status == P.OPEN:
        row["cancel_form"] = bound.get(f"cancel-{pk}") or CancelPackageForm(prefix=f"cancel-{pk}")
        row["suggestions"] = selectors.package_suggestions(package)
        row["invite_form"] = bound.get(f"invite-{pk}") or InviteForm(
            prefix=f"invite-{pk}", companies=companies
        )
    if package.status not in (P.ACCEPTED, P.CANCELLED):
        row["standard_form"] = bound.get(f"standard-{pk}") or StandardForm(prefix=f"standard-{pk}")
    if _late_chargeable(package, today):
        row["late_form"] = bound.get(f"late-{pk}") or LateChargeForm(prefix=f"late-{pk}")


def _lead_claim_forms(claims, bound: dict, traceable) -> None:
    for claim in claims:
        if claim.status == Claim.Status.OPEN:
            claim.trace_form = bound.get(f"trace-{claim.pk}") or TraceForm(
                prefix=f"trace-{claim.pk}", packages=traceable
            )
        elif claim.status == Claim.Status.TRACED:
            claim.resolve_form = bound.get(f"resolve-{claim.pk}") or ResolveForm(
                prefix=f"resolve-{claim.pk}"
            )


def _render_board(request, project: Project, *, bound: dict | None = None):
    bound = bound or {}
    viewer = request.user
    is_lead = _is_lead(viewer, project)
    today = timezone.localdate()
    rows = selectors.project_board(project)
    records = _board_records(viewer, project)
    traceable = _traceable(project)
    companies = member_selectors.company_list(viewer=viewer).prefetch_related(None)
    for row in rows:
        _fill_row(row, records, today)
        _label_invitations(row["invitations"], is_lead=is_lead, bound=bound)
        if is_lead:
            _lead_row_forms(row, bound, today, companies)
    claims, shipments = records["claims"], records["shipments"]
    if is_lead:
        _lead_claim_forms(claims, bound, traceable)
    claims_by_shipment = _group(claims, lambda c: c.shipment_id)
    for shipment in shipments:
        shipment.claim_rows = claims_by_shipment.get(shipment.pk, [])

    running = project.status in execution.RUNNING
    context = {
        "project": project,
        "inquiry": project.inquiry,
        "is_lead": is_lead,
        "terms": _terms(project),
        "rows": rows,
        "agreements": records["agreements"],
        "shipments": shipments,
        "claims": claims,
        "charges": records["charges"],
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
