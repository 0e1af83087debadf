"""Issuing documents: what a document will contain (`DocumentSpec`), and the batch that
writes many of them at once (`IssueBatch`) — numbers taken under a row lock, documents,
lines and per-rate totals inserted in bulk, changed documents cancelled and reissued.

Used by the settlement modules (billing.settlement, .close, .commissions, .fees); callers open
the transaction.
"""

import datetime
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from core import events
from core.errors import BrokerageError
from core.transitions import transition_many
from members.models import Buyer, Company, Network

from . import tax
from .bulk import INSERT_BATCH, copy_csv, copy_supported, csv_row, insert_rows
from .models import (
    NUMBER_PREFIXES,
    Document,
    DocumentCounter,
    DocumentLine,
    DocumentStatus,
    DocumentTaxLine,
    SettlementRun,
)
from .selectors import paid_yen

# What a close writes, row by row, in these column orders (model field names). A document's
# row is the batch's part (known once numbered, in the transaction), then the spec's
# (computed by `prepare`, possibly in another thread).
DOCUMENT_BATCH = (
    "network",
    "run",
    "number",
    "status",
    "issue_date",
    "team_pay_due",
    "replaces",
    "cancel_reason",
    "created_at",
)
DOCUMENT_SPEC = (
    "kind",
    "source_key",
    "issuer_company",
    "issuer_name",
    "issuer_registration_number",
    "issuer_unregistered",
    "recipient_company",
    "recipient_buyer",
    "recipient_name",
    "project",
    "membership",
    "transaction_date",
    "due_date",
    "rounding",
    "subtotal_yen",
    "tax_yen",
    "total_yen",
    "content_digest",
)
DOCUMENT_COLUMNS = DOCUMENT_BATCH + DOCUMENT_SPEC
LINE_COLUMNS = (
    "document",
    "position",
    "description",
    "quantity",
    "unit_price_yen",
    "tax_rate",
    "is_deduction",
    "amount_yen",
    "project",
    "package",
    "charge",
)
TAX_LINE_COLUMNS = ("document", "rate", "taxable_yen", "tax_yen")


def _new_ids(run: SettlementRun, after: int, numbers: list[str]) -> list[int]:
    """The ids of the documents just inserted, in the order of `numbers`: those of the run
    above the largest id before the insert (the run is locked, so no one else adds to it
    meanwhile). A range of primary keys rather than an IN list of thousands of numbers;
    in id order they are in insertion order, which the numbers confirm."""
    rows = list(
        Document.objects.filter(pk__gt=after, run_id=run.pk)
        .order_by("pk")
        .values_list("number", "pk")
    )
    if [number for number, _pk in rows] == numbers:
        return [pk for _number, pk in rows]
    ids = dict(rows)  # not in insertion order (never seen): match by number
    missing = [n for n in numbers if n not in ids]
    for start in range(0, len(missing), INSERT_BATCH):
        chunk = missing[start : start + INSERT_BATCH]
        ids.update(Document.objects.filter(number__in=chunk).values_list("number", "pk"))
    return [ids[n] for n in numbers]


def money_error(exc: tax.MoneyRuleError, what: str = "") -> BrokerageError:
    """A money rule broken while computing a document, as the domain error, prefixed with
    what was being computed (a project's reference, a document's source key)."""
    prefix = f"{what}: " if what else ""
    return BrokerageError(f"{prefix}{exc}", field=exc.field)


@dataclass(slots=True)
class LineSpec:
    line: tax.Line
    project_id: int | None = None
    package_id: int | None = None
    charge_id: int | None = None


