"""Reads of settlement: documents, payments and runs, always scoped to what the viewer may see;
a company's ledger derived from its documents and payments (no second bookkeeping)."""

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotAllowed
from members.models import Company, Membership
from members.permissions import roles_of

from .models import Document, DocumentStatus, Payment, SettlementRun

# How far back a chain of reissues is followed (a document replacing one replacing one …).
MAX_REISSUES = 50


def document_list(*, viewer) -> QuerySet[Document]:
    """Documents the viewer may see: those its company issued or received, the buyer's own
    invoices, every document of the networks it staffs (secretariat or committee); all for a
    platform admin."""
    documents = Document.objects.select_related(
        "network", "issuer_company", "recipient_company", "recipient_buyer", "project"
    )
    if viewer is None or not viewer.is_authenticated:
        return documents.none()
    roles = roles_of(viewer)
    if roles.is_platform_admin:
        return documents
    visible = Q(network_id__in=roles.staff_network_ids) | Q(recipient_buyer__user_id=viewer.pk)
    if roles.company_id is not None:
        visible |= Q(issuer_company_id=roles.company_id) | Q(recipient_company_id=roles.company_id)
    return documents.filter(visible)


def payment_list(*, viewer) -> QuerySet[Payment]:
    """Payments on the documents the viewer may see."""
    return Payment.objects.filter(
        document__in=document_list(viewer=viewer).values("pk")
    ).select_related("document", "recorded_by")


def run_list(*, viewer) -> QuerySet[SettlementRun]:
    """Settlement runs of the networks the viewer staffs; all for a platform admin."""
    runs = SettlementRun.objects.select_related("network", "started_by", "reopened_by")
    if viewer is None or not viewer.is_authenticated:
        return runs.none()
    roles = roles_of(viewer)
    if roles.is_platform_admin:
        return runs
    return runs.filter(network_id__in=roles.staff_network_ids)


def reissue_chain(document: Document) -> list[int]:
    """The document's id and those of the cancelled documents it reissues, newest first."""
    ids = [document.pk]
    previous = document.replaces_id
    while previous is not None and len(ids) < MAX_REISSUES:
        ids.append(previous)
        previous = Document.objects.filter(pk=previous).values_list("replaces_id", flat=True).get()
    return ids


def paid_yen(document: Document) -> int:
    """What was paid on the document, counting payments made on the documents it reissues: a
    correction does not make the buyer pay twice."""
    ids = reissue_chain(document)
    return Payment.objects.filter(document_id__in=ids).aggregate(n=Sum("amount_yen"))["n"] or 0


def outstanding(document: Document) -> int:
    """What is still to be paid on an issued document (0 for a cancelled one; negative when
    overpaid, e.g. after a correction lowered the total)."""
    if document.status != DocumentStatus.ISSUED:
        return 0
    return document.total_yen - paid_yen(document)


@dataclass(frozen=True)
class LedgerRow:
    """One movement in a company's ledger (取引台帳). `amount_yen` is its effect on what the
    others owe the company: + it billed (or paid out), − it owes (or received);
    `balance_yen` the running total (positive: the company is owed money)."""

    date: datetime.date
    entry: str  # billed, owes, cancelled, received, paid
    document: Document
    payment: Payment | None
    counterparty: str
    amount_yen: int
    balance_yen: int


def _may_see_ledger(viewer, company: Company) -> bool:
    roles = roles_of(viewer)
    if roles.is_platform_admin or roles.acts_for(company.pk):
        return True
    networks = Membership.objects.filter(company=company).values_list("network_id", flat=True)
    return bool(roles.staff_network_ids & set(networks))


def ledger(*, company: Company, viewer) -> list[LedgerRow]:
    """Every amount the company billed, owes, received and paid, oldest first, with the
    running balance. For the company's users, the staff of its networks (their networks'
    documents only) and platform admins; NotAllowed for anyone else."""
    if viewer is None or not viewer.is_authenticated or not _may_see_ledger(viewer, company):
        raise NotAllowed(_("Only the company and its networks' secretariat see its ledger."))
    documents = list(
        document_list(viewer=viewer).filter(
            Q(issuer_company=company) | Q(recipient_company=company)
        )
    )
    movements = _ledger_movements(company, documents)
    movements.sort(key=lambda m: m[:4])
    rows, balance = [], 0
    for date, _recorded, _order, _pk, entry, document, payment, amount in movements:
        balance += amount
        if document.issuer_company_id == company.pk:
            counterparty = document.recipient_name
        else:
            counterparty = document.issuer_name
        rows.append(LedgerRow(date, entry, document, payment, counterparty, amount, balance))
    return rows


def _ledger_movements(company: Company, documents: list) -> list[tuple]:
    """The company's documents issued and cancelled, and the payments on them, unsorted."""
    by_id = {d.pk: d for d in documents}
    payments = Payment.objects.filter(document_id__in=list(by_id)).order_by("paid_on", "id")
    # (date, when recorded, order, id, entry, document, payment, amount): by date, then in
    # the order things were recorded (documents of one run share a time: by id).
    movements = []
    for document in documents:
        issued_by_company = document.issuer_company_id == company.pk
        sign = 1 if issued_by_company else -1
        entry = "billed" if issued_by_company else "owes"
        total = sign * document.total_yen
        movements.append(
            (document.issue_date, document.created_at, 0, document.pk, entry, document, None, total)
        )
        if document.status == DocumentStatus.CANCELLED:
            cancelled_on = timezone.localdate(document.cancelled_at)
            movements.append(
                (
                    cancelled_on,
                    document.cancelled_at,
                    1,
                    document.pk,
                    "cancelled",
                    document,
                    None,
                    -total,
                )
            )
    for payment in payments:
        document = by_id[payment.document_id]
        received = document.issuer_company_id == company.pk
        movements.append(
            (
                payment.paid_on,
                payment.recorded_at,
                2,
                payment.pk,
                "received" if received else "paid",
                document,
                payment,
                -payment.amount_yen if received else payment.amount_yen,
            )
        )
    return movements
