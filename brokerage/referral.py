"""Referral (紹介) of what the network cannot serve: never decline in silence.

When an inquiry moves to `referral` (the secretariat refers it with a category, or nobody
applied by the deadline) the dispatcher calls `referral_open`: candidates are ranked in SQL —
consenting non-member companies of the network's directory that can do every process of the
inquiry on its material, and partner networks whose members cover the processes ours lack —
and the first is offered at once (network rule `referral_auto_send`) or when the secretariat
confirms. Offers go out one at a time, each with a signed response link (no account needed)
and `referral_response_hours` to answer; a decline or no answer moves on to the next
candidate, until one accepts (the buyer is told whom to contact) or none is left (the
secretariat is asked to act, and may add a candidate by hand).

Each service is one transaction: it locks the referral, re-checks its status, moves it and
its offers through their tables (with history) and records events for the notifications.
"""

import datetime
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import ASin, Coalesce, Cos, Least, Power, Radians, Sin, Sqrt
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import events
from core.errors import BrokerageError, Conflict, InvalidTransition, NotAllowed
from core.mail import outbox_mail_send
from core.models import DomainEvent
from core.queueing import enqueue_each
from core.transitions import record_creation, transition
from members.locks import lock_one
from members.models import (
    Capability,
    Company,
    DirectoryEntry,
    Membership,
    MembershipStatus,
    Network,
)
from members.permissions import roles_of
from members.prefectures import PREFECTURE_CAPITALS
from orders.models import Inquiry, InquiryStatus
from orders.selectors import inquiry_matches, match_criteria

from .models import (
    EmailStatus,
    OfferStatus,
    Referral,
    ReferralCategory,
    ReferralOffer,
    ReferralStatus,
)

R = ReferralStatus
O = OfferStatus  # noqa: E741
EARTH_RADIUS_KM = 6371.0
MAX_CANDIDATES = 20
RESPONSE_SALT = "brokerage.referral.respond"
SYSTEM = gettext_lazy("system (scheduled job)")
EMAIL_RELAY_GRACE_SECONDS = 30
MAX_EMAIL_ATTEMPTS = 8

# Score: 100, less 30 when the lead time may not fit the delivery date, 20 when spare
# capacity is below the quantity, and 1 point per 25 km from the delivery prefecture (at
# most 40; 20 when the distance is unknown).
PENALTY_DEADLINE = 30
PENALTY_CAPACITY = 20
KM_PER_POINT = 25.0
MAX_DISTANCE_PENALTY = 40
UNKNOWN_DISTANCE_PENALTY = 20

REASON_LABELS = {
    "consented": gettext_lazy("Consented to receive referrals"),
    "covers_processes": gettext_lazy("Does every process asked on this material and size"),
    "covers_missing": gettext_lazy("Its members cover the processes ours lack"),
    "partner_network": gettext_lazy("Partner network"),
    "within_deadline": gettext_lazy("Lead time fits the delivery date"),
    "lead_time_long": gettext_lazy("Lead time may not fit the delivery date"),
    "spare_capacity": gettext_lazy("Spare capacity for the quantity"),
    "capacity_short": gettext_lazy("Spare capacity below the quantity"),
    "added_by_hand": gettext_lazy("Added by the secretariat"),
}


def reason_labels(codes) -> list[str]:
    return [str(REASON_LABELS.get(code, code)) for code in codes]


# ---------------------------------------------------------------------------------------
# Ranking


@dataclass
class Candidate:
    name: str
    score: Decimal
    distance_km: float | None
    reasons: list[str] = field(default_factory=list)
    company_id: int | None = None
    partner_network_id: int | None = None


