"""The member pages. Each view fetches through a selector scoped to the viewer (404 for what
the viewer may not see), checks the right to act (403), and writes through one service."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import BrokerageError, NotAllowed

from . import selectors, services
from .forms import (
    CapabilityForm,
    CompanyProfileForm,
    DecideForm,
    MemberDirectoryFilterForm,
    RecommendForm,
    SpareCapacityForm,
    apply_service_error,
    changed_fields,
)
from .models import (
    AppointmentStatus,
    Capability,
    Company,
    LeadAppointment,
    Membership,
    MembershipStatus,
    Network,
    Recommendation,
)
from .permissions import roles_of
from .templatetags.members_tags import local_name

DIRECTORY_PAGE_SIZE = 50
# Spare capacity older than this is flagged: the network lives on figures that are current.
CAPACITY_STALE_AFTER = datetime.timedelta(days=30)


# ---------------------------------------------------------------------------------------
# Home


@login_required
def home(request):
    roles = roles_of(request.user)
    context = {}
    if roles.company_id:
        capabilities = list(
            Capability.objects.filter(company_id=roles.company_id).only(
                "spare_capacity_per_month", "capacity_updated_at"
            )
        )
        stale_before = timezone.now() - CAPACITY_STALE_AFTER
        context["company_card"] = {
            "capability_count": len(capabilities),
            "spare_total": sum(c.spare_capacity_per_month for c in capabilities),
            "stale_count": sum(
                1
                for c in capabilities
                if c.capacity_updated_at is None or c.capacity_updated_at < stale_before
            ),
        }
    if roles.secretariat_network_ids:
        context["secretariat_networks"] = _networks_with_counts(roles.secretariat_network_ids)
    if roles.committee_network_ids:
        context["committee_networks"] = _networks_with_counts(roles.committee_network_ids)
    if roles.member_network_ids:
        context["recommendable_count"] = (
            selectors.appointment_list(viewer=request.user)
            .filter(status=AppointmentStatus.PENDING, network_id__in=roles.member_network_ids)
            .exclude(company_id=roles.company_id)
            .count()
        )
    return render(request, "members/home.html", context)


def _networks_with_counts(network_ids) -> list[Network]:
    active = Q(memberships__status=MembershipStatus.ACTIVE)
    pending = Q(appointments__status=AppointmentStatus.PENDING)
    return list(
        Network.objects.filter(pk__in=network_ids).annotate(
            member_count=Count("memberships__company", filter=active, distinct=True),
            nonmember_count=Count("directory", distinct=True),
            pending_count=Count("appointments", filter=pending, distinct=True),
        )
    )


# ---------------------------------------------------------------------------------------
# Companies


def _visible_company(request, pk: int) -> Company:
    """A company the viewer may see, without the catalogue's prefetches (404 otherwise)."""
    return get_object_or_404(
        selectors.company_list(viewer=request.user).prefetch_related(None), pk=pk
    )


def _editable_company(request, pk: int) -> Company:
    company = _visible_company(request, pk)
    if not services.may_edit_company(request.user, company):
        raise PermissionDenied
    return company


@login_required
def my_company(request):
    if request.user.company_id is None:
        messages.info(request, _("Your account does not belong to a company."))
        return redirect("home")
    return redirect("company_edit", pk=request.user.company_id)


@login_required
def company_detail(request, pk: int):
    company = get_object_or_404(selectors.company_list(viewer=request.user), pk=pk)
    roles = roles_of(request.user)
    memberships = [
        m
        for m in company.memberships.all()
        if m.status == MembershipStatus.ACTIVE or roles.is_staff_of(m.network_id)
    ]
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


@login_required
def company_edit(request, pk: int):
    company = _editable_company(request, pk)
    form = CompanyProfileForm(request.POST or None, instance=company)
    if request.method == "POST" and form.is_valid():
        data = changed_fields(form)
        if not data:
            messages.info(request, _("Nothing was changed."))
            return redirect("company_edit", pk=company.pk)
        try:
            services.company_update(actor=request.user, company=company, data=data)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except (ValidationError, BrokerageError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("The company profile was saved."))
            return redirect("company_edit", pk=company.pk)
    return render(request, "members/company_form.html", {"company": company, "form": form})


# ---------------------------------------------------------------------------------------
# Capabilities


@login_required
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


@login_required
def capability_list(request, company_id: int):
    company = _editable_company(request, company_id)
    return _render_capability_list(request, company)


