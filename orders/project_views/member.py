"""The member's pages (担当作業): the invitations it answers, the agreements it accepts, and
each package it took: confirm the standards, start, deliver to the lead."""

from functools import partial

from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.pages import COMPANY, POST, SIGNED_IN, page, require
from members.permissions import roles_of

from .. import execution, projects, selectors
from ..models import InvitationStatus, Project
from ..models import PackageStatus as P
from ..project_forms import DeliveryForm, RespondForm
from .common import (
    PACKAGE_BADGES,
    _board_url,
    _due,
    _form_action,
    _is_lead,
    _is_package_member,
    _is_staff,
    _run,
    _terms,
    agreement_pdf_url,
    visible_packages,
)

ONLY_MEMBER = gettext_lazy("Only the member that took this package may do this.")


def _sees_buyer(user, project: Project) -> bool:
    """The rule of orders/api/projects.py: the lead and the staff always; a team member
    only if the lead shares it."""
    return _is_lead(user, project) or _is_staff(user, project) or project.share_buyer_identity


def _sees_value(user, project: Project) -> bool:
    return _is_lead(user, project) or _is_staff(user, project) or project.share_order_value


@page(COMPANY)
def my_work(request):
    return _my_work_page(request)


def _my_work_page(request, *, bound: dict | None = None):
    bound = bound or {}
    company_id = roles_of(request.user).company_id
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


def _visible_invitations(request):
    return selectors.invitation_list(viewer=request.user).select_related("package")


@page(SIGNED_IN, scope=_visible_invitations, methods=POST)
def invitation_respond(request, invitation):
    pk = invitation.pk
    require(
        roles_of(request.user).acts_for(invitation.company_id),
        _("This invitation is for another company."),
    )
    form = RespondForm(request.POST, prefix=f"respond-{pk}")
    accept = form.is_valid() and form.cleaned_data["decision"] == RespondForm.ACCEPT
    if accept:
        done = _("You took the package. Read and accept the agreement to start work.")
        then = reverse("work_package", args=[invitation.package_id])
    else:
        done, then = _("You declined. The lead is told your reason."), reverse("my_work")
    return _form_action(
        request,
        form,
        lambda data: projects.invitation_respond(
            actor=request.user, invitation=invitation, accept=accept, reason=data["reason"]
        ),
        done,
        then,
        partial(_my_work_page, request),
    )


@page(SIGNED_IN, scope=visible_packages)
def work_package(request, package):
    return _work_package_page(request, package)


def _work_package_page(request, package, *, bound: dict | None = None):
    project = package.project
    pk = package.pk
    if not _is_package_member(request.user, package):
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


def _visible_standards(request):
    return selectors.standard_list(viewer=request.user).select_related("package")


@page(SIGNED_IN, scope=_visible_standards, methods=POST)
def standard_confirm(request, standard):
    package = standard.package
    require(_is_package_member(request.user, package), ONLY_MEMBER)
    return _run(
        request,
        lambda: execution.standard_confirm(actor=request.user, standard=standard),
        _("You confirmed the work standard."),
        reverse("work_package", args=[package.pk]) + "#standards",
    )


@page(SIGNED_IN, scope=visible_packages, methods=POST)
def package_start(request, package):
    require(
        _is_package_member(request.user, package),
        _("Only the member that took this package starts it."),
    )
    return _run(
        request,
        lambda: projects.package_start(actor=request.user, package=package),
        _("Work started. Deliver to the lead when the pieces are finished."),
        reverse("work_package", args=[package.pk]),
    )


@page(SIGNED_IN, scope=visible_packages, methods=POST)
def delivery_record(request, package):
    pk = package.pk
    require(_is_package_member(request.user, package), ONLY_MEMBER)
    return _form_action(
        request,
        DeliveryForm(request.POST, prefix="deliver"),
        lambda data: execution.delivery_record(
            actor=request.user, package=package, quantity=data["quantity"], note=data["note"]
        ),
        _("The delivery was recorded. The lead inspects it."),
        reverse("work_package", args=[package.pk]) + "#deliveries",
        # The page again with the refused form, on a fresh read of the package.
        lambda bound: _work_package_page(
            request, get_object_or_404(visible_packages(request), pk=pk), bound=bound
        ),
    )