def _distance_km(lat: float, lon: float, prefix: str = "company__"):
    """Haversine distance in SQL from (lat, lon) to the row's company (as members.matching)."""
    lat_rad, lon_rad = math.radians(lat), math.radians(lon)
    row_lat = Radians(F(f"{prefix}latitude"))
    a = Power(Sin((row_lat - Value(lat_rad)) / 2), 2) + Value(math.cos(lat_rad)) * Cos(
        row_lat
    ) * Power(Sin((Radians(F(f"{prefix}longitude")) - Value(lon_rad)) / 2), 2)
    return ExpressionWrapper(
        2 * EARTH_RADIUS_KM * ASin(Least(Sqrt(a), Value(1.0))), output_field=FloatField()
    )


def _haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(math.sqrt(h), 1.0))


def _score(in_time: bool, capacity: bool, distance_km: float | None) -> Decimal:
    score = 100.0
    score -= 0 if in_time else PENALTY_DEADLINE
    score -= 0 if capacity else PENALTY_CAPACITY
    if distance_km is None:
        score -= UNKNOWN_DISTANCE_PENALTY
    else:
        score -= min(distance_km / KM_PER_POINT, MAX_DISTANCE_PENALTY)
    return Decimal(str(round(score, 1)))


def _capability_fits(inquiry: Inquiry) -> tuple[Q, Q, Q]:
    """(hard limits, lead time, capacity) as conditions on Capability, like members.matching:
    size, weight, finish and lot decide; lead time and capacity rank."""
    c = match_criteria(inquiry)
    hard = Q(
        material_id=c.material_id,
        max_length_mm__gte=c.length_mm,
        max_width_mm__gte=c.width_mm,
        max_height_mm__gte=c.height_mm,
        max_weight_kg__gte=c.weight_kg,
        lot_min__lte=c.quantity,
        lot_max__gte=c.quantity,
    )
    if c.required_ra_um is not None:
        hard &= Q(finish_ra_um__lte=c.required_ra_um)
    return (
        hard,
        Q(lead_time_days__lte=c.days_available),
        Q(spare_capacity_per_month__gte=c.quantity),
    )


def _processes_covered(fits: Q, process_ids, group: str, outer: dict):
    """How many of `process_ids` the outer row covers (a correlated COUNT(DISTINCT))."""
    qs = (
        Capability.objects.filter(fits, process_id__in=process_ids, **outer)
        .order_by()
        .values(group)
        .annotate(n=Count("process_id", distinct=True))
        .values("n")[:1]
    )
    return Coalesce(Subquery(qs, output_field=IntegerField()), Value(0))


def _score_sql(n: int):
    """The score above, as SQL over the annotations `in_time`, `with_capacity`, `distance_km`."""
    distance_penalty = Case(
        When(distance_km__isnull=True, then=Value(float(UNKNOWN_DISTANCE_PENALTY))),
        default=Least(F("distance_km") / Value(KM_PER_POINT), Value(float(MAX_DISTANCE_PENALTY))),
        output_field=FloatField(),
    )
    return ExpressionWrapper(
        Value(100.0)
        - Case(When(in_time__lt=n, then=Value(float(PENALTY_DEADLINE))), default=Value(0.0))
        - Case(When(with_capacity__lt=n, then=Value(float(PENALTY_CAPACITY))), default=Value(0.0))
        - distance_penalty,
        output_field=FloatField(),
    )


def _soft_reasons(in_time: bool, capacity: bool) -> list[str]:
    return [
        "within_deadline" if in_time else "lead_time_long",
        "spare_capacity" if capacity else "capacity_short",
    ]