@login_required
def capability_create(request, company_id: int):
    company = _editable_company(request, company_id)
    form = CapabilityForm(request.POST or None, instance=Capability(company=company))
    if request.method == "POST" and form.is_valid():
        try:
            services.capability_create(
                actor=request.user, company=company, data=dict(form.cleaned_data)
            )
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except (ValidationError, BrokerageError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("The capability was added."))
            return redirect("capability_list", company_id=company.pk)
    return render(
        request, "members/capability_form.html", {"company": company, "form": form, "new": True}
    )


def _editable_capability(request, pk: int) -> Capability:
    capability = get_object_or_404(selectors.capability_list(viewer=request.user), pk=pk)
    if not services.may_edit_company(request.user, capability.company):
        raise PermissionDenied
    return capability


@login_required
def capability_edit(request, pk: int):
    capability = _editable_capability(request, pk)
    company = capability.company
    form = CapabilityForm(request.POST or None, instance=capability)
    if request.method == "POST" and form.is_valid():
        try:
            services.capability_update(
                actor=request.user, capability=capability, data=dict(form.cleaned_data)
            )
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except (ValidationError, BrokerageError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("The capability was saved."))
            return redirect("capability_list", company_id=company.pk)
    return render(
        request,
        "members/capability_form.html",
        {"company": company, "form": form, "capability": capability, "new": False},
    )


@login_required
@require_POST
def capability_spare(request, pk: int):
    """The quick form on each row: only this month's spare capacity."""
    capability = _editable_capability(request, pk)
    form = SpareCapacityForm(request.POST, auto_id=f"id_spare_{capability.pk}_%s")
    if form.is_valid():
        try:
            services.capability_update(
                actor=request.user, capability=capability, data=form.cleaned_data
            )
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except (ValidationError, BrokerageError) as exc:
            apply_service_error(form, exc)
        else:
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


@login_required
def capability_delete(request, pk: int):
    capability = _editable_capability(request, pk)
    if request.method == "POST":
        try:
            services.capability_delete(actor=request.user, capability=capability)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        messages.success(request, _("The capability was deleted."))
        return redirect("capability_list", company_id=capability.company_id)
    return render(request, "members/capability_confirm_delete.html", {"capability": capability})


# ---------------------------------------------------------------------------------------
# Directories (secretariat and committee)


def _staff_networks(request):
    roles = roles_of(request.user)
    networks = selectors.network_list(viewer=request.user).prefetch_related(None)
    if roles.is_platform_admin:
        return networks
    return networks.filter(pk__in=roles.staff_network_ids)


def _staff_network(request, network_id: int) -> Network:
    network = get_object_or_404(
        selectors.network_list(viewer=request.user).prefetch_related(None), pk=network_id
    )
    if not roles_of(request.user).is_staff_of(network.pk):
        raise PermissionDenied
    return network


@login_required
def directory_index(request):
    networks = list(_staff_networks(request))
    if not networks:
        raise PermissionDenied
    if len(networks) == 1:
        return redirect("member_directory", network_id=networks[0].pk)
    return render(request, "members/directory_index.html", {"networks": networks})


def _filter_members(qs, network: Network, filters: dict):
    if filters.get("q"):
        text = filters["q"]
        qs = qs.filter(
            Q(legal_name__icontains=text)
            | Q(legal_name_kana__icontains=text)
            | Q(name_en__icontains=text)
        )
    if filters.get("prefecture"):
        qs = qs.filter(prefecture=filters["prefecture"])
    membership = {}
    if filters.get("membership_class"):
        membership["membership_class"] = filters["membership_class"]
    if filters.get("status"):
        membership["status"] = filters["status"]
    if membership:
        qs = qs.filter(
            Exists(Membership.objects.filter(company=OuterRef("pk"), network=network, **membership))
        )
    # Process, material and spare capacity must hold for one and the same capability.
    capability = {}
    if filters.get("process"):
        capability["process"] = filters["process"]
    if filters.get("material"):
        capability["material"] = filters["material"]
    if filters.get("min_spare"):
        capability["spare_capacity_per_month__gte"] = filters["min_spare"]
    if capability:
        qs = qs.filter(Exists(Capability.objects.filter(company=OuterRef("pk"), **capability)))
    return qs


