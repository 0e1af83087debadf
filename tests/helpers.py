import datetime

from django.utils import timezone

from members.models import MembershipClass
from tests.factories import CapabilityFactory, CompanyUserFactory, MembershipFactory


def pass_deadline(inquiry):
    """Move the clock past the deadline by moving the deadline into the past."""
    type(inquiry).objects.filter(pk=inquiry.pk).update(
        application_deadline=timezone.now() - datetime.timedelta(seconds=1)
    )
    inquiry.refresh_from_db()
    return inquiry


def member(network, buff, stainless, spare=1000, membership_class=MembershipClass.JOINT_ORDER):
    user = CompanyUserFactory()
    MembershipFactory(network=network, company=user.company, membership_class=membership_class)
    CapabilityFactory(
        company=user.company, process=buff, material=stainless, spare_capacity_per_month=spare
    )
    return user


def dispatch_all() -> int:
    """What the worker does after commit: dispatch every event not yet dispatched, oldest
    first, including the events recorded while dispatching (a referral opening). Returns how
    many were dispatched."""
    from brokerage.dispatch import event_dispatch
    from core.models import DomainEvent

    count = 0
    while ids := list(
        DomainEvent.objects.filter(dispatched_at__isnull=True)
        .order_by("id")
        .values_list("pk", flat=True)
    ):
        for pk in ids:
            event_dispatch(event_id=pk)
        count += len(ids)
    return count