def directory_candidates(*, inquiry: Inquiry) -> list[Candidate]:
    """Consenting non-member companies of the inquiry's network directory able to do every
    process of the inquiry on its material within its size, weight, finish and lot; best
    score first (fits the delivery date, has capacity, nearest to the delivery prefecture).
    One query."""
    process_ids = [p.pk for p in inquiry.processes.all()]
    if not process_ids:
        return []
    n = len(process_ids)
    hard, lead_time, capacity = _capability_fits(inquiry)
    outer = {"company_id": OuterRef("company_id")}
    member = Membership.objects.filter(
        company_id=OuterRef("company_id"),
        network_id=inquiry.network_id,
        status=MembershipStatus.ACTIVE,
    )
    qs = (
        DirectoryEntry.objects.filter(network_id=inquiry.network_id, consents_to_referrals=True)
        .exclude(Exists(member))
        .annotate(covered=_processes_covered(hard, process_ids, "company_id", outer))
        .filter(covered=n)
        .annotate(
            in_time=_processes_covered(hard & lead_time, process_ids, "company_id", outer),
            with_capacity=_processes_covered(hard & capacity, process_ids, "company_id", outer),
        )
    )
    latlon = PREFECTURE_CAPITALS.get(inquiry.delivery_prefecture)
    if latlon is not None:
        qs = qs.annotate(distance_km=_distance_km(*latlon))
    else:
        qs = qs.annotate(distance_km=Value(None, output_field=FloatField()))
    rows = (
        qs.annotate(score=_score_sql(n))
        .order_by(
            F("score").desc(),
            F("distance_km").asc(nulls_last=True),
            "company__legal_name_kana",
            "company_id",
        )
        .values("company_id", "company__legal_name", "in_time", "with_capacity", "distance_km")
    )[:MAX_CANDIDATES]
    candidates = []
    for row in rows:
        in_time, with_capacity = row["in_time"] == n, row["with_capacity"] == n
        distance = round(row["distance_km"], 1) if row["distance_km"] is not None else None
        candidates.append(
            Candidate(
                name=row["company__legal_name"],
                company_id=row["company_id"],
                score=_score(in_time, with_capacity, distance),
                distance_km=distance,
                reasons=["consented", "covers_processes", *_soft_reasons(in_time, with_capacity)],
            )
        )
    return candidates


def partner_candidates(*, inquiry: Inquiry, missing_process_ids) -> list[Candidate]:
    """Active partner networks whose active members together cover the missing processes on
    the inquiry's material and size; best score first. Distance is from the delivery
    prefecture to the partner network's prefecture."""
    missing = list(missing_process_ids)
    if not missing:
        return []
    n = len(missing)
    hard, lead_time, capacity = _capability_fits(inquiry)
    group = "company__memberships__network_id"
    outer = {
        "company__memberships__network_id": OuterRef("pk"),
        "company__memberships__status": MembershipStatus.ACTIVE,
    }
    rows = (
        Network.objects.filter(partners=inquiry.network_id, is_active=True)
        .annotate(covered=_processes_covered(hard, missing, group, outer))
        .filter(covered=n)
        .annotate(
            in_time=_processes_covered(hard & lead_time, missing, group, outer),
            with_capacity=_processes_covered(hard & capacity, missing, group, outer),
        )
        .order_by("name", "pk")
        .values("pk", "name", "prefecture", "in_time", "with_capacity")
    )
    origin = PREFECTURE_CAPITALS.get(inquiry.delivery_prefecture)
    candidates = []
    for row in rows:
        target = PREFECTURE_CAPITALS.get(row["prefecture"])
        distance = round(_haversine(origin, target), 1) if origin and target else None
        in_time, with_capacity = row["in_time"] == n, row["with_capacity"] == n
        candidates.append(
            Candidate(
                name=row["name"],
                partner_network_id=row["pk"],
                score=_score(in_time, with_capacity, distance),
                distance_km=distance,
                reasons=[
                    "partner_network",
                    "covers_missing",
                    *_soft_reasons(in_time, with_capacity),
                ],
            )
        )
    return candidates


def rank_candidates(*, inquiry: Inquiry, missing_process_ids) -> list[Candidate]:
    """Directory companies and partner networks in one list, best score first (directory
    companies first on a tie: they take the whole inquiry)."""
    ranked = directory_candidates(inquiry=inquiry) + partner_candidates(
        inquiry=inquiry, missing_process_ids=missing_process_ids
    )
    return sorted(ranked, key=lambda c: -c.score)[:MAX_CANDIDATES]


# ---------------------------------------------------------------------------------------
# Moves


