"""Payments recorded against issued documents (who may record which), and the reminders of
documents not fully paid by their due date."""

import datetime

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core import events
from core.errors import BrokerageError, InvalidTransition, NotAllowed
from members.permissions import roles_of

from . import terms
from .models import (
    Document,
    DocumentKind,
    DocumentStatus,
    Payment,
    RunKind,
    RunStatus,
    SettlementRun,
)
from .periods import month_start
from .selectors import paid_yen

# Documents not fully paid are reminded this many days before their due date, and once overdue.
REMIND_DAYS_BEFORE = 3


def _require_payment_recorder(actor, document: Document) -> None:
    """Who records a payment: the lead, for its invoice to the buyer (the buyer's payment) and
    for its members' statements to it (its own payments); the secretariat, for fees and
    commissions."""
    roles = roles_of(actor)
    allowed = {
        DocumentKind.INVOICE: lambda: roles.acts_for(document.issuer_company_id),
        DocumentKind.STATEMENT: lambda: roles.acts_for(document.recipient_company_id),
        DocumentKind.COMMISSION: lambda: roles.is_secretariat(document.network_id),
        DocumentKind.FEE: lambda: roles.is_secretariat(document.network_id),
    }[document.kind]()
    if not allowed:
        raise NotAllowed(
            _(
                "The lead records payments of its invoices and to its members; the "
                "secretariat records fees and commissions."
            )
        )


def month_closed(network_id: int, day: datetime.date) -> bool:
    """Whether the network's monthly close of `day`'s month is completed (and not reopened)."""
    return SettlementRun.objects.filter(
        network_id=network_id,
        kind=RunKind.MONTHLY_CLOSE,
        period=month_start(day),
        status=RunStatus.COMPLETED,
    ).exists()


def payment_record(
    *,
    actor,
    document: Document,
    amount_yen: int,
    paid_on: datetime.date,
    note: str = "",
    is_advance: bool = False,
) -> Payment:
    """Record a payment against an issued document (see `_require_payment_recorder` for who).
    Refused: not a whole positive amount or more than is outstanding (field amount_yen), a
    date in the future or in a closed month (paid_on), a cancelled document. `is_advance`
    only on a statement (the lead paying a member before collecting). When the payment
    completes the buyer's invoice and the network sets `pay_team_within_days`, the project's
    statements get their team-pay due date. Records `payment.recorded`."""
    _require_payment_recorder(actor, document)
    if isinstance(amount_yen, bool) or not isinstance(amount_yen, int) or amount_yen < 1:
        raise BrokerageError(_("Give the amount in whole yen, at least ¥1."), field="amount_yen")
    if paid_on > timezone.localdate():
        raise BrokerageError(_("A payment cannot be dated in the future."), field="paid_on")
    if is_advance and document.kind != DocumentKind.STATEMENT:
        raise BrokerageError(
            _("Only the lead's payment to a member can be an advance."), field="is_advance"
        )
    with transaction.atomic():
        document = _locked_payable(document, paid_on)
        left = document.total_yen - paid_yen(document)
        if amount_yen > left:
            raise BrokerageError(
                _("Only ¥%(left)s is outstanding on this document.") % {"left": f"{left:,}"},
                field="amount_yen",
            )
        payment = Payment.objects.create(
            document=document,
            amount_yen=amount_yen,
            paid_on=paid_on,
            is_advance=is_advance,
            note=note,
            recorded_by=actor,
        )
        if amount_yen == left:
            _paid_in_full(document, paid_on)
        events.record(
            kind=events.EventKind.PAYMENT_RECORDED,
            subject=payment,
            actor=actor,
            network_id=document.network_id,
            document_id=document.pk,
            number=document.number,
            amount_yen=amount_yen,
            outstanding_yen=left - amount_yen,
            is_advance=is_advance,
        )
    return payment


def _locked_payable(document: Document, paid_on: datetime.date) -> Document:
    """The document, locked for the payment's transaction; refused if it is cancelled or the
    payment's month is closed."""
    document = (
        Document.objects.select_for_update(of=("self",))
        .select_related("network")
        .get(pk=document.pk)
    )
    if document.status != DocumentStatus.ISSUED:
        raise InvalidTransition(
            _("This document is cancelled: record the payment on the one that replaces it."),
            field="document",
        )
    if month_closed(document.network_id, paid_on):
        raise BrokerageError(
            _("%(month)s is closed. Ask the secretariat to reopen it, or date the payment later.")
            % {"month": paid_on.strftime("%Y-%m")},
            field="paid_on",
        )
    return document


def _paid_in_full(document: Document, paid_on: datetime.date) -> None:
    """Mark the document paid; the buyer's payment of an invoice in full starts the clock of
    the team's pay (`pay_team_within_days`) on the project's statements."""
    document.paid_in_full_on = paid_on
    document.save(update_fields=["paid_in_full_on"])
    within = document.network.pay_team_within_days
    if document.kind == DocumentKind.INVOICE and within is not None:
        Document.objects.filter(
            project_id=document.project_id,
            kind=DocumentKind.STATEMENT,
            status=DocumentStatus.ISSUED,
        ).update(team_pay_due=terms.pay_team_due(paid_on, within))


def documents_remind_due(*, today: datetime.date | None = None) -> int:
    """Remind of issued documents not fully paid: once when due within REMIND_DAYS_BEFORE
    days, once when overdue (`document.due_soon`, `document.overdue`). A statement's due date
    is its team-pay due date once the buyer has paid; in a network that pays its team after
    collecting (`pay_team_within_days`) a statement is not due before that. Each reminder is
    marked on the document by a conditional update in the event's transaction, so two runs
    never remind twice. Returns how many were sent."""
    today = today or timezone.localdate()
    unpaid = (
        Document.objects.filter(status=DocumentStatus.ISSUED, paid_in_full_on__isnull=True)
        .exclude(
            kind=DocumentKind.STATEMENT,
            network__pay_team_within_days__isnull=False,
            team_pay_due__isnull=True,
        )
        .annotate(due=Coalesce("team_pay_due", "due_date"))
    )
    checks = (
        (
            events.EventKind.DOCUMENT_DUE_SOON,
            "due_soon_reminded_on",
            Q(due__gte=today, due__lte=today + datetime.timedelta(days=REMIND_DAYS_BEFORE)),
        ),
        (events.EventKind.DOCUMENT_OVERDUE, "overdue_reminded_on", Q(due__lt=today)),
    )
    sent = 0
    for kind, mark, due in checks:
        while pks := list(
            unpaid.filter(due, **{f"{mark}__isnull": True})
            .order_by("pk")
            .values_list("pk", flat=True)[:500]
        ):
            sent += sum(_remind(pk, kind, mark, today) for pk in pks)
    return sent


def _remind(pk: int, kind: str, mark: str, today: datetime.date) -> bool:
    """Mark the document reminded (`mark`) and record the reminder event, in one transaction;
    False if another run marked it first."""
    with transaction.atomic():
        if not Document.objects.filter(pk=pk, **{f"{mark}__isnull": True}).update(**{mark: today}):
            return False
        document = Document.objects.get(pk=pk)
        events.record(
            kind=kind,
            subject=document,
            network_id=document.network_id,
            number=document.number,
            document_kind=document.kind,
            due_date=(document.team_pay_due or document.due_date).isoformat(),
            outstanding_yen=document.total_yen - paid_yen(document),
            issuer_company_id=document.issuer_company_id,
            recipient_company_id=document.recipient_company_id,
        )
    return True
