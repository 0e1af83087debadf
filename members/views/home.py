"""The home page: what needs the viewer's hand, per role."""

from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone

from .. import selectors
from ..models import (
    AppointmentStatus,
    Capability,
    MembershipStatus,
    Network,
)
from ..pages import (
    SIGNED_IN,
    page,
)
from ..permissions import roles_of
from .companies import CAPACITY_STALE_AFTER


@page(SIGNED_IN)
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