def _label(actor) -> str:
    return "" if actor is not None else str(SYSTEM)


def _move(obj, *, to: str, actor=None, actor_label: str = "", reason: str = "", fields=()):
    return transition(
        obj,
        to=to,
        allowed=type(obj).TRANSITIONS,
        actor=actor,
        actor_label=actor_label or _label(actor),
        reason=reason,
        update_fields=tuple(fields),
    )


def _event(kind: str, referral: Referral, actor=None, **payload) -> None:
    events.record(
        kind=kind,
        subject=referral,
        actor=actor,
        network_id=referral.inquiry.network_id,
        inquiry_id=referral.inquiry_id,
        **payload,
    )


def _target_payload(offer: ReferralOffer) -> dict:
    return {
        "offer_id": offer.pk,
        "company_id": offer.company_id,
        "partner_network_id": offer.partner_network_id,
    }


def _require_secretariat(actor, referral: Referral) -> None:
    if not roles_of(actor).is_secretariat(referral.inquiry.network_id):
        raise NotAllowed(_("Only the network's secretariat handles referrals."))


def _lock_referral(referral_id: int) -> Referral:
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("inquiry__network")
        .get(pk=referral_id)
    )


def _lock_offer(offer_id: int) -> ReferralOffer:
    return (
        ReferralOffer.objects.select_for_update(of=("self",))
        .select_related("company", "partner_network")
        .get(pk=offer_id)
    )


def _offer(referral: Referral, offer: ReferralOffer, *, actor=None, now=None) -> None:
    """Send `offer` (pending) with the network's time to answer; the e-mail with the signed
    link is written now and sent after commit."""
    now = now or timezone.now()
    offer.offered_at = now
    offer.expires_at = now + datetime.timedelta(
        hours=referral.inquiry.network.referral_response_hours
    )
    offer.confidential_shared = referral.shares_confidential
    offer.email_status = EmailStatus.PENDING if offer.target_email else EmailStatus.SKIPPED
    _move(
        offer,
        to=O.OFFERED,
        actor=actor,
        fields=("offered_at", "expires_at", "confidential_shared", "email_status"),
    )
    _move(referral, to=R.OFFERED, actor=actor, reason=offer.target_name)
    _event("referral.offered", referral, actor, rank=offer.rank, **_target_payload(offer))
    if offer.email_status == EmailStatus.PENDING:
        pk = offer.pk
        transaction.on_commit(lambda: enqueue_offer_emails([pk]))


def _advance(referral: Referral, *, now=None) -> None:
    """Offer the next pending candidate, or mark the referral exhausted and ask the
    secretariat to act."""
    now = now or timezone.now()
    following = (
        ReferralOffer.objects.select_for_update(of=("self",))
        .select_related("company", "partner_network")
        .filter(referral=referral, status=O.PENDING)
        .order_by("rank", "id")
        .first()
    )
    if following is not None:
        _offer(referral, following, now=now)
        return
    referral.exhausted_at = now
    _move(
        referral,
        to=R.EXHAUSTED,
        reason=_("No candidate left."),
        fields=("exhausted_at",),
    )
    _event("referral.exhausted", referral)


# ---------------------------------------------------------------------------------------
# Services


def _referral_event(inquiry: Inquiry) -> DomainEvent | None:
    return (
        DomainEvent.objects.filter(
            aggregate="inquiry", aggregate_id=inquiry.pk, kind="inquiry.referral"
        )
        .order_by("-id")
        .first()
    )


