"""The buyer's pages (納品・検収): its projects, and per project the shipments it accepts or
raises claims on. The network's staff see them too and record for a buyer who phoned."""

from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from members import selectors as member_selectors
from members.pages import BUYER, POST, SIGNED_IN, page, require

from .. import execution, selectors
from ..models import Project, Shipment
from ..project_forms import ClaimForm
from .common import (
    _board_url,
    _form_action,
    _group,
    _is_buyer,
    _is_lead,
    _is_staff,
    _label,
    _run,
    visible_projects,
)


@page(BUYER)
def buyer_projects(request):
    rows = list(
        selectors.project_list(viewer=request.user)
        .filter(inquiry__buyer__user=request.user)
        .order_by("-opened_at", "-id")
    )
    for project in rows:
        _label(project)
    return render(request, "orders/project_buyer_list.html", {"projects": rows})


@page(SIGNED_IN, scope=visible_projects)
def project_delivery(request, project: Project):
    return _delivery_page(request, project)


def _delivery_page(request, project: Project, *, bound: dict | None = None):
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
            # The lead as the viewer may see it: no contacts for the buyer (members.selectors).
            "lead": member_selectors.company_card(viewer=viewer, company=project.lead),
            "inquiry": project.inquiry,
            "shipments": shipments,
            "accepted": accepted,
            "ordered": project.inquiry.quantity,
            "waiting": sum(1 for s in shipments if s.status == Shipment.Status.SHIPPED),
            "can_act": can_act,
            "on_behalf": can_act and not _is_buyer(viewer, project),
        },
    )


def visible_shipments(request):
    return selectors.shipment_list(viewer=request.user).select_related("project__inquiry__buyer")


def _project_again(request, pk: int) -> Project:
    return get_object_or_404(visible_projects(request), pk=pk)


def _require_buyer_side(request, project: Project) -> None:
    require(
        execution.acts_for_buyer(request.user, project),
        _("Only the buyer accepts or claims its delivery."),
    )


@page(SIGNED_IN, scope=visible_shipments, methods=POST)
def shipment_accept(request, shipment: Shipment):
    _require_buyer_side(request, shipment.project)
    return _run(
        request,
        lambda: execution.shipment_accept(actor=request.user, shipment=shipment),
        _("You accepted the delivery (検収). Thank you."),
        reverse("project_delivery", args=[shipment.project_id]),
    )


@page(SIGNED_IN, scope=visible_shipments, methods=POST)
def shipment_claim(request, shipment: Shipment):
    pk = shipment.pk
    project = shipment.project
    _require_buyer_side(request, project)
    return _form_action(
        request,
        ClaimForm(request.POST, request.FILES, prefix=f"claim-{pk}"),
        lambda data: execution.claim_raise(
            actor=request.user,
            shipment=shipment,
            quantity=data["quantity"],
            description=data["description"],
            photos=data["photos"],
        ),
        _("Your claim was sent to the lead company."),
        reverse("project_delivery", args=[project.pk]),
        # The page again with the refused form, on a fresh read of the project.
        lambda bound: _delivery_page(request, _project_again(request, project.pk), bound=bound),
    )