@dataclass(slots=True)
class DocumentSpec:
    """A document as computed from the facts, not yet issued. `prepare()` computes its
    totals (tax once per rate) and the digest a recomputation is compared by."""

    kind: str
    source_key: str
    network: Network
    issuer_company: Company | None
    recipient_company: Company | None
    recipient_buyer: Buyer | None
    transaction_date: datetime.date
    due_date: datetime.date
    rounding: str
    lines: list[LineSpec]
    project_id: int | None = None
    membership_id: int | None = None
    totals: tax.InvoiceTotals | None = field(default=None, init=False)
    digest: str = field(default="", init=False)
    # Set by prepare(): the DOCUMENT_SPEC values, and the lines' and tax lines' values
    # without the document's id (LINE_COLUMNS[1:], TAX_LINE_COLUMNS[1:]).
    row: tuple = field(default=(), init=False)
    line_rows: list[tuple] = field(default_factory=list, init=False)
    tax_rows: list[tuple] = field(default_factory=list, init=False)
    # Set by render(): the same as CSV.
    text: str = field(default="", init=False)
    line_texts: list[str] = field(default_factory=list, init=False)
    tax_texts: list[str] = field(default_factory=list, init=False)

    def prepare(self) -> "DocumentSpec":
        """Totals, digest and the rows to write. No database access: the monthly close
        prepares the next chunk in another thread while this one is written."""
        try:
            totals = tax.compute_invoice_totals([s.line for s in self.lines], self.rounding)
        except tax.MoneyRuleError as exc:
            raise money_error(exc, self.source_key) from exc
        self.totals = totals
        digested, self.line_rows = self._line_rows()
        self.digest = self._digest(digested, totals)
        self.row = self._row(totals)
        self.tax_rows = [(r.rate, r.taxable_yen, r.tax_yen) for r in totals.by_rate]
        return self

    def _line_rows(self) -> tuple[list[tuple], list[tuple]]:
        """The lines as the digest compares them, and as LINE_COLUMNS[1:] rows."""
        digested = []
        line_rows = []
        for position, s in enumerate(self.lines, start=1):
            line = s.line
            digested.append(
                (
                    line.description,
                    line.quantity,
                    line.unit_price_yen,
                    line.tax_rate,
                    line.is_deduction,
                    s.project_id,
                    s.package_id,
                    s.charge_id,
                )
            )
            line_rows.append(
                (
                    position,
                    line.description[:300],
                    line.quantity,
                    line.unit_price_yen,
                    line.tax_rate,
                    line.is_deduction,
                    line.quantity * line.unit_price_yen,
                    s.project_id,
                    s.package_id,
                    s.charge_id,
                )
            )
        return digested, line_rows

    def _digest(self, digested: list[tuple], totals: tax.InvoiceTotals) -> str:
        """What a recomputation compares: parties, terms, lines and totals."""
        issuer, recipient, buyer = self.issuer_company, self.recipient_company, self.recipient_buyer
        content = (
            self.kind,
            issuer.id if issuer else None,
            recipient.id if recipient else None,
            buyer.id if buyer else None,
            self.project_id,
            self.membership_id,
            self.due_date.toordinal(),
            str(self.rounding),
            tuple(digested),
            totals.subtotal_yen,
            totals.tax_yen,
            totals.total_yen,
        )
        # repr of ints, strings, bools and None is stable, and cheaper than JSON.
        return hashlib.sha256(repr(content).encode()).hexdigest()

    def _row(self, totals: tax.InvoiceTotals) -> tuple:
        """The DOCUMENT_SPEC values (the digest computed)."""
        issuer, recipient, buyer = self.issuer_company, self.recipient_company, self.recipient_buyer
        # The network itself issues commissions and fees.
        registration = (issuer or self.network).invoice_registration_number
        taxable = any(r.rate > 0 for r in totals.by_rate)
        recipient_name = str(buyer) if buyer is not None else recipient.legal_name
        return (
            self.kind,
            self.source_key,
            issuer.pk if issuer else None,
            issuer.legal_name if issuer else self.network.name,
            registration,
            taxable and not registration,
            recipient.pk if recipient else None,
            buyer.pk if buyer else None,
            recipient_name[:200],
            self.project_id,
            self.membership_id,
            self.transaction_date.isoformat(),
            self.due_date.isoformat(),
            str(totals.rounding),
            totals.subtotal_yen,
            totals.tax_yen,
            totals.total_yen,
            self.digest,
        )

    def render(self) -> None:
        """The rows as CSV for COPY, but for the document's id and the batch's columns:
        the monthly close renders them while planning, in its planning thread, so the
        thread that writes only joins strings."""
        self.text = csv_row(self.row)
        self.line_texts = [csv_row(r) for r in self.line_rows]
        self.tax_texts = [csv_row(r) for r in self.tax_rows]