def referral_open(*, inquiry: Inquiry, now: datetime.datetime | None = None) -> Referral:
    """Open the referral of an inquiry in status `referral` (called by the dispatcher for the
    `inquiry.referral` event; the scheduled job opens any the dispatcher missed).

    The category and the reason come from the event (`no_applicant` when the deadline job
    referred it). Candidates are ranked and stored as pending offers; then the first is
    offered at once if the network's rule `referral_auto_send` says so, otherwise the
    referral waits for the secretariat's confirmation; with no candidate it is exhausted.
    Safe to run twice: an inquiry has one referral. Records `referral.opened`.
    """
    now = now or timezone.now()
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry.pk)
        existing = Referral.objects.filter(inquiry=inquiry).first()
        if existing is not None:
            return existing
        if inquiry.status != InquiryStatus.REFERRAL:
            raise InvalidTransition(_("Only a referred inquiry has a referral."))
        event = _referral_event(inquiry)
        payload = event.payload if event is not None else {}
        category = payload.get("category") or ReferralCategory.SECRETARIAT
        if category not in ReferralCategory.values:
            category = ReferralCategory.SECRETARIAT
        _matches, uncovered = inquiry_matches(inquiry=inquiry, limit=500)
        process_ids = [p.pk for p in inquiry.processes.all()]
        # Nothing uncovered (location, deadline, capacity…): a partner must do it all.
        missing = [p.pk for p in uncovered] or process_ids
        referral = Referral.objects.create(
            inquiry=inquiry,
            category=category,
            reason=inquiry.outcome_reason or payload.get("reason", ""),
            missing_process_ids=missing,
        )
        record_creation(referral, reason=referral.reason)
        candidates = rank_candidates(inquiry=inquiry, missing_process_ids=missing)
        for rank, candidate in enumerate(candidates, start=1):
            offer = ReferralOffer.objects.create(
                referral=referral,
                company_id=candidate.company_id,
                partner_network_id=candidate.partner_network_id,
                rank=rank,
                score=candidate.score,
                reasons=candidate.reasons,
                distance_km=candidate.distance_km,
            )
            record_creation(offer)
        _event("referral.opened", referral, category=category, candidates=len(candidates))
        if not candidates or inquiry.network.referral_auto_send:
            _advance(referral, now=now)  # the first offer, or exhausted at once
        else:
            _move(
                referral,
                to=R.AWAITING_CONFIRMATION,
                reason=_("Waiting for the secretariat to send the first offer."),
            )
    return referral


def referral_confirm(*, actor, referral: Referral, offer: ReferralOffer | None = None) -> Referral:
    """The secretariat sends the referral (one action): to the chosen pending candidate, or
    to the best one. Allowed while it waits for confirmation or after the list ran out (with
    a candidate added by hand); while an offer is out, wait for its answer. Records
    `referral.offered`; the target is e-mailed its signed response link after commit."""
    _require_secretariat(actor, referral)
    with transaction.atomic():
        referral = _lock_referral(referral.pk)
        if referral.status == R.OFFERED and offer is not None:
            current = referral.offers.filter(status=O.OFFERED).first()
            if current is not None and current.pk == offer.pk:
                return referral  # a repeated click
        if referral.status not in (R.AWAITING_CONFIRMATION, R.EXHAUSTED):
            raise InvalidTransition(
                _("An offer is out: wait for its answer.")
                if referral.status == R.OFFERED
                else _("This referral is settled.")
            )
        if offer is not None:
            if offer.referral_id != referral.pk:
                raise BrokerageError(_("Choose a candidate of this referral."), field="offer")
            chosen = _lock_offer(offer.pk)
            if chosen.status != O.PENDING:
                raise InvalidTransition(_("This candidate was already asked."), field="offer")
        else:
            chosen = (
                referral.offers.select_related("company", "partner_network")
                .filter(status=O.PENDING)
                .order_by("rank", "id")
                .first()
            )
            if chosen is None:
                raise BrokerageError(_("No candidate is left: add one first."), field="offer")
        _offer(referral, chosen, actor=actor)
    return referral


