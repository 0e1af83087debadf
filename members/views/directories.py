"""The directories of a network for its secretariat and committee: the members with their
capabilities, and the non-members (listed, added and edited by the secretariat)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.errors import BrokerageError, NotAllowed

from .. import selectors, services
from ..forms import (
    DirectoryAddForm,
    DirectoryEntryForm,
    MemberDirectoryFilterForm,
    NewCompanyForm,
    apply_service_error,
    call_service,
    changed_fields,
)
from ..models import (
    Capability,
    DirectoryEntry,
    Membership,
    MembershipStatus,
    Network,
)
from ..pages import (
    SECRETARIAT,
    SIGNED_IN,
    STAFF,
    networks_kept,
    networks_seen,
    page,
    require,
)
from ..permissions import roles_of
from ..templatetags.members_tags import local_name

DIRECTORY_PAGE_SIZE = 50


@page(STAFF)
def directory_index(request):
    networks = list(networks_kept(request, committee_too=True))
    require(bool(networks))  # a seat in a network no longer active
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


def _require_staff_of(request, network: Network) -> None:
    """Another network's staff: 403 (the network itself is public, its directory is not)."""
    require(roles_of(request.user).is_staff_of(network.pk))


@page(STAFF, scope=networks_seen, lookup="network_id")
def member_directory(request, network: Network):
    _require_staff_of(request, network)
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


@page(STAFF, scope=networks_seen, lookup="network_id")
def nonmember_directory(request, network: Network):
    _require_staff_of(request, network)
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


@page(SECRETARIAT, scope=networks_kept, lookup="network_id")
def directory_add(request, network: Network):
    """The secretariat lists a non-member: an existing company, or a new one registered here
    (403 for whoever keeps no network, 404 for another network's)."""
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


@page(SIGNED_IN, scope=lambda request: selectors.directory_list(viewer=request.user))
def directory_edit(request, entry: DirectoryEntry):
    require(roles_of(request.user).is_secretariat(entry.network_id))
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