@login_required
def member_directory(request, network_id: int):
    network = _staff_network(request, network_id)
    form = MemberDirectoryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    companies = (
        selectors.member_directory(viewer=request.user, network=network)
        .prefetch_related(None)
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(network=network).order_by("membership_class"),
                to_attr="network_memberships",
            ),
            Prefetch(
                "capabilities",
                queryset=Capability.objects.select_related("process", "material").order_by(
                    "process__sort_order", "material__sort_order"
                ),
            ),
        )
    )
    companies = _filter_members(companies, network, filters)
    page = Paginator(companies, DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for company in page.object_list:
        capabilities = list(company.capabilities.all())
        processes = list(dict.fromkeys(local_name(c.process) for c in capabilities))
        updated = [c.capacity_updated_at for c in capabilities if c.capacity_updated_at]
        rows.append(
            {
                "company": company,
                "memberships": company.network_memberships,
                "processes": processes,
                "spare_total": sum(c.spare_capacity_per_month for c in capabilities),
                "capacity_updated_at": min(updated) if updated else None,
            }
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "members/member_directory.html",
        {
            "network": network,
            "form": form,
            "page": page,
            "rows": rows,
            "querystring": query.urlencode(),
        },
    )


@login_required
def nonmember_directory(request, network_id: int):
    network = _staff_network(request, network_id)
    entries = selectors.directory_list(viewer=request.user).filter(network=network)
    page = Paginator(entries, DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.process_names = list(
            dict.fromkeys(local_name(c.process) for c in entry.company.capabilities.all())
        )
    return render(request, "members/nonmember_directory.html", {"network": network, "page": page})


# ---------------------------------------------------------------------------------------
# Lead appointments


def _may_see_appointments(request) -> bool:
    roles = roles_of(request.user)
    return roles.is_platform_admin or bool(roles.staff_network_ids or roles.member_network_ids)


@login_required
def appointment_list(request):
    if not _may_see_appointments(request):
        raise PermissionDenied
    status = request.GET.get("status", AppointmentStatus.PENDING)
    appointments = selectors.appointment_list(viewer=request.user)
    if status in AppointmentStatus.values:
        appointments = appointments.filter(status=status)
    else:
        status = ""
    return render(
        request,
        "members/appointment_list.html",
        {
            "appointments": appointments,
            "status": status,
            "statuses": AppointmentStatus.choices,
        },
    )


def _visible_appointment(request, pk: int) -> LeadAppointment:
    return get_object_or_404(selectors.appointment_list(viewer=request.user), pk=pk)


def _render_appointment(request, appointment, *, recommend_form=None, decide_form=None):
    roles = roles_of(request.user)
    recommendations = list(
        Recommendation.objects.filter(appointment=appointment).select_related(
            "recommender", "recommended_by"
        )
    )
    pending = appointment.status == AppointmentStatus.PENDING
    may_recommend = (
        pending
        and roles.company_id is not None
        and roles.company_id != appointment.company_id
        and appointment.network_id in roles.member_network_ids
        and all(r.recommender_id != roles.company_id for r in recommendations)
    )
    may_decide = pending and (
        roles.is_committee(appointment.network_id) or roles.is_secretariat(appointment.network_id)
    )
    return render(
        request,
        "members/appointment_detail.html",
        {
            "appointment": appointment,
            "recommendations": recommendations,
            "needed": appointment.network.lead_recommendations_required,
            "recommend_form": (recommend_form or RecommendForm()) if may_recommend else None,
            "decide_form": (decide_form or DecideForm()) if may_decide else None,
        },
    )


@login_required
def appointment_detail(request, pk: int):
    return _render_appointment(request, _visible_appointment(request, pk))


@login_required
@require_POST
def appointment_recommend(request, pk: int):
    appointment = _visible_appointment(request, pk)
    form = RecommendForm(request.POST)
    if form.is_valid():
        try:
            services.appointment_recommend(
                actor=request.user, appointment=appointment, comment=form.cleaned_data["comment"]
            )
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except (ValidationError, BrokerageError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("Your recommendation was recorded."))
            return redirect("appointment_detail", pk=appointment.pk)
    return _render_appointment(request, appointment, recommend_form=form)


@login_required
@require_POST
def appointment_decide(request, pk: int):
    appointment = _visible_appointment(request, pk)
    roles = roles_of(request.user)
    if not (
        roles.is_committee(appointment.network_id) or roles.is_secretariat(appointment.network_id)
    ):
        raise PermissionDenied
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            services.appointment_decide(
                actor=request.user, appointment=appointment, **form.cleaned_data
            )
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except (ValidationError, BrokerageError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("The committee's decision was recorded."))
            return redirect(reverse("appointment_detail", kwargs={"pk": appointment.pk}))
    return _render_appointment(request, appointment, decide_form=form)
