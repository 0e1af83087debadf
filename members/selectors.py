"""Reads, always scoped to what the viewer may see, with the joins a page needs."""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from .models import (
    Capability,
    Company,
    DirectoryEntry,
    LeadAppointment,
    Material,
    Membership,
    MembershipStatus,
    Network,
    Process,
)
from .permissions import roles_of


def network_list(*, viewer) -> QuerySet[Network]:
    qs = Network.objects.prefetch_related("fees", "partners")
    if roles_of(viewer).is_platform_admin:
        return qs
    return qs.filter(is_active=True)


def _company_visibility(viewer) -> Q | None:
    """Member companies form the public catalogue; a non-member is seen only by the staff of
    the networks whose directory holds it, and a company always sees itself."""
    roles = roles_of(viewer)
    if roles.is_platform_admin:
        return None
    live_member = Membership.objects.filter(
        company=OuterRef("pk"), status=MembershipStatus.ACTIVE, network__is_active=True
    )
    visible = Q(Exists(live_member))
    if roles.staff_network_ids:
        visible |= (
            Q(
                Exists(
                    DirectoryEntry.objects.filter(
                        company=OuterRef("pk"), network_id__in=roles.staff_network_ids
                    )
                )
            )
            | Q(
                Exists(
                    Membership.objects.filter(
                        company=OuterRef("pk"), network_id__in=roles.staff_network_ids
                    )
                )
            )
            | Q(registered_by_network_id__in=roles.staff_network_ids)
        )
    if roles.company_id:
        visible |= Q(pk=roles.company_id)
    return visible


def sees_member_details(viewer) -> bool:
    """Whether the viewer may see member companies' contacts (people, e-mails, phones) and
    spare capacity: the platform administrator, network staff (secretariat, committee) and
    the people of member companies (a lead forms its team from them). Buyers, partners'
    service accounts and anonymous callers see what choosing needs only (name, region,
    processes, certifications). The one place that decides it, for the API and the pages."""
    if not getattr(viewer, "is_authenticated", False):
        return False
    roles = roles_of(viewer)
    return roles.is_platform_admin or bool(roles.staff_network_ids) or roles.company_id is not None


@dataclass(frozen=True)
class PublicCompany:
    """A member company as a buyer or an outsider sees it on a page: what choosing needs,
    without contacts, people or capacity (`company_card`)."""

    pk: int
    legal_name: str
    legal_name_kana: str
    name_en: str
    prefecture: str
    city: str

    def __str__(self):
        return self.legal_name


def company_card(*, viewer, company: Company) -> "Company | PublicCompany":
    """The company as the viewer may see it: the full row for those who see member details,
    the public card for everyone else (pages pass this, never the row, to buyers)."""
    if sees_member_details(viewer):
        return company
    return PublicCompany(
        pk=company.pk,
        legal_name=company.legal_name,
        legal_name_kana=company.legal_name_kana,
        name_en=company.name_en,
        prefecture=company.prefecture,
        city=company.city,
    )


def company_list(*, viewer) -> QuerySet[Company]:
    visible = _company_visibility(viewer)
    qs = Company.objects.all() if visible is None else Company.objects.filter(visible)
    return qs.prefetch_related(
        "contacts",
        "memberships__network",
        "capabilities__process",
        "capabilities__material",
        "certified_workers",
        "equipment",
    )


def capability_list(*, viewer) -> QuerySet[Capability]:
    visible = _company_visibility(viewer)
    qs = Capability.objects.select_related("company", "process", "material")
    if visible is None:
        return qs
    return qs.filter(company__in=Company.objects.filter(visible).values("pk"))


def membership_list(*, viewer) -> QuerySet[Membership]:
    roles = roles_of(viewer)
    qs = Membership.objects.select_related("network", "company")
    if roles.is_platform_admin:
        return qs
    return qs.filter(
        Q(network_id__in=roles.staff_network_ids)
        | Q(company_id=roles.company_id)
        | Q(status=MembershipStatus.ACTIVE, network__is_active=True)
    )


def appointment_list(*, viewer) -> QuerySet[LeadAppointment]:
    """Staff of the network and its member companies see appointments (members recommend)."""
    roles = roles_of(viewer)
    # Meta.ordering does not apply to an aggregated (GROUP BY) query: order it here.
    qs = (
        LeadAppointment.objects.select_related("network", "company", "opened_by", "decided_by")
        .annotate(recommendation_count=Count("recommendations"))
        .order_by("-opened_at", "-id")
    )
    if roles.is_platform_admin:
        return qs
    return qs.filter(
        Q(network_id__in=roles.staff_network_ids)
        | Q(network_id__in=roles.member_network_ids)
        | Q(company_id=roles.company_id)
    )


def directory_list(*, viewer) -> QuerySet[DirectoryEntry]:
    roles = roles_of(viewer)
    qs = DirectoryEntry.objects.select_related("network", "company").prefetch_related(
        "company__capabilities__process", "company__capabilities__material"
    )
    if roles.is_platform_admin:
        return qs
    return qs.filter(network_id__in=roles.staff_network_ids)


def process_list(*, viewer=None) -> QuerySet[Process]:
    return Process.objects.filter(is_active=True)


def material_list(*, viewer=None) -> QuerySet[Material]:
    return Material.objects.filter(is_active=True)


def member_directory(*, viewer, network: Network) -> QuerySet[Company]:
    """The secretariat's member directory: companies with a membership in `network`."""
    return (
        company_list(viewer=viewer)
        .filter(memberships__network=network)
        .distinct()
        .order_by("legal_name_kana", "id")
    )
