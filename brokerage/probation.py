"""Probation (改善期間): the daily review puts a member whose scorecard is beyond the network's
rule on probation — it can then be invited only to small packages — and lifts it when the
figures recover; the secretariat sets the rule and can lift a probation with a reason.

The rule and the probation rows live in `members` (orders reads them when a lead invites a
member); the review needs the scorecards, so the writes live here. Each opening or lifting
records a domain event; its dispatch tells the member's users and the secretariat.

Review rules:
- a member is *beyond the rule* when it completed at least `min_completed_packages` packages
  due in the last `window_months` and its on-time rate is below the minimum, or its defect
  rate above the maximum (`brokerage.record` defines both rates);
- after a probation is lifted, the member is judged only on packages due after the lift:
  a fresh start, so a lift by the secretariat is not undone by the next night's review;
- a probation is lifted by the review on or after its `until` day once the member is no
  longer beyond the rule (also when too few packages remain to judge).
"""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import events
from core.errors import BrokerageError
from members.locks import lock_one
from members.models import (
    Membership,
    MembershipStatus,
    Network,
    Probation,
    ProbationRule,
)
from members.permissions import roles_of

from . import record
from .record import rate_text

REVIEW_LABEL = "probation review"
RULE_FIELDS = (
    "is_active",
    "min_on_time_rate_pct",
    "max_defect_rate_pct",
    "min_completed_packages",
    "window_months",
    "max_package_value_yen",
    "minimum_months",
)


# ---------------------------------------------------------------------------------------
# Judging a scorecard


def breaches(rule: ProbationRule, card: record.Scorecard) -> list[str]:
    """What puts the member beyond the rule, in words with the numbers; empty if nothing.
    Compares exact fractions, not the rounded percentages shown."""
    if card.completed < rule.min_completed_packages:
        return []
    found = []
    minimum = rule.min_on_time_rate_pct
    if minimum is not None and card.on_time * 100 < minimum * card.completed:
        found.append(
            _(
                "on time %(on_time)d of %(completed)d completed packages (%(rate)s), "
                "below the network's %(minimum)s"
            )
            % {
                "on_time": card.on_time,
                "completed": card.completed,
                "rate": rate_text(card.on_time_rate),
                "minimum": rate_text(minimum),
            }
        )
    maximum = rule.max_defect_rate_pct
    if maximum is not None and card.inspected and card.defective * 100 > maximum * card.inspected:
        found.append(
            _(
                "defect rate %(rate)s (%(rejected)d rejected at inspection and %(claimed)d "
                "claimed of %(inspected)d inspected), above the network's %(maximum)s"
            )
            % {
                "rate": rate_text(card.defect_rate),
                "rejected": card.rejected,
                "claimed": card.claimed,
                "inspected": card.inspected,
                "maximum": rate_text(maximum),
            }
        )
    return found


def _window(rule: ProbationRule, today: datetime.date) -> record.Period:
    return record.Period(
        record.add_months(today, -rule.window_months) + datetime.timedelta(days=1), today
    )


def _text(parts: list[str], period: record.Period) -> str:
    return _("Packages due %(start)s to %(end)s: %(what)s.") % {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        # Translators: between two reasons (Japanese ends each with 。 instead).
        "what": _("; ").join(parts),
    }


# ---------------------------------------------------------------------------------------
# Writes


def probation_open(
    *,
    membership: Membership,
    rule: ProbationRule,
    card: record.Scorecard,
    reason: str,
    now: datetime.datetime | None = None,
) -> Probation | None:
    """Put a membership on probation with the scorecard's figures as the reason, unless it
    already is (then None). Records `probation.opened` (the member and the secretariat are
    told by its dispatch)."""
    now = now or timezone.now()
    with transaction.atomic():
        membership = lock_one(Membership, membership.pk)
        if Probation.objects.open().filter(membership=membership).exists():
            return None
        try:
            with transaction.atomic():
                probation = Probation.objects.create(
                    membership=membership,
                    reason=reason,
                    figures=card.figures(),
                    max_package_value_yen=rule.max_package_value_yen,
                    since=now,
                    until=record.add_months(timezone.localdate(now), rule.minimum_months),
                )
        except IntegrityError:  # opened concurrently (one open probation per membership)
            return None
        events.record(
            kind=events.EventKind.PROBATION_OPENED,
            subject=probation,
            network_id=membership.network_id,
            company_id=membership.company_id,
            figures=probation.figures,
            max_package_value_yen=probation.max_package_value_yen,
            until=probation.until.isoformat(),
        )
    return probation


def probation_lift(
    *,
    actor,
    probation: Probation,
    reason: str,
    figures: dict | None = None,
    now: datetime.datetime | None = None,
) -> Probation:
    """Lift a probation: by the secretariat (`actor`, a reason required) or by the review
    (`actor=None`). Lifting a lifted probation changes nothing. Records `probation.lifted`
    (the member and the secretariat are told by its dispatch)."""
    network_id = probation.membership.network_id
    if actor is not None:
        roles_of(actor).require_secretariat(
            network_id, _("Only the network's secretariat may do this.")
        )
    if not reason.strip():
        raise BrokerageError(_("Say why the probation is lifted."), field="reason")
    with transaction.atomic():
        probation = lock_one(Probation, probation.pk)
        if probation.lifted_at is not None:
            return probation
        probation.lifted_at = now or timezone.now()
        probation.lifted_by = actor
        probation.lift_reason = reason.strip()
        probation.lift_figures = figures or {}
        probation.save(update_fields=["lifted_at", "lifted_by", "lift_reason", "lift_figures"])
        events.record(
            kind=events.EventKind.PROBATION_LIFTED,
            subject=probation,
            actor=actor,
            network_id=network_id,
            company_id=probation.membership.company_id,
            reason=probation.lift_reason,
            by=REVIEW_LABEL if actor is None else "secretariat",
        )
    return probation


