"""The member pages. Each view fetches through a selector scoped to the viewer (404 for what
the viewer may not see), checks the right to act (403), and writes through one service."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import BrokerageError, NotAllowed
from core.models import StatusChange

from . import selectors, services
from .forms import (
    AppointmentOpenForm,
    AppointmentWithdrawForm,
    CapabilityForm,
    CompanyProfileForm,
    DecideForm,
    DirectoryAddForm,
    DirectoryEntryForm,
    MemberDirectoryFilterForm,
    NewCompanyForm,
    RecommendForm,
    SpareCapacityForm,
    apply_service_error,
    call_service,
    changed_fields,
)
from .models import (
    AppointmentStatus,
    Capability,
    Company,
    DirectoryEntry,
    LeadAppointment,
    Membership,
    MembershipClass,
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


@login_required
def company_edit(request, pk: int):
    company = _editable_company(request, pk)
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


@login_required
@require_POST
def capability_spare(request, pk: int):
    """The quick form on each row: only this month's spare capacity."""
    capability = _editable_capability(request, pk)
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


def _secretariat_network(request, network_id: int, *, committee_too: bool = False) -> Network:
    """A network the viewer keeps: 403 for whoever keeps none, 404 for another network's."""
    roles = roles_of(request.user)
    ids = roles.secretariat_network_ids | (roles.committee_network_ids if committee_too else set())
    if not (roles.is_platform_admin or ids):
        raise PermissionDenied
    network = get_object_or_404(
        selectors.network_list(viewer=request.user).prefetch_related(None), pk=network_id
    )
    if not (roles.is_platform_admin or network.pk in ids):
        raise Http404
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
    return render(
        request,
        "members/nonmember_directory.html",
        {
            "network": network,
            "page": page,
            "may_edit": roles_of(request.user).is_secretariat(network.pk),
        },
    )


def _directory_candidates(request, network: Network):
    """Companies the viewer sees that are neither members of the network nor listed yet."""
    members = Membership.objects.filter(
        company=OuterRef("pk"), network=network, status=MembershipStatus.ACTIVE
    )
    listed = DirectoryEntry.objects.filter(company=OuterRef("pk"), network=network)
    return (
        selectors.company_list(viewer=request.user)
        .prefetch_related(None)
        .exclude(Exists(members))
        .exclude(Exists(listed))
        .order_by("legal_name_kana", "id")
    )


class _Refused(Exception):
    """Undo the company just registered when the directory refuses the entry."""


def _add_to_directory(request, network, form, company_form) -> DirectoryEntry | None:
    data = form.cleaned_data
    entry_kwargs = {
        "consents_to_referrals": data["consents_to_referrals"],
        "consent_recorded_on": data["consent_recorded_on"],
        "notes": data["notes"],
    }
    try:
        with transaction.atomic():
            company = data["company"]
            if company is None:
                try:
                    company = services.company_create(
                        actor=request.user, data=company_form.service_data(), network=network
                    )
                except (ValidationError, BrokerageError) as exc:
                    apply_service_error(company_form, exc)
                    raise _Refused from exc
            try:
                return services.directory_add(
                    actor=request.user, network=network, company=company, **entry_kwargs
                )
            except (ValidationError, BrokerageError) as exc:
                if isinstance(exc, NotAllowed):
                    raise
                apply_service_error(form, exc)
                raise _Refused from exc
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except _Refused:
        return None


@login_required
def directory_add(request, network_id: int):
    """The secretariat lists a non-member: an existing company, or a new one registered here."""
    network = _secretariat_network(request, network_id)
    post = request.POST if request.method == "POST" else None
    form = DirectoryAddForm(post, companies=_directory_candidates(request, network))
    company_form = NewCompanyForm(post, prefix="company")
    if post is not None and form.is_valid():
        chosen = form.cleaned_data["company"]
        if chosen is not None and company_form.filled():
            form.add_error(
                "company", _("Choose an existing company or register a new one, not both.")
            )
        elif chosen is None and not company_form.filled():
            form.add_error("company", _("Choose an existing company or register a new one below."))
        elif chosen is not None or company_form.is_valid():
            entry = _add_to_directory(request, network, form, company_form)
            if entry is not None:
                messages.success(
                    request,
                    _("%(company)s was added to the non-member directory.")
                    % {"company": entry.company.legal_name},
                )
                return redirect("nonmember_directory", network_id=network.pk)
    return render(
        request,
        "members/directory_form.html",
        {"network": network, "form": form, "company_form": company_form, "entry": None},
    )


