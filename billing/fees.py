"""Annual fees (年会費): each active membership billed by the network for its fiscal year, from
the fee table by class, prorated by month for members who joined during the year."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import BrokerageError
from members.models import (
    Membership,
    MembershipClass,
    MembershipFee,
    MembershipStatus,
    Network,
)
from members.permissions import roles_of

from . import runs, tax, terms
from .issuing import DocumentSpec, LineSpec, issue_now
from .models import Document, DocumentKind, DocumentStatus, RunKind, SettlementRun
from .periods import fiscal_year_of

# Daily jobs catch up on a fiscal year's fees this many days after it started (not later:
# installing the platform mid-year must not bill a year the network already billed on paper).
ANNUAL_FEES_CATCH_UP_DAYS = 7
CLASS_LABELS = {
    MembershipClass.LEAD: "受注幹事企業",
    MembershipClass.JOINT_ORDER: "共同受注部会員",
    MembershipClass.SUPPORTING: "賛助会員",
    MembershipClass.SKILL_DIVISION: "技能士部会員",
}


def annual_fees(*, network: Network, fiscal_year_start: datetime.date, actor=None) -> SettlementRun:
    """Bill the annual fee (年会費) of every active membership of the network for the fiscal
    year starting on `fiscal_year_start`: the fee table's amount for its class, prorated by
    month (billing.terms) when the network prorates and the member joined during the year.
    Fees are outside consumption tax (不課税: a voluntary association's membership fee is no
    consideration for a supply), so their lines carry rate 0.

    A class in use without a fee-table row raises (field `membership_class`) before anything
    is issued. Started again later in the year it bills only the members who joined since;
    after a reopen it recomputes. Chunked and resumable like the close."""
    if actor is not None:  # None: the scheduled job
        roles_of(actor).require_secretariat(
            network.pk, _("Only the network's secretariat may run the settlement.")
        )
    start = fiscal_year_start
    if start.day != 1 or start.month != network.fiscal_year_start_month:
        raise BrokerageError(
            _("The network's fiscal year starts on the 1st of month %(m)d.")
            % {"m": network.fiscal_year_start_month},
            field="fiscal_year_start",
        )
    year_end = terms.add_months(start, 12) - datetime.timedelta(days=1)
    memberships = Membership.objects.filter(
        network=network, status=MembershipStatus.ACTIVE, joined_on__lte=year_end
    )
    fees = _fee_table(network, memberships)
    run = runs.run_start(
        network=network,
        kind=RunKind.ANNUAL_FEES,
        period=start,
        actor=actor,
        total=memberships.count(),
    )
    today = timezone.localdate()
    with runs.RunWork(run, actor) as work:
        cursor = run.cursor
        while chunk := list(
            memberships.filter(pk__gt=cursor)
            .select_related("company")
            .order_by("pk")[: runs.CHUNK_SIZE]
        ):
            specs = []
            for membership in chunk:
                work.current = str(membership.company)
                specs.append(_fee_document(membership, network, fees, start=start, today=today))
            _bill_chunk(run, actor, chunk, [s for s in specs if s is not None])
            cursor = chunk[-1].pk
    if work.completed_meanwhile:
        return run
    return runs.run_complete(run, actor)


def _fee_table(network: Network, memberships) -> dict[str, int]:
    """The network's annual fee per class; raises (field `membership_class`) if a class the
    `memberships` use has none."""
    in_use = set(memberships.order_by().values_list("membership_class", flat=True).distinct())
    fees = dict(
        MembershipFee.objects.filter(network=network).values_list(
            "membership_class", "annual_fee_yen"
        )
    )
    missing = sorted(in_use - set(fees))
    if missing:
        names = ", ".join(str(MembershipClass(c).label) for c in missing)
        raise BrokerageError(
            _("The fee table has no annual fee for: %(classes)s. Add it, then bill again.")
            % {"classes": names},
            field="membership_class",
        )
    return fees


def _bill_chunk(
    run: SettlementRun, actor, chunk: list[Membership], specs: list[DocumentSpec]
) -> None:
    """Issue a chunk's fees and advance the run past it, in one transaction under the run's
    lock; memberships a concurrent worker billed meanwhile are left out."""
    with transaction.atomic():
        locked = runs.lock_running(run)
        specs = [s for s in specs if s.membership_id > locked.cursor]
        existing = Document.objects.filter(
            source_key__in=[s.source_key for s in specs], status=DocumentStatus.ISSUED
        )
        issue_now(locked, actor, specs, existing)
        runs.run_advance(locked, chunk)


def _fee_document(
    membership: Membership, network: Network, fees: dict, *, start: datetime.date, today
) -> DocumentSpec | None:
    """A membership's fee document for the year starting on `start`; None if it owes none."""
    fee = fees[membership.membership_class]
    months = 12
    if network.prorate_fees and membership.joined_on >= start:
        fee = terms.prorate_annual_fee(fee, fiscal_year_start=start, joined_on=membership.joined_on)
        months = 12 - (
            (membership.joined_on.year - start.year) * 12 + membership.joined_on.month - start.month
        )
    if fee < 1:
        return None
    description = f"{start.year}年度 年会費（{CLASS_LABELS[membership.membership_class]}）"
    if months < 12:
        description += f" {months}/12か月分"
    line = tax.Line(
        description,
        quantity=1,
        unit_price_yen=fee,
        tax_rate=tax.NON_TAXABLE_RATE,
        non_taxable=True,
    )
    return DocumentSpec(
        kind=DocumentKind.FEE,
        source_key=f"fee:{start.year}:membership:{membership.pk}",
        network=network,
        issuer_company=None,
        recipient_company=membership.company,
        recipient_buyer=None,
        transaction_date=max(start, membership.joined_on),
        due_date=terms.network_due_date(today),
        rounding=tax.DEFAULT_ROUNDING,
        lines=[LineSpec(line)],
        membership_id=membership.pk,
    ).prepare()


def annual_fees_due(*, today: datetime.date | None = None) -> list[tuple[int, datetime.date]]:
    """(network, fiscal year start) for active networks whose fiscal year started in the last
    ANNUAL_FEES_CATCH_UP_DAYS days and whose fees for it are not billed yet."""
    today = today or timezone.localdate()
    due = []
    for network in Network.objects.filter(is_active=True).order_by("pk"):
        start = fiscal_year_of(network, today)
        if (today - start).days >= ANNUAL_FEES_CATCH_UP_DAYS:
            continue
        if not runs.settled_runs(RunKind.ANNUAL_FEES, start).filter(network=network).exists():
            due.append((network.pk, start))
    return due