def referral_respond(
    *, offer: ReferralOffer, accept: bool, reason: str = "", actor=None, now=None
) -> ReferralOffer:
    """The target answers an offer: through its signed link (`actor` None: the link is the
    authority) or, for a partner network, as a user of that network's secretariat.

    Accepting settles the referral: the buyer is told whom to contact. Declining needs a
    reason and moves on to the next candidate (or exhausts the list). The same answer twice
    is a no-op; a late or different second answer is refused.
    Records `referral.accepted` or `referral.declined` (and what follows).
    """
    now = now or timezone.now()
    if actor is not None:
        roles = roles_of(actor)
        if offer.partner_network_id is None or not roles.is_secretariat(offer.partner_network_id):
            raise NotAllowed(_("Only the partner network's secretariat answers this offer."))
    if not accept and not reason.strip():
        raise BrokerageError(_("Say why you decline."), field="reason")
    with transaction.atomic():
        referral = _lock_referral(offer.referral_id)
        offer = _lock_offer(offer.pk)
        wanted = O.ACCEPTED if accept else O.DECLINED
        if offer.status == wanted:
            return offer
        if offer.status != O.OFFERED:
            raise InvalidTransition(_("This offer was already answered or has expired."))
        if now >= offer.expires_at:
            raise InvalidTransition(_("The time to answer this offer has passed."))
        offer.responded_at = now
        offer.responded_by = actor if actor is not None and actor.is_authenticated else None
        offer.decline_reason = "" if accept else reason.strip()
        label = (
            ""
            if actor is not None
            else _("%(target)s (response link)") % {"target": offer.target_name}
        )
        _move(
            offer,
            to=wanted,
            actor=actor,
            actor_label=label,
            reason=offer.decline_reason,
            fields=("responded_at", "responded_by", "decline_reason"),
        )
        if accept:
            referral.accepted_at = now
            _move(
                referral,
                to=R.ACCEPTED,
                actor=actor,
                actor_label=label,
                reason=offer.target_name,
                fields=("accepted_at",),
            )
            _event("referral.accepted", referral, actor, **_target_payload(offer))
        else:
            _event(
                "referral.declined",
                referral,
                actor,
                reason=offer.decline_reason,
                **_target_payload(offer),
            )
            _advance(referral, now=now)
    return offer


def referral_offer_expire(*, offer_id: int, now: datetime.datetime | None = None) -> bool:
    """Expire one offer past its time to answer and move on to the next candidate (or
    exhaust the list). Safe to run twice. Returns True if it expired the offer."""
    now = now or timezone.now()
    with transaction.atomic():
        referral_id = ReferralOffer.objects.values_list("referral_id", flat=True).get(pk=offer_id)
        referral = _lock_referral(referral_id)
        offer = _lock_offer(offer_id)
        if offer.status != O.OFFERED or offer.expires_at > now:
            return False
        _move(offer, to=O.EXPIRED, reason=_("No answer in time."))
        _event("referral.expired", referral, **_target_payload(offer))
        _advance(referral, now=now)
    return True


def referrals_expire_due(*, now: datetime.datetime | None = None) -> int:
    """The scheduled scan: expire every offer past its time to answer (each in its own
    transaction), moving each referral on. Also opens referrals the dispatcher missed.
    Returns how many offers expired."""
    now = now or timezone.now()
    referrals_open_missing(now=now)
    due = list(
        ReferralOffer.objects.filter(status=O.OFFERED, expires_at__lte=now)
        .order_by("expires_at", "id")
        .values_list("pk", flat=True)
    )
    return sum(referral_offer_expire(offer_id=pk, now=now) for pk in due)