@login_required
def directory_edit(request, pk: int):
    entry = get_object_or_404(selectors.directory_list(viewer=request.user), pk=pk)
    if not roles_of(request.user).is_secretariat(entry.network_id):
        raise PermissionDenied
    initial = {
        "consents_to_referrals": entry.consents_to_referrals,
        "consent_recorded_on": entry.consent_recorded_on,
        "notes": entry.notes,
    }
    form = DirectoryEntryForm(request.POST or None, initial=initial)
    if (
        request.method == "POST"
        and form.is_valid()
        and call_service(
            form,
            lambda: services.directory_update(
                actor=request.user, entry=entry, data=changed_fields(form)
            ),
        )
    ):
        messages.success(request, _("The directory entry was saved."))
        return redirect("nonmember_directory", network_id=entry.network_id)
    return render(
        request,
        "members/directory_form.html",
        {"network": entry.network, "form": form, "company_form": None, "entry": entry},
    )


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
    roles = roles_of(request.user)
    return render(
        request,
        "members/appointment_list.html",
        {
            "appointments": appointments,
            "status": status,
            "statuses": AppointmentStatus.choices,
            "open_networks": list(
                Network.objects.filter(
                    pk__in=roles.secretariat_network_ids | roles.committee_network_ids,
                    is_active=True,
                ).order_by("pk")
            ),
        },
    )


def _appointment_candidates(request, network: Network):
    """Active joint-order members of the network that are not lead companies yet."""
    active = Membership.objects.filter(
        company=OuterRef("pk"), network=network, status=MembershipStatus.ACTIVE
    )
    return (
        selectors.company_list(viewer=request.user)
        .prefetch_related(None)
        .filter(Exists(active.filter(membership_class=MembershipClass.JOINT_ORDER)))
        .exclude(Exists(active.filter(membership_class=MembershipClass.LEAD)))
        .order_by("legal_name_kana", "id")
    )


@login_required
def appointment_open(request, network_id: int):
    """The secretariat (or the committee) puts a joint-order member forward as a lead."""
    network = _secretariat_network(request, network_id, committee_too=True)
    form = AppointmentOpenForm(
        request.POST or None, candidates=_appointment_candidates(request, network)
    )
    if request.method == "POST" and form.is_valid():
        try:
            appointment = services.appointment_open(
                actor=request.user,
                network=network,
                company=form.cleaned_data["company"],
                statement=form.cleaned_data["statement"],
            )
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except (ValidationError, BrokerageError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(
                request,
                _("The appointment was opened: the members may now recommend the candidate."),
            )
            return redirect("appointment_detail", pk=appointment.pk)
    return render(request, "members/appointment_form.html", {"network": network, "form": form})


def _visible_appointment(request, pk: int) -> LeadAppointment:
    return get_object_or_404(selectors.appointment_list(viewer=request.user), pk=pk)


def _withdrawal_reason(appointment: LeadAppointment) -> str:
    if appointment.status != AppointmentStatus.WITHDRAWN:
        return ""
    change = (
        StatusChange.objects.filter(
            content_type=ContentType.objects.get_for_model(LeadAppointment),
            object_id=appointment.pk,
            to_status=AppointmentStatus.WITHDRAWN,
        )
        .order_by("-created_at", "-id")
        .first()
    )
    return change.reason if change else ""


def _render_appointment(
    request, appointment, *, recommend_form=None, decide_form=None, withdraw_form=None
):
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
            "withdrawal_reason": _withdrawal_reason(appointment),
            "withdraw_form": (withdraw_form or AppointmentWithdrawForm(prefix="withdraw"))
            if pending and roles.is_secretariat(appointment.network_id)
            else None,
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
    if form.is_valid() and call_service(
        form,
        lambda: services.appointment_recommend(
            actor=request.user, appointment=appointment, comment=form.cleaned_data["comment"]
        ),
    ):
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
    if form.is_valid() and call_service(
        form,
        lambda: services.appointment_decide(
            actor=request.user, appointment=appointment, **form.cleaned_data
        ),
    ):
        messages.success(request, _("The committee's decision was recorded."))
        return redirect(reverse("appointment_detail", kwargs={"pk": appointment.pk}))
    return _render_appointment(request, appointment, decide_form=form)


@login_required
@require_POST
def appointment_withdraw(request, pk: int):
    appointment = _visible_appointment(request, pk)
    if not roles_of(request.user).is_secretariat(appointment.network_id):
        raise PermissionDenied
    form = AppointmentWithdrawForm(request.POST, prefix="withdraw")
    if form.is_valid() and call_service(
        form,
        lambda: services.appointment_withdraw(
            actor=request.user, appointment=appointment, reason=form.cleaned_data["reason"]
        ),
    ):
        messages.success(request, _("The appointment was withdrawn."))
        return redirect("appointment_detail", pk=appointment.pk)
    return _render_appointment(request, appointment, withdraw_form=form)