def probation_rule_set(*, actor, network: Network, data: dict) -> ProbationRule:
    """The secretariat sets the network's probation rule (`data`: RULE_FIELDS). A new
    largest-package limit applies to the open probations too: what members are told stays
    what the lead's invitation is checked against."""
    roles_of(actor).require_secretariat(
        network.pk, _("Only the network's secretariat may do this.")
    )
    values = {name: data[name] for name in RULE_FIELDS if name in data}
    existing = ProbationRule.objects.filter(network=network).first()
    merged = {name: getattr(existing, name, None) for name in RULE_FIELDS} | values
    if merged["min_on_time_rate_pct"] is None and merged["max_defect_rate_pct"] is None:
        raise BrokerageError(
            _("Set an on-time rate, a defect rate or both."), field="min_on_time_rate_pct"
        )
    if not merged["max_package_value_yen"] or merged["max_package_value_yen"] < 1:
        raise BrokerageError(
            _("Give the largest package value in whole yen."), field="max_package_value_yen"
        )
    with transaction.atomic():
        rule, _created = ProbationRule.objects.update_or_create(
            network=network, defaults={**values, "updated_by": actor}
        )
        Probation.objects.open().filter(membership__network=network).exclude(
            max_package_value_yen=rule.max_package_value_yen
        ).update(max_package_value_yen=rule.max_package_value_yen)
    return rule


# ---------------------------------------------------------------------------------------
# The daily review


@dataclass
class ReviewResult:
    opened: list[Probation] = field(default_factory=list)
    lifted: list[Probation] = field(default_factory=list)


def _fresh_starts(network: Network, company_ids) -> dict[int, datetime.date]:
    """Per company, the day after its last lifted probation in the network."""
    rows = (
        Probation.objects.filter(
            membership__network=network,
            membership__company_id__in=company_ids,
            lifted_at__isnull=False,
        )
        .values("membership__company_id")
        .annotate(last=Max("lifted_at"))
    )
    return {
        row["membership__company_id"]: timezone.localdate(row["last"]) + datetime.timedelta(days=1)
        for row in rows
    }


def probation_review(
    *, network: Network, today: datetime.date | None = None, now: datetime.datetime | None = None
) -> ReviewResult:
    """Open and lift the network's probations from the members' scorecards. Safe to run
    twice: an open probation is not opened again, a lifted one not lifted again."""
    result = ReviewResult()
    rule = ProbationRule.objects.filter(network=network, is_active=True).first()
    if rule is None:
        return result
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    window = _window(rule, today)
    cards = record.scorecards(network=network, period=window)
    fresh = _fresh_starts(network, [c.company_id for c in cards])
    live = set(
        Membership.objects.filter(
            pk__in=[c.membership_id for c in cards], status=MembershipStatus.ACTIVE
        ).values_list("pk", flat=True)
    )
    # The reasons are stored, so they are written in the network's language.
    with translation.override(settings.LANGUAGE_CODE):
        for card in cards:
            period = window
            start = fresh.get(card.company_id)
            if start is not None and start > window.start:
                if start > today:
                    continue  # lifted today: nothing new to judge
                period = record.Period(start, today)
                (card,) = record.scorecards(
                    network=network, period=period, company_id=card.company_id
                )
            found = breaches(rule, card)
            if card.probation is None and found and card.membership_id in live:
                membership = Membership.objects.get(pk=card.membership_id)
                probation = probation_open(
                    membership=membership,
                    rule=rule,
                    card=card,
                    reason=_text(found, period),
                    now=now,
                )
                if probation is not None:
                    result.opened.append(probation)
            elif card.probation is not None and not found and today >= card.probation.until:
                probation = Probation.objects.select_related("membership").get(pk=card.probation.pk)
                lifted = probation_lift(
                    actor=None,
                    probation=probation,
                    reason=_lift_text(rule, card, period),
                    figures=card.figures(),
                    now=now,
                )
                result.lifted.append(lifted)
    return result


def _lift_text(rule: ProbationRule, card: record.Scorecard, period: record.Period) -> str:
    if card.completed < rule.min_completed_packages:
        what = _(
            "%(completed)d completed packages, fewer than the %(minimum)d the rule needs to judge"
        ) % {"completed": card.completed, "minimum": rule.min_completed_packages}
    else:
        what = _(
            "on time %(on_time)d of %(completed)d (%(on_time_rate)s), defect rate "
            "%(defect_rate)s: within the network's rule"
        ) % {
            "on_time": card.on_time,
            "completed": card.completed,
            "on_time_rate": rate_text(card.on_time_rate),
            "defect_rate": rate_text(card.defect_rate),
        }
    return _text([what], period)


def probations_review_all(*, today: datetime.date | None = None) -> dict[int, tuple[int, int]]:
    """The daily job: review every active network that has an active rule. Returns
    {network id: (opened, lifted)}."""
    done = {}
    for network in Network.objects.filter(is_active=True, probation_rule__is_active=True):
        result = probation_review(network=network, today=today)
        done[network.pk] = (len(result.opened), len(result.lifted))
    return done
