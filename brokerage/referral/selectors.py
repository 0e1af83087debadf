"""Reads of referrals: the secretariat's list and the network's referral record."""

import datetime

from django.db.models import Count, Q

from brokerage.models import OfferStatus, Referral, ReferralCategory, ReferralOffer, ReferralStatus
from members.models import Network
from members.permissions import roles_of

R = ReferralStatus
O = OfferStatus  # noqa: E741


def referral_list(*, viewer):
    """Referrals of the networks whose secretariat the viewer sits in (all for a platform
    admin), with their inquiry and offers."""
    roles = roles_of(viewer)
    qs = Referral.objects.select_related("inquiry__network", "inquiry__buyer").prefetch_related(
        "offers__company", "offers__partner_network"
    )
    if roles.is_platform_admin:
        return qs
    return qs.filter(inquiry__network_id__in=roles.secretariat_network_ids)


OUTCOMES = ("accepted", "declined", "no_answer", "exhausted")


def referral_outcomes(
    *, network: Network, period: tuple[datetime.date, datetime.date]
) -> dict[str, dict[str, int]]:
    """The referral record of a network for referrals opened in `period` (first and last
    day, inclusive): per category, the referrals and their offers' outcomes — accepted,
    declined, no answer — and the referrals left exhausted; plus a `total` row."""
    start, end = period
    referrals = Referral.objects.filter(
        inquiry__network=network,
        created_at__date__gte=start,
        created_at__date__lte=end,
    )
    table = {c: dict.fromkeys(("referrals", *OUTCOMES), 0) for c in ReferralCategory.values}
    for row in referrals.values("category").annotate(
        n=Count("id"), exhausted=Count("id", filter=Q(status=R.EXHAUSTED))
    ):
        table[row["category"]]["referrals"] = row["n"]
        table[row["category"]]["exhausted"] = row["exhausted"]
    status_to_outcome = {O.ACCEPTED: "accepted", O.DECLINED: "declined", O.EXPIRED: "no_answer"}
    offers = (
        ReferralOffer.objects.filter(referral__in=referrals, status__in=list(status_to_outcome))
        .values("referral__category", "status")
        .annotate(n=Count("id"))
    )
    for row in offers:
        table[row["referral__category"]][status_to_outcome[row["status"]]] += row["n"]
    table["total"] = {
        key: sum(table[c][key] for c in ReferralCategory.values) for key in ("referrals", *OUTCOMES)
    }
    return table
