"""The referral's moves (紹介): open, confirm, respond, expire, add a candidate, the buyer's
consent. Each service is one transaction: it locks the referral, re-checks its status, moves
it and its offers through their tables (with history) and records events for the
notifications; the target's e-mail is queued after commit (brokerage.referral.emails)."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from brokerage.models import (
    EmailStatus,
    OfferStatus,
    Referral,
    ReferralCategory,
    ReferralOffer,
    ReferralStatus,
)
from core import events
from core.errors import BrokerageError, Conflict, InvalidTransition, NotAllowed
from core.models import DomainEvent
from core.transitions import record_creation, transition
from members.locks import lock_one
from members.models import Company, DirectoryEntry, Network
from members.permissions import roles_of
from members.prefectures import PREFECTURE_CAPITALS
from orders.models import Inquiry, InquiryStatus
from orders.selectors import inquiry_matches

from .emails import enqueue_offer_emails
from .ranking import haversine_km, rank_candidates

R = ReferralStatus
O = OfferStatus  # noqa: E741
SYSTEM = gettext_lazy("system (scheduled job)")


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
    _event(
        events.EventKind.REFERRAL_OFFERED,
        referral,
        actor,
        rank=offer.rank,
        **_target_payload(offer),
    )
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
    _event(events.EventKind.REFERRAL_EXHAUSTED, referral)


# ---------------------------------------------------------------------------------------
# Services


def _referral_event(inquiry: Inquiry) -> DomainEvent | None:
    return (
        DomainEvent.objects.filter(
            aggregate="inquiry", aggregate_id=inquiry.pk, kind=events.EventKind.INQUIRY_REFERRAL
        )
        .order_by("-id")
        .first()
    )


def _store_candidates(referral: Referral, candidates) -> None:
    """The ranked candidates as the referral's pending offers, best first."""
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


def referral_open(*, inquiry: Inquiry, now: datetime.datetime | None = None) -> Referral:
    """Open the referral of an inquiry in status `referral` (the reaction to its
    `inquiry.referral` event, brokerage.referral_open_task; the scheduled job opens any that
    one missed).

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
        _store_candidates(referral, candidates)
        _event(
            events.EventKind.REFERRAL_OPENED,
            referral,
            category=category,
            candidates=len(candidates),
        )
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
    roles_of(actor).require_secretariat(
        referral.inquiry.network_id, _("Only the network's secretariat handles referrals.")
    )
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


def _check_answer(offer: ReferralOffer, *, accept: bool, reason: str, actor) -> None:
    """A user answers only for its partner network's secretariat; a decline says why."""
    if actor is not None:
        roles = roles_of(actor)
        if offer.partner_network_id is None or not roles.is_secretariat(offer.partner_network_id):
            raise NotAllowed(_("Only the partner network's secretariat answers this offer."))
    if not accept and not reason.strip():
        raise BrokerageError(_("Say why you decline."), field="reason")


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
    _check_answer(offer, accept=accept, reason=reason, actor=actor)
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
            _event(events.EventKind.REFERRAL_ACCEPTED, referral, actor, **_target_payload(offer))
        else:
            _event(
                events.EventKind.REFERRAL_DECLINED,
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
        _event(events.EventKind.REFERRAL_EXPIRED, referral, **_target_payload(offer))
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


def _check_candidate(network_id: int, company, partner_network) -> None:
    """One of the two, and one that may be offered: a consenting company of the network's
    directory, or a partner network."""
    if (company is None) == (partner_network is None):
        raise BrokerageError(_("Name one company or one partner network."), field="company")
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
    roles_of(actor).require_secretariat(
        referral.inquiry.network_id, _("Only the network's secretariat handles referrals.")
    )
    _check_candidate(referral.inquiry.network_id, company, partner_network)
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
        distance = round(haversine_km(origin, where), 1) if origin and where else None
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
        _event(events.EventKind.REFERRAL_CANDIDATE_ADDED, referral, actor, **_target_payload(offer))
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
        _event(events.EventKind.REFERRAL_SHARING_AGREED, referral, actor)
    return referral
