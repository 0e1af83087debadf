"""Companies and their capabilities: the company page (the public card for buyers and
outsiders), the profile and capability forms of the company's own users and the staff."""

import datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import selectors, services
from ..forms import (
    CapabilityForm,
    CompanyProfileForm,
    SpareCapacityForm,
    call_service,
    changed_fields,
)
from ..models import (
    Capability,
    Company,
    MembershipStatus,
)
from ..pages import (
    POST,
    SIGNED_IN,
    page,
    require,
)
from ..permissions import roles_of
from ..templatetags.members_tags import local_name

# Spare capacity older than this is flagged: the network lives on figures that are current.
CAPACITY_STALE_AFTER = datetime.timedelta(days=30)


def _visible_companies(request):
    """The companies the viewer may see, without the catalogue's prefetches."""
    return selectors.company_list(viewer=request.user).prefetch_related(None)


def _require_editor(request, company: Company) -> None:
    """The company's own users and its networks' staff edit it (services.may_edit_company)."""
    require(services.may_edit_company(request.user, company))


@page(SIGNED_IN)
def my_company(request):
    if request.user.company_id is None:
        messages.info(request, _("Your account does not belong to a company."))
        return redirect("home")
    return redirect("company_edit", pk=request.user.company_id)


@page(SIGNED_IN, scope=lambda request: selectors.company_list(viewer=request.user))
def company_detail(request, company: Company):
    roles = roles_of(request.user)
    memberships = [
        m
        for m in company.memberships.all()
        if m.status == MembershipStatus.ACTIVE or roles.is_staff_of(m.network_id)
    ]
    if not selectors.sees_member_details(request.user):
        # Buyers and outsiders: the public card, capabilities without capacity, and
        # certifications without the workers' names.
        return render(
            request,
            "members/company_public.html",
            {
                "company": selectors.company_card(viewer=request.user, company=company),
                "memberships": memberships,
                "capabilities": company.capabilities.all(),
                "certifications": [
                    (w.trade, w.get_grade_display()) for w in company.certified_workers.all()
                ],
            },
        )
    return render(
        request,
        "members/company_detail.html",
        {
            "company": company,
            "memberships": memberships,
            "capabilities": company.capabilities.all(),
            "can_edit": services.may_edit_company(request.user, company),
        },
    )


@page(SIGNED_IN, scope=_visible_companies)
def company_edit(request, company: Company):
    _require_editor(request, company)
    form = CompanyProfileForm(request.POST or None, instance=company)
    if request.method == "POST" and form.is_valid():
        data = changed_fields(form)
        if not data:
            messages.info(request, _("Nothing was changed."))
            return redirect("company_edit", pk=company.pk)
        if call_service(
            form, lambda: services.company_update(actor=request.user, company=company, data=data)
        ):
            messages.success(request, _("The company profile was saved."))
            return redirect("company_edit", pk=company.pk)
    return render(request, "members/company_form.html", {"company": company, "form": form})


@page(SIGNED_IN)
def my_capabilities(request):
    if request.user.company_id is None:
        messages.info(request, _("Your account does not belong to a company."))
        return redirect("home")
    return redirect("capability_list", company_id=request.user.company_id)


def _render_capability_list(request, company: Company, row_forms: dict | None = None):
    capabilities = Capability.objects.filter(company=company).select_related("process", "material")
    stale_before = timezone.now() - CAPACITY_STALE_AFTER
    rows = []
    for capability in capabilities:
        spare_form = (row_forms or {}).get(capability.pk) or SpareCapacityForm(
            initial={"spare_capacity_per_month": capability.spare_capacity_per_month},
            auto_id=f"id_spare_{capability.pk}_%s",
        )
        rows.append(
            {
                "capability": capability,
                "spare_form": spare_form,
                "stale": capability.capacity_updated_at is None
                or capability.capacity_updated_at < stale_before,
            }
        )
    return render(
        request,
        "members/capability_list.html",
        {"company": company, "rows": rows, "stale_days": CAPACITY_STALE_AFTER.days},
    )


@page(SIGNED_IN, scope=_visible_companies, lookup="company_id")
def capability_list(request, company: Company):
    _require_editor(request, company)
    return _render_capability_list(request, company)


@page(SIGNED_IN, scope=_visible_companies, lookup="company_id")
def capability_create(request, company: Company):
    _require_editor(request, company)
    form = CapabilityForm(request.POST or None, instance=Capability(company=company))
    if (
        request.method == "POST"
        and form.is_valid()
        and call_service(
            form,
            lambda: services.capability_create(
                actor=request.user, company=company, data=dict(form.cleaned_data)
            ),
        )
    ):
        messages.success(request, _("The capability was added."))
        return redirect("capability_list", company_id=company.pk)
    return render(
        request, "members/capability_form.html", {"company": company, "form": form, "new": True}
    )


def _visible_capabilities(request):
    return selectors.capability_list(viewer=request.user)


@page(SIGNED_IN, scope=_visible_capabilities)
def capability_edit(request, capability: Capability):
    _require_editor(request, capability.company)
    company = capability.company
    form = CapabilityForm(request.POST or None, instance=capability)
    if (
        request.method == "POST"
        and form.is_valid()
        and call_service(
            form,
            lambda: services.capability_update(
                actor=request.user, capability=capability, data=dict(form.cleaned_data)
            ),
        )
    ):
        messages.success(request, _("The capability was saved."))
        return redirect("capability_list", company_id=company.pk)
    return render(
        request,
        "members/capability_form.html",
        {"company": company, "form": form, "capability": capability, "new": False},
    )


@page(SIGNED_IN, scope=_visible_capabilities, methods=POST)
def capability_spare(request, capability: Capability):
    """The quick form on each row: only this month's spare capacity."""
    _require_editor(request, capability.company)
    form = SpareCapacityForm(request.POST, auto_id=f"id_spare_{capability.pk}_%s")
    if form.is_valid() and call_service(
        form,
        lambda: services.capability_update(
            actor=request.user, capability=capability, data=form.cleaned_data
        ),
    ):
        messages.success(
            request,
            _("Spare capacity of %(process)s × %(material)s is now %(spare)s pieces / month.")
            % {
                "process": local_name(capability.process),
                "material": local_name(capability.material),
                "spare": f"{form.cleaned_data['spare_capacity_per_month']:,}",
            },
        )
        return redirect("capability_list", company_id=capability.company_id)
    return _render_capability_list(request, capability.company, {capability.pk: form})


@page(SIGNED_IN, scope=_visible_capabilities)
def capability_delete(request, capability: Capability):
    _require_editor(request, capability.company)
    if request.method == "POST":
        services.capability_delete(actor=request.user, capability=capability)  # NotAllowed: 403
        messages.success(request, _("The capability was deleted."))
        return redirect("capability_list", company_id=capability.company_id)
    return render(request, "members/capability_confirm_delete.html", {"capability": capability})