def referrals_open_missing(*, now: datetime.datetime | None = None) -> int:
    """Open the referral of referred inquiries that have none yet (the dispatch failed or is
    late): a safety net, after a grace period."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(minutes=2)
    missing = Inquiry.objects.filter(
        status=InquiryStatus.REFERRAL, referral__isnull=True, closed_at__lt=cutoff
    ).only("pk")
    opened = 0
    for inquiry in missing:
        referral_open(inquiry=inquiry, now=now)
        opened += 1
    return opened


def referral_add_candidate(
    *,
    actor,
    referral: Referral,
    company: Company | None = None,
    partner_network: Network | None = None,
    reason: str = "",
) -> ReferralOffer:
    """The secretariat adds a candidate by hand, last in the list: a consenting company of
    the network's directory, or a partner network. An exhausted referral then waits for the
    secretariat's confirmation. Records `referral.candidate_added`."""
    _require_secretariat(actor, referral)
    if (company is None) == (partner_network is None):
        raise BrokerageError(_("Name one company or one partner network."), field="company")
    network_id = referral.inquiry.network_id
    if (
        company is not None
        and not DirectoryEntry.objects.filter(
            network_id=network_id, company=company, consents_to_referrals=True
        ).exists()
    ):
        raise BrokerageError(
            _("Only companies of the directory that consented to referrals can be added."),
            field="company",
        )
    if (
        partner_network is not None
        and not Network.objects.filter(pk=partner_network.pk, partners=network_id).exists()
    ):
        raise BrokerageError(_("This network is not a partner network."), field="partner_network")
    with transaction.atomic():
        referral = _lock_referral(referral.pk)
        if referral.status == R.ACCEPTED:
            raise InvalidTransition(_("This referral is settled."))
        if referral.offers.filter(
            Q(company=company) if company is not None else Q(partner_network=partner_network)
        ).exists():
            raise Conflict(_("This candidate is already on the list."), field="company")
        inquiry = referral.inquiry
        origin = PREFECTURE_CAPITALS.get(inquiry.delivery_prefecture)
        if company is not None:
            where = (
                (float(company.latitude), float(company.longitude))
                if company.latitude is not None and company.longitude is not None
                else None
            )
        else:
            where = PREFECTURE_CAPITALS.get(partner_network.prefecture)
        distance = round(_haversine(origin, where), 1) if origin and where else None
        last = referral.offers.order_by("-rank").values_list("rank", flat=True).first() or 0
        offer = ReferralOffer.objects.create(
            referral=referral,
            company=company,
            partner_network=partner_network,
            rank=last + 1,
            score=Decimal("0"),
            reasons=["added_by_hand", *(["partner_network"] if partner_network else [])],
            distance_km=distance,
            added_by=actor,
        )
        record_creation(offer, actor=actor, reason=reason)
        if referral.status == R.EXHAUSTED:
            _move(referral, to=R.AWAITING_CONFIRMATION, actor=actor, reason=reason)
        _event("referral.candidate_added", referral, actor, **_target_payload(offer))
    return offer


def referral_buyer_agree(*, actor, referral: Referral) -> Referral:
    """Record that the buyer agreed to share its identity and the confidential details with
    the targets (by the buyer itself, or the secretariat taking its word). Offers sent from
    now on include them. Records `referral.sharing_agreed`."""
    inquiry = referral.inquiry
    is_buyer = actor.is_authenticated and inquiry.buyer.user_id == actor.pk
    if not (is_buyer or roles_of(actor).is_secretariat(inquiry.network_id)):
        raise NotAllowed(_("Only the buyer or the secretariat records the buyer's consent."))
    with transaction.atomic():
        referral = _lock_referral(referral.pk)
        if referral.buyer_agreed_to_share:
            return referral
        referral.buyer_agreed_to_share = True
        referral.save(update_fields=["buyer_agreed_to_share"])
        _event("referral.sharing_agreed", referral, actor)
    return referral


# ---------------------------------------------------------------------------------------
# The signed response link and the target's e-mail


def referral_response_token(offer: ReferralOffer) -> str:
    """The token of an offer's response link: signed, bound to the moment it was offered.

    The same offer always gives the same link (the notification, the e-mail and the page
    agree). A plain `Signer`, not `signing.dumps`: that one's `TimestampSigner` adds the
    second of signing, which no reader checks (the offer's `expires_at` limits the link),
    so two renderings a second apart gave two different links."""
    payload = {"o": offer.pk, "t": int(offer.offered_at.timestamp())}
    return signing.Signer(salt=RESPONSE_SALT).sign_object(payload, compress=True)