def take_numbers(network: Network, kind: str, year: int, count: int) -> list[str]:
    """`count` consecutive numbers, e.g. MIGAKIYA-INV-2026-000123 (the network's slug keeps
    them unique across networks). The UPDATE locks the counter row until the issuing
    transaction ends, so two issuers never share a number, and a rollback gives them back."""
    prefix = NUMBER_PREFIXES[kind]
    counter = DocumentCounter.objects.filter(network=network, prefix=prefix, year=year)
    if not counter.update(last=F("last") + count):
        try:
            with transaction.atomic():
                DocumentCounter.objects.create(
                    network=network, prefix=prefix, year=year, last=count
                )
        except IntegrityError:  # created meanwhile by another issuer
            counter.update(last=F("last") + count)
    last = counter.values_list("last", flat=True).get()
    head = f"{network.slug.upper()}-{prefix}-{year}"
    return [f"{head}-{n:06d}" for n in range(last - count + 1, last + 1)]


class IssueBatch:
    """Documents to issue (and to cancel) in one transaction.

    `add()` compares prepared specs with the issued documents of the same scope (a
    project's, a company's commission for the month, a membership's fee) by source key: a
    first run keeps what is issued; a recomputing run (reopened) keeps an identical document,
    cancels a changed one (reason: the reopen reason) and reissues it with `replaces`, and
    cancels those no longer due. `flush()` writes it all, in a few statements.
    """

    def __init__(self, run: SettlementRun, actor=None):
        self.run = run
        self.actor = actor
        self.new: list[tuple[DocumentSpec, Document | None]] = []
        self.stale: list[Document] = []

    def add(self, specs: list[DocumentSpec], existing: dict[str, Document]) -> list[DocumentSpec]:
        """Plan the specs; returns those that will be issued."""
        planned = []
        for spec in specs:
            old = existing.get(spec.source_key)
            if old is not None:
                if not self.run.recomputing or old.content_digest == spec.digest:
                    continue
                self.stale.append(old)
            self.new.append((spec, old))
            planned.append(spec)
        if self.run.recomputing:
            wanted = {spec.source_key for spec in specs}
            self.stale += [d for key, d in existing.items() if key not in wanted]
        return planned

    def retain(self, project_ids_after: int) -> int:
        """Forget what was planned for projects up to `project_ids_after` (a concurrent
        worker settled them meanwhile); returns how many documents remain planned."""
        self.new = [(s, old) for s, old in self.new if s.project_id > project_ids_after]
        self.stale = [d for d in self.stale if d.project_id > project_ids_after]
        return len(self.new)

    def flush(self) -> int:
        """Write what was planned; call inside the transaction. Returns how many documents
        were issued."""
        run, actor = self.run, self.actor
        if self.stale:
            self._cancel()
        new, self.new, self.stale = self.new, [], []
        if not new:
            return 0
        today = timezone.localdate()
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        counts: dict[str, int] = {}
        for spec, _old in new:
            counts[spec.kind] = counts.get(spec.kind, 0) + 1
        numbers = {
            kind: iter(take_numbers(run.network, kind, today.year, count))
            for kind, count in counts.items()
        }
        issued_on = connection.ops.adapt_datefield_value(today)
        network_id, run_id = run.network_id, run.pk
        if copy_supported() and all(spec.text for spec, _old in new):
            ids = self._copy(new, numbers, network_id, run_id, issued_on, now)
        else:
            ids = self._insert(new, numbers, network_id, run_id, issued_on, now)
        replacements = [pk for pk, (_spec, old) in zip(ids, new, strict=True) if old]
        for document in Document.objects.filter(pk__in=replacements).select_related("replaces"):
            # Payments made on the document it replaces count towards this one.
            if document.total_yen - paid_yen(document) <= 0:
                document.paid_in_full_on = today
                document.save(update_fields=["paid_in_full_on"])
            events.record(
                kind=events.EventKind.DOCUMENT_REPLACED,
                subject=document,
                actor=actor,
                network_id=document.network_id,
                number=document.number,
                replaces=document.replaces.number,
            )
        return len(new)

    def render(self) -> None:
        """Render the planned documents for COPY (see `DocumentSpec.render`); pure Python."""
        for spec, _old in self.new:
            spec.render()

    def _insert(self, new, numbers, network_id, run_id, issued_on, now) -> list[int]:
        rows = []
        for spec, old in new:
            number = next(numbers[spec.kind])
            if old is None:
                team_pay_due = replaces = None
            else:
                team_pay_due = old.team_pay_due.isoformat() if old.team_pay_due else None
                replaces = old.pk
            head = (network_id, run_id, number, DocumentStatus.ISSUED.value, issued_on)
            rows.append((*head, team_pay_due, replaces, "", now, *spec.row))
        after = Document.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        insert_rows(Document, DOCUMENT_COLUMNS, rows)
        ids = _new_ids(self.run, after, [row[2] for row in rows])
        lines, tax_lines = [], []
        for document_id, (spec, _old) in zip(ids, new, strict=True):
            lines += [(document_id, *r) for r in spec.line_rows]
            tax_lines += [(document_id, *r) for r in spec.tax_rows]
        insert_rows(DocumentLine, LINE_COLUMNS, lines)
        insert_rows(DocumentTaxLine, TAX_LINE_COLUMNS, tax_lines)
        return ids

    def _copy(self, new, numbers, network_id, run_id, issued_on, now) -> list[int]:
        """As `_insert`, from the rendered CSV: the batch's values are numbers, dates and
        the issued status, none of which needs quoting."""
        head = f"{network_id},{run_id},"
        middle = f",{DocumentStatus.ISSUED.value},{issued_on},"
        fresh = f',,"",{now},'
        rows, numbered = [], []
        for spec, old in new:
            number = next(numbers[spec.kind])
            numbered.append(number)
            if old is None:
                rows.append(f"{head}{number}{middle}{fresh}{spec.text}\n")
            else:
                team_pay_due = old.team_pay_due.isoformat() if old.team_pay_due else ""
                rows.append(f'{head}{number}{middle}{team_pay_due},{old.pk},"",{now},{spec.text}\n')
        after = Document.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        copy_csv(Document, DOCUMENT_COLUMNS, "".join(rows))
        ids = _new_ids(self.run, after, numbered)
        lines, tax_lines = [], []
        for document_id, (spec, _old) in zip(ids, new, strict=True):
            lines += [f"{document_id},{t}\n" for t in spec.line_texts]
            tax_lines += [f"{document_id},{t}\n" for t in spec.tax_texts]
        copy_csv(DocumentLine, LINE_COLUMNS, "".join(lines))
        copy_csv(DocumentTaxLine, TAX_LINE_COLUMNS, "".join(tax_lines))
        return ids

    def _cancel(self) -> None:
        """Cancel the stale documents: only status and the cancel fields change."""
        run, actor = self.run, self.actor
        by = actor if actor is not None and actor.is_authenticated else run.reopened_by
        transition_many(
            Document.objects.filter(
                pk__in=[d.pk for d in self.stale], status=DocumentStatus.ISSUED
            ),
            to=DocumentStatus.CANCELLED,
            allowed=Document.TRANSITIONS,
            actor=by,
            reason=run.reopen_reason,
            changes={
                "cancel_reason": run.reopen_reason,
                "cancelled_by": by,
                "cancelled_at": timezone.now(),
            },
        )
        for old in self.stale:
            events.record(
                kind=events.EventKind.DOCUMENT_CANCELLED,
                subject=old,
                actor=actor,
                network_id=old.network_id,
                number=old.number,
                reason=run.reopen_reason,
            )


def issue_now(
    run: SettlementRun, actor, specs: list[DocumentSpec], existing: Iterable[Document]
) -> list[DocumentSpec]:
    """Plan `specs` against the `existing` issued documents of the same scope and write them
    (see IssueBatch), in the caller's transaction, with the run locked. Returns the specs
    issued."""
    batch = IssueBatch(run, actor)
    planned = batch.add(specs, {d.source_key: d for d in existing})
    batch.flush()
    return planned
