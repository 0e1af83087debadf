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
