"""Settlement (精算): the runs that close a month or bill the annual fees, the documents they
issue, and the payments recorded against them. Money is whole yen in integers throughout.

Issued documents are never edited: a correction cancels the document and issues a new one
that `replaces` it. What a document settles is its `source_key`; at most one issued document
per key (a partial unique constraint) is what makes a rerun issue nothing twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import Buyer, Company, Membership, Network
from orders.models import MemberCharge, Project, WorkPackage

from .tax import RoundingMode


class RunKind(models.TextChoices):
    MONTHLY_CLOSE = "monthly_close", _("Monthly close (月次締め)")
    ANNUAL_FEES = "annual_fees", _("Annual fees (年会費)")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Stopped by an error")
    REOPENED = "reopened", _("Reopened for correction")


R = RunStatus
RUN_TRANSITIONS = {
    R.RUNNING: {R.COMPLETED, R.FAILED},
    R.FAILED: {R.RUNNING},
    # Annual fees only: a later run in the year bills the members who joined since.
    R.COMPLETED: {R.REOPENED, R.RUNNING},
    R.REOPENED: {R.RUNNING},
}


class SettlementRun(models.Model):
    """A settlement run (精算処理): one network's monthly close (月次締め) of the projects the
    buyer accepted in a month, or its annual fees (年会費) for a fiscal year. One per network,
    kind and period; it can be resumed after a crash and reopened for correction.

    | from | to | who / when |
    | --- | --- | --- |
    | (new) | running | secretariat or the scheduled job starts it |
    | running | completed | every project (membership) settled, commissions issued |
    | running | failed | an error stopped it (kept in `error`); nothing half-settled |
    | failed | running | started again: resumes after the last chunk committed |
    | running (heartbeat stale) | running | the resume scan queues it again: resumes likewise |
    | completed | reopened | secretariat, with a reason (monthly close) |
    | reopened | running | started again: recomputes every document of the period |
    | completed | running | annual fees started again later in the year: bills new members only |

    A recomputing run keeps an unchanged document, cancels a changed one (reason: the reopen
    reason) and reissues it with `replaces` pointing to it. A run found `running` (its worker
    killed) is simply continued: `cursor` is the last project (or membership) settled,
    advanced in the same transaction as its documents (a chunk of them at a time), with
    `heartbeat_at`; the resume scan continues a run whose heartbeat went stale.
    """

    TRANSITIONS = RUN_TRANSITIONS

    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="settlement_runs")
    kind = models.CharField(_("kind"), max_length=20, choices=RunKind.choices)
    period = models.DateField(
        _("period"), help_text=_("First day of the month closed, or of the fiscal year.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=R.RUNNING
    )
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    cursor = models.PositiveBigIntegerField(default=0)
    # Proof of life: set when the run starts and with each chunk's commit (a second or two
    # apart). A running run whose heartbeat is older than SETTLEMENT_RUN_STALE_SECONDS lost
    # its worker; the resume scan queues it again (null: a run from before the field).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Set while a reopened run recomputes (changed documents are replaced), until completed.
    recomputing = models.BooleanField(default=False)
    error = models.TextField(_("error"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.TextField(_("reason for reopening"), blank=True)

    class Meta:
        verbose_name = _("settlement run")
        ordering = ["-period", "network", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "kind", "period"], name="one_settlement_run_per_period"
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="run_period_first_day"),
            models.CheckConstraint(
                condition=Q(progress_done__lte=F("progress_total")), name="run_progress_valid"
            ),
        ]

    def __str__(self):
        return f"{self.network} {self.get_kind_display()} {self.period:%Y-%m}"


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice to the buyer (請求書)")
    STATEMENT = "statement", _("Member's invoice to the lead (支払明細)")
    COMMISSION = "commission", _("Commission (手数料請求)")
    FEE = "fee", _("Annual fee (年会費請求)")


# The letters in a document number: MIGAKIYA-INV-2026-000123.
NUMBER_PREFIXES = {
    DocumentKind.INVOICE: "INV",
    DocumentKind.STATEMENT: "STM",
    DocumentKind.COMMISSION: "COM",
    DocumentKind.FEE: "FEE",
}
# Documents a company issues; the network issues the others.
COMPANY_ISSUED = (DocumentKind.INVOICE, DocumentKind.STATEMENT)


class DocumentStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    CANCELLED = "cancelled", pgettext_lazy("document status", "Cancelled")


class Document(models.Model):
    """An issued document (発行書類), one table for four kinds of paper:

    - invoice (請求書): the lead company to the buyer, for the order (一式);
    - statement: a member to the lead, its qualified invoice (適格請求書) for its packages,
      less the charges for its defects and lateness;
    - commission (手数料請求): the network to a company, on its sales in its first months;
    - fee (年会費請求): the network to a member, its annual fee (不課税: no consumption tax).

    Names and the issuer's registration number are copied when issued, so a later change of
    a company's record does not rewrite what was sent. `issuer_unregistered`: the issuer has
    no registration number (T + 13 digits), so the recipient cannot deduct the tax on it.
    """

    TRANSITIONS = {
        # Never edited: a reopened month's recomputation cancels a changed document (reason,
        # who and when on the row) and issues its replacement (`replaces`).
        DocumentStatus.ISSUED: {DocumentStatus.CANCELLED},
        DocumentStatus.CANCELLED: set(),
    }

    # Indexes: the composite ones below serve network, issuer and recipient; an index per
    # foreign key would only slow down the close, which inserts ~50,000 documents at a time.
    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="documents", db_index=False
    )
    run = models.ForeignKey(SettlementRun, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("kind"), max_length=12, choices=DocumentKind.choices)
    number = models.CharField(_("number"), max_length=80, unique=True)
    # What the document settles, e.g. "statement:project:42:company:7".
    source_key = models.CharField(max_length=120)
    status = models.CharField(
        _("status"), max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.ISSUED
    )

    issuer_company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents_issued",
        db_index=False,
        help_text=_("Blank: the network issues it."),
    )
    issuer_name = models.CharField(_("issuer"), max_length=200)
    issuer_registration_number = models.CharField(
        _("issuer's registration number"), max_length=14, blank=True
    )
    issuer_unregistered = models.BooleanField(_("issuer not registered for invoices"))
    recipient_company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents_received",
        db_index=False,
    )
    recipient_buyer = models.ForeignKey(
        Buyer, null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    recipient_name = models.CharField(_("recipient"), max_length=200)
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    membership = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fee_documents",
        db_index=False,  # fee documents are found by source key
    )

    transaction_date = models.DateField(_("transaction date"))
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    # Statements in a network with `pay_team_within_days`: set once the buyer has paid.
    team_pay_due = models.DateField(_("lead pays the team by"), null=True, blank=True)
    # Set by the payment that completes it (with the payments on the documents it replaces).
    paid_in_full_on = models.DateField(_("paid in full on"), null=True, blank=True)
    rounding = models.CharField(_("tax rounding"), max_length=10, choices=RoundingMode.choices)
    subtotal_yen = models.PositiveBigIntegerField(_("subtotal (yen, excl. tax)"))
    tax_yen = models.PositiveBigIntegerField(_("consumption tax (yen)"))
    total_yen = models.PositiveBigIntegerField(_("total (yen)"))
    # sha256 of the recipient, due date, rounding, lines and totals: a recomputation that
    # yields the same digest keeps the document.
    content_digest = models.CharField(max_length=64)

    replaces = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
        db_index=False,  # followed from the new document to the old, by primary key
        help_text=_("The cancelled document this one reissues."),
    )
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The reminder job marks what it has sent, so it never sends twice.
    due_soon_reminded_on = models.DateField(null=True, blank=True)
    overdue_reminded_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        ordering = ["-issue_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key"],
                condition=Q(status="issued"),
                name="one_issued_document_per_source",
            ),
            models.CheckConstraint(
                condition=Q(total_yen=F("subtotal_yen") + F("tax_yen")),
                name="document_total_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=COMPANY_ISSUED, issuer_company__isnull=False)
                | (~Q(kind__in=COMPANY_ISSUED) & Q(issuer_company__isnull=True)),
                name="document_issuer_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", recipient_buyer__isnull=False, recipient_company=None)
                | (~Q(kind="invoice") & Q(recipient_company__isnull=False, recipient_buyer=None)),
                name="document_recipient_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(status="issued", cancelled_at__isnull=True)
                | (Q(status="cancelled", cancelled_at__isnull=False) & ~Q(cancel_reason="")),
                name="document_cancelled_with_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["network", "kind", "issue_date"]),
            models.Index(fields=["issuer_company", "issue_date"]),
            models.Index(fields=["recipient_company", "issue_date"]),
            models.Index(
                fields=["due_date"],
                condition=Q(status="issued", paid_in_full_on__isnull=True),
                name="document_unpaid_due",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.recipient_name} ¥{self.total_yen:,}"


def _source_link(model) -> models.ForeignKey:
    return models.ForeignKey(
        model,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )


class DocumentLine(models.Model):
    """A line (明細) of a document, tax excluded. A deduction (a charge to the member) has a
    negative unit price and `is_deduction`; rate 0 means outside consumption tax (不課税)."""

    # (document, position) is unique: that index serves the document's lines.
    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="lines", db_index=False
    )
    position = models.PositiveSmallIntegerField()
    description = models.CharField(_("description"), max_length=300)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price_yen = models.BigIntegerField(_("unit price (yen)"))
    tax_rate = models.PositiveSmallIntegerField(_("tax rate (%)"))
    is_deduction = models.BooleanField(_("deduction"), default=False)
    amount_yen = models.BigIntegerField(_("amount (yen)"))
    # Where the line comes from, for tracing: the line copies what it bills, so these are
    # references, not ownership. No database constraint or index: a month's close writes
    # 100,000 lines, and checking three more foreign keys each at commit cost a third of it
    # (the document's own project and parties stay enforced). Django still protects them.
    project = _source_link(Project)
    package = _source_link(WorkPackage)
    charge = _source_link(MemberCharge)

    class Meta:
        verbose_name = _("document line")
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "position"], name="one_line_per_position"),
            models.CheckConstraint(
                condition=Q(amount_yen=F("quantity") * F("unit_price_yen")),
                name="line_amount_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(is_deduction=True, unit_price_yen__lt=0)
                | Q(is_deduction=False, unit_price_yen__gte=0),
                name="line_deduction_negative",
            ),
        ]

    def __str__(self):
        return f"{self.description} ¥{self.amount_yen:,}"


class DocumentTaxLine(models.Model):
    """One rate's total on a document and the tax on it, computed once per rate
    (税率ごとに区分した対価の額と消費税額)."""

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="tax_lines", db_index=False
    )
    rate = models.PositiveSmallIntegerField(_("tax rate (%)"))
    taxable_yen = models.PositiveBigIntegerField(_("total at this rate (yen, excl. tax)"))
    tax_yen = models.PositiveBigIntegerField(_("tax at this rate (yen)"))

    class Meta:
        ordering = ["document", "-rate"]
        constraints = [
            models.UniqueConstraint(fields=["document", "rate"], name="one_tax_line_per_rate")
        ]

    def __str__(self):
        return f"{self.rate}%: ¥{self.taxable_yen:,} / ¥{self.tax_yen:,}"


class DocumentCounter(models.Model):
    """The last number given to a kind of document in a network and year. Numbers are taken
    by an UPDATE of this row inside the issuing transaction: the row lock serialises two
    issuers, and a rolled-back issue gives its numbers back."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["network", "prefix", "year"], name="one_counter_per_prefix_and_year"
            )
        ]

    def __str__(self):
        return f"{self.network_id} {self.prefix}-{self.year}: {self.last}"


class Payment(models.Model):
    """A payment (入金・支払) against a document, as recorded by the side that sees it: the lead
    records the buyer's payment of its invoice and its own payments to its members; the
    secretariat records fee and commission payments. `is_advance`: the lead paid a member
    before collecting from the buyer (前払い), where they agreed so."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="payments")
    amount_yen = models.PositiveBigIntegerField(_("amount (yen)"))
    paid_on = models.DateField(_("paid on"))
    is_advance = models.BooleanField(_("advance before collection"), default=False)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        ordering = ["paid_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_yen__gte=1), name="payment_amount_positive")
        ]

    def __str__(self):
        return f"{self.document.number} ¥{self.amount_yen:,} {self.paid_on}"