def referral_response_url(offer: ReferralOffer) -> str:
    path = reverse("referral_respond", args=[referral_response_token(offer)])
    return f"{settings.SITE_URL}{path}"


def referral_offer_from_token(token: str) -> ReferralOffer:
    """The offer a response link names. Raises `signing.BadSignature` for a tampered or
    unknown link."""
    if token.count(":") == 2:
        # A link sent before links became stable (`signing.dumps`: value:timestamp:signature).
        data = signing.loads(token, salt=RESPONSE_SALT)
    else:
        data = signing.Signer(salt=RESPONSE_SALT).unsign_object(token)
    if not isinstance(data, dict):
        raise signing.BadSignature("unknown offer")
    offer = (
        ReferralOffer.objects.select_related(
            "company",
            "partner_network",
            "referral__inquiry__network",
            "referral__inquiry__buyer",
            "referral__inquiry__material",
        )
        .filter(pk=data.get("o"))
        .first()
    )
    if (
        offer is None
        or offer.offered_at is None
        or int(offer.offered_at.timestamp()) != data.get("t")
    ):
        raise signing.BadSignature("unknown offer")
    return offer


def enqueue_offer_emails(offer_ids) -> int:
    """Queue the target e-mails. A broker outage is logged, not raised: the relay retries."""
    return enqueue_each("brokerage.referral_offer_email_task", offer_ids)


def referral_offer_email_send(*, offer_id: int) -> bool:
    """E-mail the target its offer (in Japanese) with the signed response link, if still
    pending. The row stays locked while sending, so a repeat sends once. A failure is
    recorded and re-raised for the task's retry; after MAX_EMAIL_ATTEMPTS it is `failed`."""
    with transaction.atomic():
        offer = (
            ReferralOffer.objects.select_for_update(of=("self",))
            .select_related(
                "company",
                "partner_network",
                "referral__inquiry__network",
                "referral__inquiry__buyer",
                "referral__inquiry__material",
            )
            .filter(pk=offer_id)
            .first()
        )
        if offer is None or offer.email_status != EmailStatus.PENDING:
            return False
        with translation.override(settings.LANGUAGE_CODE):
            text = render_to_string(
                "brokerage/notifications/referral_offer_target.txt",
                {
                    **offer_context(offer),
                    "link": referral_response_url(offer),
                },
            ).strip()
        subject, _sep, body = text.partition("\n")
        error = outbox_mail_send(
            offer,
            subject=subject.strip()[:200],
            body=body.strip(),
            to=offer.target_email,
            max_attempts=MAX_EMAIL_ATTEMPTS,
        )
    if error is not None:
        raise error
    return True


def referral_offer_email_failed(*, offer_id: int, error: str) -> None:
    """Retries exhausted: the secretariat sees `failed` on the referral screen."""
    ReferralOffer.objects.filter(pk=offer_id, email_status=EmailStatus.PENDING).update(
        email_status=EmailStatus.FAILED, email_error=error[:2000]
    )


def referral_emails_relay(*, now: datetime.datetime | None = None) -> int:
    """Queue target e-mails still pending after the grace period (a broker outage)."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=EMAIL_RELAY_GRACE_SECONDS)
    ids = list(
        ReferralOffer.objects.filter(email_status=EmailStatus.PENDING, offered_at__lt=cutoff)
        .order_by("offered_at")
        .values_list("pk", flat=True)[:500]
    )
    return enqueue_offer_emails(ids)


def offer_context(offer: ReferralOffer) -> dict:
    """What a target may see of the inquiry: never the buyer's identity nor the
    confidential description when the inquiry needs an NDA and the buyer did not agree."""
    inquiry = offer.referral.inquiry
    shared = offer.confidential_shared
    return {
        "offer": offer,
        "referral": offer.referral,
        "inquiry": inquiry,
        "network": inquiry.network,
        "shared": shared,
        "buyer": inquiry.buyer if shared else None,
        "description": inquiry.description if shared else "",
    }


# ---------------------------------------------------------------------------------------
# Reads


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
