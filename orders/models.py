from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import Buyer, Company, FinishKind, Material, Network, Process
from members.prefectures import PREFECTURE_CHOICES


class InquiryStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Received, being screened")
    QUESTION = "question", _("Waiting for the buyer's answer")
    COMMITTEE = "committee", _("With the steering committee")
    OPEN = "open", _("Open for applications")
    EVALUATION = "evaluation", _("Applications closed, choosing the lead")
    STAGED = "staged", _("Split into stages across networks")
    AWARDED = "awarded", _("Awarded")
    REJECTED = "rejected", _("Declined with reasons")
    REFERRAL = "referral", _("Referred outside the network")
    WITHDRAWN = "withdrawn", _("Withdrawn by the buyer")


S = InquiryStatus
INQUIRY_TRANSITIONS = {
    S.SUBMITTED: {
        S.OPEN,
        S.QUESTION,
        S.COMMITTEE,
        S.STAGED,
        S.REJECTED,
        S.REFERRAL,
        S.WITHDRAWN,
    },
    S.QUESTION: {S.SUBMITTED, S.REJECTED, S.WITHDRAWN},
    S.COMMITTEE: {S.OPEN, S.REJECTED, S.REFERRAL},
    S.OPEN: {S.EVALUATION, S.REFERRAL, S.WITHDRAWN},
    S.EVALUATION: {S.AWARDED, S.REFERRAL, S.WITHDRAWN},
    # A chain is awarded when every stage is; the secretariat can still refer or decline it.
    S.STAGED: {S.AWARDED, S.REFERRAL, S.REJECTED, S.WITHDRAWN},
    S.AWARDED: set(),
    S.REJECTED: set(),
    S.REFERRAL: set(),
    S.WITHDRAWN: set(),
}
# Statuses in which the inquiry has reached an outcome: never silence.
INQUIRY_OUTCOMES = frozenset({S.AWARDED, S.REJECTED, S.REFERRAL, S.WITHDRAWN})


# What a buyer specifies in an inquiry, in the order forms and the API show it.
INQUIRY_SPEC_FIELDS = (
    "title",
    "description",
    "material",
    "processes",
    "finish_kind",
    "finish_grit",
    "finish_ra_input",
    "quantity",
    "lot_pattern",
    "length_mm",
    "width_mm",
    "height_mm",
    "weight_kg",
    "desired_delivery_date",
    "delivery_prefecture",
    "delivery_city",
    "budget_yen",
    "nda_required",
)


class LotPattern(models.TextChoices):
    ONE_OFF = "one_off", _("One-off")
    REPEAT = "repeat", _("Repeat orders")


class AwardMode(models.TextChoices):
    BID = "bid", _("By bid (入札)")
    COORDINATION = "coordination", _("By coordination (調整)")


class Inquiry(models.Model):
    """An inquiry (引き合い): what a buyer asks the network to make, through its one window."""

    TRANSITIONS = INQUIRY_TRANSITIONS

    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="inquiries")
    reference = models.CharField(_("reference"), max_length=30, unique=True)
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="inquiries")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The buyer, or the secretariat taking an inquiry by phone."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=InquiryStatus.choices, default=S.SUBMITTED
    )

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="+")
    processes = models.ManyToManyField(Process, related_name="+", verbose_name=_("processes"))
    finish_kind = models.CharField(
        _("finish wanted"), max_length=10, choices=FinishKind.choices, blank=True
    )
    finish_grit = models.PositiveIntegerField(_("grit (#)"), null=True, blank=True)
    finish_ra_input = models.DecimalField(
        _("Ra (µm)"), max_digits=6, decimal_places=3, null=True, blank=True
    )
    # The wanted finish on the Ra scale (None: no requirement), comparable with capabilities.
    required_ra_um = models.DecimalField(
        max_digits=6, decimal_places=3, null=True, blank=True, editable=False
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    lot_pattern = models.CharField(
        _("lot pattern"), max_length=10, choices=LotPattern.choices, default=LotPattern.ONE_OFF
    )
    length_mm = models.PositiveIntegerField(_("length (mm)"), validators=[MinValueValidator(1)])
    width_mm = models.PositiveIntegerField(_("width (mm)"), validators=[MinValueValidator(1)])
    height_mm = models.PositiveIntegerField(_("height (mm)"), validators=[MinValueValidator(1)])
    weight_kg = models.DecimalField(
        _("weight (kg)"), max_digits=9, decimal_places=2, validators=[MinValueValidator(0)]
    )
    desired_delivery_date = models.DateField(_("desired delivery date"))
    delivery_prefecture = models.CharField(
        _("delivery prefecture"), max_length=2, choices=PREFECTURE_CHOICES
    )
    delivery_city = models.CharField(_("delivery city"), max_length=100, blank=True)
    budget_yen = models.PositiveBigIntegerField(_("budget (yen)"), null=True, blank=True)
    nda_required = models.BooleanField(_("NDA needed"), default=False)

    submitted_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    application_deadline = models.DateTimeField(_("application deadline"), null=True, blank=True)
    award_mode = models.CharField(
        _("award mode"), max_length=15, choices=AwardMode.choices, blank=True
    )
    # Set when the applications' prices may be seen (window closed, or the committee opened
    # them together where the network requires it).
    applications_opened_at = models.DateTimeField(null=True, blank=True)
    outcome_reason = models.TextField(_("reason given to the buyer"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Retried API creates with the same key return the first inquiry.
    idempotency_key = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entered_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="one_inquiry_per_idempotency_key",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="inquiry_quantity_positive"),
        ]
        indexes = [
            models.Index(fields=["network", "status", "-submitted_at"]),
            # The lists' default order within a network (staff lists, the API's pages).
            models.Index(fields=["network", "-submitted_at", "-id"], name="inquiry_network_recent"),
            models.Index(
                fields=["application_deadline"],
                condition=Q(status="open"),
                name="inquiry_open_deadline",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"


class InquiryAttachment(models.Model):
    """A drawing or photo attached to an inquiry (PDF, image, DXF, STEP)."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="inquiries/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.original_name


class InquiryMessage(models.Model):
    """A question from the secretariat and the buyer's answer, kept on the inquiry."""

    class Kind(models.TextChoices):
        QUESTION = "question", _("Question")
        ANSWER = "answer", _("Answer")

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.inquiry.reference} {self.kind}"


class CommitteeDecision(models.Model):
    """The steering committee's decision (運営委員会の決定) on an escalated special case."""

    inquiry = models.OneToOneField(
        Inquiry, on_delete=models.CASCADE, related_name="committee_decision"
    )
    accept = models.BooleanField()
    votes_for = models.PositiveSmallIntegerField()
    votes_against = models.PositiveSmallIntegerField()
    votes_abstained = models.PositiveSmallIntegerField(default=0)
    reason = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.inquiry.reference}: {'accept' if self.accept else 'decline'}"


class ApplicationStatus(models.TextChoices):
    ACTIVE = "active", _("Submitted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


APPLICATION_TRANSITIONS = {
    # The lead, while the window is open; applying again makes a new application.
    ApplicationStatus.ACTIVE: {ApplicationStatus.WITHDRAWN},
    ApplicationStatus.WITHDRAWN: set(),
}


class Application(models.Model):
    """A lead company's application (応募) to an open inquiry: its sealed offer.

    The price stays sealed — from other leads, the buyer and the secretariat alike — until
    the window closes (or the committee opens the applications together).
    """

    TRANSITIONS = APPLICATION_TRANSITIONS

    inquiry = models.ForeignKey(Inquiry, on_delete=models.PROTECT, related_name="applications")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="applications")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.ACTIVE
    )
    price_yen = models.PositiveBigIntegerField(_("price (yen, excl. tax)"))
    lead_time_days = models.PositiveSmallIntegerField(
        _("lead time (days)"), validators=[MinValueValidator(1)]
    )
    proposed_team = models.ManyToManyField(
        Company, blank=True, related_name="+", verbose_name=_("proposed team (tentative)")
    )
    notes = models.TextField(_("notes"), blank=True)
    revision = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["inquiry", "company"],
                condition=Q(status="active"),
                name="one_active_application_per_lead",
            ),
            models.CheckConstraint(
                condition=Q(price_yen__gte=1), name="application_price_positive"
            ),
        ]

    def __str__(self):
        return f"{self.inquiry.reference} ← {self.company}"


class AwardStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    CONFIRMED = "confirmed", _("Confirmed")


AWARD_TRANSITIONS = {
    # The secretariat confirms what the deadline job proposed or it chose (by coordination,
    # overwriting the proposal until confirmed); the inquiry is awarded with it.
    AwardStatus.PROPOSED: {AwardStatus.CONFIRMED},
    AwardStatus.CONFIRMED: set(),
}


class Award(models.Model):
    """The award (受注決定) of an inquiry to one lead company's application.

    One row per inquiry, enforced by the database: two awards cannot exist, also under
    concurrent requests. Proposed when the window closes (by bid or the sole applicant) or by
    the secretariat (by coordination), then confirmed by the secretariat.
    """

    TRANSITIONS = AWARD_TRANSITIONS

    inquiry = models.OneToOneField(Inquiry, on_delete=models.PROTECT, related_name="award")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="+")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="awards")
    mode = models.CharField(max_length=15, choices=AwardMode.choices)
    status = models.CharField(
        max_length=10, choices=AwardStatus.choices, default=AwardStatus.PROPOSED
    )
    # The bid ranking as shown to the secretariat: per application, each term and the total.
    score_breakdown = models.JSONField(default=list, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    proposed_at = models.DateTimeField(auto_now_add=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self):
        return f"{self.inquiry.reference} → {self.company}"


class ReferenceSequence(models.Model):
    """The last inquiry number given per network and year. One short row update per
    submission, instead of counting the year's inquiries under the network's lock."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "year"], name="one_sequence_per_year")
        ]

    def __str__(self):
        return f"{self.network_id}/{self.year}: {self.last}"


class InquiryStage(models.Model):
    """A stage (工程) of a process chain: an inquiry needing several processes in order (dies
    and pressing by a partner network, then polishing by ours) is split into linked stages.
    Each stage is its own inquiry in the network that does its processes, matched and awarded
    there; the buyer follows them through the parent inquiry."""

    parent = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="stages")
    sequence = models.PositiveSmallIntegerField(_("order"))
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="+")
    processes = models.ManyToManyField(Process, related_name="+")
    inquiry = models.OneToOneField(
        Inquiry, on_delete=models.PROTECT, related_name="stage_of", verbose_name=_("stage inquiry")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["parent", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "sequence"], name="one_stage_per_position"),
        ]

    def __str__(self):
        return f"{self.parent.reference} stage {self.sequence}"


class LeadCall(models.Model):
    """A lead company called to apply (応募依頼) when the inquiry was published: the set the
    dispatcher notifies, kept so that "every called lead has answered" (applied or declined)
    means the same thing at publication, at an extension and at an early close."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="lead_calls")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    called_at = models.DateTimeField(auto_now_add=True)
    # The lead's answer "we do not apply" (辞退), with its reason; it may still apply later.
    declined_at = models.DateTimeField(null=True, blank=True)
    declined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decline_reason = models.TextField(_("reason for declining"), blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["inquiry", "company"], name="one_call_per_lead")
        ]

    def __str__(self):
        return f"{self.inquiry_id} → {self.company_id}"


class DeadlineExtension(models.Model):
    """An extension of a published call's application deadline (締切延長): who, when, why.
    A deadline is only ever moved later; the called leads are told."""

    inquiry = models.ForeignKey(
        Inquiry, on_delete=models.CASCADE, related_name="deadline_extensions"
    )
    previous_deadline = models.DateTimeField()
    new_deadline = models.DateTimeField()
    reason = models.TextField(_("reason"))
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(new_deadline__gt=models.F("previous_deadline")),
                name="deadline_extension_is_later",
            )
        ]

    def __str__(self):
        return f"{self.inquiry_id}: {self.previous_deadline} → {self.new_deadline}"


class EarlyClose(models.Model):
    """The application window closed before its deadline (締切前の受付終了): because every
    called lead had applied or declined, or by the steering committee's decision (with its
    votes). The prices open only once the leads' notification is written (`leads_told_at`)."""

    class Basis(models.TextChoices):
        ALL_ANSWERED = "all_answered", _("Every called lead company answered")
        COMMITTEE = "committee", _("Steering committee decision")

    inquiry = models.OneToOneField(Inquiry, on_delete=models.CASCADE, related_name="early_close")
    basis = models.CharField(max_length=20, choices=Basis.choices)
    reason = models.TextField(_("reason"))
    scheduled_deadline = models.DateTimeField()
    votes_for = models.PositiveSmallIntegerField(null=True, blank=True)
    votes_against = models.PositiveSmallIntegerField(null=True, blank=True)
    votes_abstained = models.PositiveSmallIntegerField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(auto_now_add=True)
    leads_told_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.inquiry_id}: {self.basis}"


# ---------------------------------------------------------------------------------------
# The lead company's project (issue 5, part 1: the team and its contracts)


class ProjectStatus(models.TextChoices):
    FORMING = "forming", _("Forming the team")
    IN_PROGRESS = "in_progress", _("In progress")
    DELIVERED = "delivered", pgettext_lazy("project status", "Delivered")
    ACCEPTED = "accepted", _("Accepted by the buyer")
    CANCELLED = "cancelled", _("Cancelled")


P = ProjectStatus
PROJECT_TRANSITIONS = {
    # The member (or the lead, for its own package) starts the first package.
    P.FORMING: {P.IN_PROGRESS},
    # What was shipped to the buyer and not claimed back covers the order.
    P.IN_PROGRESS: {P.DELIVERED},
    # A claim takes it below the order again / the buyer's acceptance (検収) covers the
    # order: `project.accepted`, settled in the month's closing.
    P.DELIVERED: {P.IN_PROGRESS, P.ACCEPTED},
    P.ACCEPTED: set(),
    # No service cancels a project yet; the status is kept for the record's sake.
    P.CANCELLED: set(),
}


class Project(models.Model):
    """A project (プロジェクト): the awarded lead company, as contractor (請負元), runs the
    order with a team of joint-order members. Small orders the lead does alone are projects
    too: they count in the order record."""

    TRANSITIONS = PROJECT_TRANSITIONS

    inquiry = models.OneToOneField(Inquiry, on_delete=models.PROTECT, related_name="project")
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="projects")
    lead = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="led_projects")
    status = models.CharField(
        _("status"), max_length=20, choices=ProjectStatus.choices, default="forming"
    )
    order_value_yen = models.PositiveBigIntegerField(
        _("order value (yen, excl. tax)"), validators=[MinValueValidator(1)]
    )
    delivery_date = models.DateField(_("delivery date"))
    # Payment terms agreed with the buyer, e.g. month-end close, paid at the end of the next
    # month (月末締め翌月末払い): closing day 31 = month end, 1 month later, day 31.
    payment_closing_day = models.PositiveSmallIntegerField(_("closing day"), default=31)
    payment_month_offset = models.PositiveSmallIntegerField(_("months to payment"), default=1)
    payment_day = models.PositiveSmallIntegerField(_("payment day"), default=31)
    # What members see of the order: leads and members also compete outside the network.
    share_buyer_identity = models.BooleanField(_("show the buyer to the team"), default=False)
    share_order_value = models.BooleanField(_("show the order value to the team"), default=False)
    invitation_hours = models.PositiveSmallIntegerField(
        _("hours a member has to answer an invitation"), default=72
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    # When the buyer's acceptance (検収) covered the order: the project can be settled.
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("project")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(payment_closing_day__gte=1, payment_closing_day__lte=31)
                & Q(payment_day__gte=1, payment_day__lte=31)
                & Q(payment_month_offset__lte=6),
                name="project_payment_terms_valid",
            ),
        ]

    def __str__(self):
        return f"{self.inquiry.reference} ({self.lead})"


class PackageStatus(models.TextChoices):
    OPEN = "open", _("Looking for a member")
    AWAITING_AGREEMENT = "awaiting_agreement", _("Member found, agreement to accept")
    READY = "ready", _("Agreement accepted, ready to start")
    IN_PROGRESS = "in_progress", _("In progress")
    SHIPPED = "shipped", _("Shipped to the lead, awaiting inspection")
    INSPECTED = "inspected", _("Partly accepted by the lead, rest to deliver")
    RETURNED = "returned", _("Returned for rework")
    ACCEPTED = "accepted", _("Accepted by the lead")
    CANCELLED = "cancelled", _("Cancelled by the lead")


W = PackageStatus
# Where the lead's inspection of a delivery leaves the package.
_INSPECTED_TO = {W.ACCEPTED, W.RETURNED, W.SHIPPED, W.INSPECTED, W.IN_PROGRESS}
PACKAGE_TRANSITIONS = {
    # A member accepts an invitation (the first wins; the other open invitations are
    # withdrawn) / the lead does it itself / the lead cancels it, with a reason.
    W.OPEN: {W.AWAITING_AGREEMENT, W.READY, W.CANCELLED},
    # Lead and member have both accepted every agreement between them.
    W.AWAITING_AGREEMENT: {W.READY},
    # The member starts, after confirming every work standard.
    W.READY: {W.IN_PROGRESS},
    # The member delivers to the lead (again while a lot awaits inspection: no move).
    W.IN_PROGRESS: {W.SHIPPED},
    # The lead's inspection: nothing passed, all still owed / part passed, rest owed /
    # rejects sent back for rework / everything needed passed.
    W.SHIPPED: _INSPECTED_TO - {W.SHIPPED},
    # The member delivers the rest.
    W.INSPECTED: {W.SHIPPED},
    # The rework is delivered; a lot delivered before the rejected one is still inspected.
    W.RETURNED: _INSPECTED_TO - {W.RETURNED},
    # A buyer's claim traced to the package: the claimed items are owed again.
    W.ACCEPTED: {W.RETURNED},
    W.CANCELLED: set(),
}


# Packages whose work is still owed to the lead (late warnings look at these).
PACKAGE_OPEN_WORK = (
    "awaiting_agreement",
    "ready",
    "in_progress",
    "shipped",
    "inspected",
    "returned",
)


class WorkPackage(models.Model):
    """A work package (作業分担): one process step of a project, taken by one joint-order
    member (or the lead itself), with its quantity, unit price and due date to the lead."""

    TRANSITIONS = PACKAGE_TRANSITIONS

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="packages")
    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="+")
    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    unit_price_yen = models.PositiveBigIntegerField(
        _("unit price (yen, excl. tax)"), validators=[MinValueValidator(1)]
    )
    due_date = models.DateField(_("due date to the lead"))
    packaging = models.TextField(_("packaging"), blank=True)
    inspection_criteria = models.TextField(_("inspection criteria"), blank=True)
    member = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.PROTECT, related_name="packages"
    )
    self_performed = models.BooleanField(_("done by the lead itself"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=PackageStatus.choices, default="open"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When the lead's inspections had passed the whole quantity (on-time rate).
    completed_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(_("why the lead cancelled it"), blank=True)
    # The late-warning job marks what it has warned of, so it never warns twice.
    due_soon_warned_on = models.DateField(null=True, blank=True)
    late_warned_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("work package")
        ordering = ["project", "due_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1) & Q(unit_price_yen__gte=1),
                name="package_quantity_and_price_positive",
            ),
            models.CheckConstraint(
                condition=Q(status__in=("open", "cancelled")) | Q(member__isnull=False),
                name="package_taken_has_member",
            ),
        ]

    def __str__(self):
        return f"{self.project.inquiry.reference}: {self.process} × {self.quantity}"

    @property
    def amount_yen(self) -> int:
        return self.quantity * self.unit_price_yen


class InvitationStatus(models.TextChoices):
    INVITED = "invited", _("Invited")
    ACCEPTED = "accepted", pgettext_lazy("invitation status", "Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("No answer in time")
    WITHDRAWN = "withdrawn", _("Withdrawn (taken by another member)")
    CANCELLED = "cancelled", _("Withdrawn by the lead")


INVITATION_TRANSITIONS = {
    # The member accepts (the first takes the package) or declines with a reason / the
    # scheduled job expires it / another member took the package, or the lead does it
    # itself / the lead takes it back, with a reason.
    InvitationStatus.INVITED: {
        InvitationStatus.ACCEPTED,
        InvitationStatus.DECLINED,
        InvitationStatus.EXPIRED,
        InvitationStatus.WITHDRAWN,
        InvitationStatus.CANCELLED,
    },
    InvitationStatus.ACCEPTED: set(),
    InvitationStatus.DECLINED: set(),
    InvitationStatus.EXPIRED: set(),
    InvitationStatus.WITHDRAWN: set(),
    InvitationStatus.CANCELLED: set(),
}


class Invitation(models.Model):
    """An invitation (参加依頼) of a joint-order member to take a work package. A package may
    be offered to several members at once; the first to accept takes it."""

    TRANSITIONS = INVITATION_TRANSITIONS

    package = models.ForeignKey(WorkPackage, on_delete=models.CASCADE, related_name="invitations")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="invitations")
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.INVITED
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    invited_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["-invited_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["package", "company"],
                condition=Q(status="invited"),
                name="one_open_invitation_per_member",
            ),
            models.UniqueConstraint(
                fields=["package"],
                condition=Q(status="accepted"),
                name="one_accepted_invitation_per_package",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(status="invited"), name="invitation_open_expiry"
            )
        ]

    def __str__(self):
        return f"{self.package} → {self.company}"


class AgreementKind(models.TextChoices):
    BASIC = "basic", _("Basic agreement (基本合意書)")
    NDA = "nda", _("Non-disclosure agreement (秘密保持契約)")


class ContractTemplate(models.Model):
    """A network's standard contract text, edited by its secretariat. The body is a Django
    template; see orders.projects.AGREEMENT_CONTEXT for the names it may use."""

    network = models.ForeignKey(
        Network, on_delete=models.CASCADE, related_name="contract_templates"
    )
    kind = models.CharField(max_length=10, choices=AgreementKind.choices)
    body = models.TextField(_("text"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "kind"], name="one_template_per_kind")
        ]

    def __str__(self):
        return f"{self.network}: {self.get_kind_display()}"


class Agreement(models.Model):
    """A contract between the lead and one member for a project (基本合意書, and the NDA where
    the inquiry asked for one), generated from the network's template and accepted
    electronically by each party. Work starts only after both sides accepted."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="agreements")
    member = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="agreements")
    kind = models.CharField(max_length=10, choices=AgreementKind.choices)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    lead_accepted_at = models.DateTimeField(null=True, blank=True)
    lead_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    member_accepted_at = models.DateTimeField(null=True, blank=True)
    member_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["project", "member", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "member", "kind"], name="one_agreement_per_kind"
            )
        ]

    def __str__(self):
        return f"{self.project} / {self.member}: {self.get_kind_display()}"

    @property
    def is_accepted(self) -> bool:
        return self.lead_accepted_at is not None and self.member_accepted_at is not None


# ---------------------------------------------------------------------------------------
# Execution (issue 5, part 2): work standards, deliveries to the lead and their inspection,
# shipments to the buyer, the buyer's acceptance and claims, defect charges.


class WorkStandard(models.Model):
    """A technique standard (作業標準) a package must follow: a document or photo with a
    note. The member confirms it has read it before starting."""

    package = models.ForeignKey(WorkPackage, on_delete=models.CASCADE, related_name="standards")
    title = models.CharField(_("title"), max_length=200)
    note = models.TextField(_("note"), blank=True)
    file = models.FileField(upload_to="standards/%Y/%m/", blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    attached_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["package", "attached_at", "id"]

    def __str__(self):
        return self.title


class Delivery(models.Model):
    """A delivery (納品) of finished work from the member to the lead. Several per package
    (partial deliveries, rework); each is inspected once by the lead."""

    package = models.ForeignKey(WorkPackage, on_delete=models.PROTECT, related_name="deliveries")
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    is_rework = models.BooleanField(_("reworked items"), default=False)
    note = models.TextField(_("note"), blank=True)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    shipped_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("delivery to the lead")
        ordering = ["package", "shipped_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="delivery_quantity_positive")
        ]

    def __str__(self):
        return f"{self.package} ← {self.quantity}"


class Disposition(models.TextChoices):
    REWORK = "rework", _("Return for rework")
    CHARGE = "charge", _("Scrap and charge the member")


class Inspection(models.Model):
    """The lead's inspection (検品) of one delivery: what arrived, how it was sampled (ISO
    2859-1 or every item), what passed, and what was rejected and why."""

    class Result(models.TextChoices):
        PASSED = "passed", _("Passed")
        PARTLY = "partly", _("Partly rejected")
        REJECTED = "rejected", _("Rejected")

    delivery = models.OneToOneField(Delivery, on_delete=models.PROTECT, related_name="inspection")
    quantity_received = models.PositiveIntegerField(_("quantity received"))
    # ISO 2859-1 single sampling, normal inspection; blank = every item inspected.
    inspection_level = models.CharField(_("inspection level"), max_length=4, blank=True)
    aql = models.DecimalField(_("AQL (%)"), max_digits=6, decimal_places=3, null=True, blank=True)
    sample_size = models.PositiveIntegerField(_("sample size"), null=True, blank=True)
    accept_number = models.PositiveIntegerField(null=True, blank=True)
    reject_number = models.PositiveIntegerField(null=True, blank=True)
    defects_found = models.PositiveIntegerField(_("nonconforming items found"), default=0)
    quantity_passed = models.PositiveIntegerField(_("quantity passed"))
    quantity_rejected = models.PositiveIntegerField(_("quantity rejected"))
    result = models.CharField(max_length=10, choices=Result.choices)
    defect_reason = models.TextField(_("defect reason"), blank=True)
    disposition = models.CharField(
        _("rejected items"), max_length=10, choices=Disposition.choices, blank=True
    )
    inspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    inspected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("inspection")
        ordering = ["inspected_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    quantity_received=models.F("quantity_passed") + models.F("quantity_rejected")
                ),
                name="inspection_quantities_add_up",
            ),
            models.CheckConstraint(
                condition=Q(quantity_rejected=0) | ~Q(disposition=""),
                name="inspection_rejected_has_disposition",
            ),
        ]

    def __str__(self):
        return f"{self.delivery}: {self.get_result_display()}"


class Shipment(models.Model):
    """A shipment (出荷) of finished goods from the lead to the buyer; partial deliveries
    allowed. The buyer accepts it (検収) or raises claims on it."""

    class Status(models.TextChoices):
        SHIPPED = "shipped", _("Shipped")
        ACCEPTED = "accepted", _("Accepted by the buyer")

    TRANSITIONS = {
        # The buyer accepts (検収) what it did not claim.
        Status.SHIPPED: {Status.ACCEPTED},
        Status.ACCEPTED: set(),
    }

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="shipments")
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    packaging = models.TextField(_("packaging"), blank=True)
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SHIPPED)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    shipped_at = models.DateTimeField(auto_now_add=True)
    accepted_quantity = models.PositiveIntegerField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("shipment to the buyer")
        ordering = ["project", "shipped_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="shipment_quantity_positive"),
            models.CheckConstraint(
                condition=Q(accepted_quantity__isnull=True)
                | Q(accepted_quantity__lte=models.F("quantity")),
                name="shipment_accepted_within_shipped",
            ),
        ]

    def __str__(self):
        return f"{self.project} → {self.quantity}"


class Claim(models.Model):
    """A buyer's claim (クレーム) on delivered goods. The lead traces it to the package (and
    so the member) responsible; a charge to that member may follow."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("claim status", "Open")
        TRACED = "traced", _("Traced to a package")
        RESOLVED = "resolved", _("Resolved")

    TRANSITIONS = {
        # The lead traces it to the package (and member) responsible, maybe with a charge.
        Status.OPEN: {Status.TRACED},
        # The lead says how it was settled with the buyer.
        Status.TRACED: {Status.RESOLVED},
        Status.RESOLVED: set(),
    }

    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="claims")
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    description = models.TextField(_("what is wrong"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    package = models.ForeignKey(
        WorkPackage, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    traced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    traced_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("claim")
        ordering = ["raised_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="claim_quantity_positive"),
            models.CheckConstraint(
                condition=Q(status="open") | Q(package__isnull=False),
                name="claim_traced_has_package",
            ),
        ]

    def __str__(self):
        return f"{self.shipment}: {self.quantity}"


class EvidencePhoto(models.Model):
    """A photo of defects, on an inspection or a claim."""

    inspection = models.ForeignKey(
        Inspection, null=True, blank=True, on_delete=models.CASCADE, related_name="photos"
    )
    claim = models.ForeignKey(
        Claim, null=True, blank=True, on_delete=models.CASCADE, related_name="photos"
    )
    file = models.FileField(upload_to="evidence/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(inspection__isnull=False, claim__isnull=True)
                | Q(inspection__isnull=True, claim__isnull=False),
                name="photo_on_one_record",
            )
        ]

    def __str__(self):
        return self.original_name


class MemberCharge(models.Model):
    """An amount charged to the member responsible (defects and lateness towards the lead
    are the member's responsibility): for items scrapped at the lead's inspection, for a
    buyer's claim traced to its package, or an agreed penalty for lateness. Deducted in the
    member's statement to the lead."""

    class Kind(models.TextChoices):
        INSPECTION = "inspection", _("Rejected at inspection")
        CLAIM = "claim", _("Buyer's claim")
        LATE = "late", _("Late delivery penalty")

    package = models.ForeignKey(WorkPackage, on_delete=models.PROTECT, related_name="charges")
    member = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="charges")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    inspection = models.OneToOneField(
        Inspection, null=True, blank=True, on_delete=models.PROTECT, related_name="charge"
    )
    claim = models.OneToOneField(
        Claim, null=True, blank=True, on_delete=models.PROTECT, related_name="charge"
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=0)
    amount_yen = models.PositiveBigIntegerField(
        _("amount charged (yen, excl. tax)"), validators=[MinValueValidator(1)]
    )
    reason = models.TextField(_("reason"))
    charged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    charged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("charge to a member")
        ordering = ["charged_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_yen__gte=1), name="charge_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind="inspection", inspection__isnull=False, claim__isnull=True)
                | Q(kind="claim", inspection__isnull=True, claim__isnull=False)
                | Q(kind="late", inspection__isnull=True, claim__isnull=True),
                name="charge_source_matches_kind",
            ),
        ]

    def __str__(self):
        return f"{self.member}: ¥{self.amount_yen:,}"


# For the OpenAPI enum name (drf-spectacular imports choices by module path).
ChargeKind = MemberCharge.Kind


class GuestInquiryRequest(models.Model):
    """A guest's inquiry request (ゲストのお問い合わせ): the form of a visitor without an
    account, kept until the visitor confirms it by the e-mailed link; confirming creates the
    inquiry (once). The row is also the confirmation e-mail's outbox: `email_status` is
    pending until the task, or the relay job after a broker outage, has sent it, and is
    checked under a row lock so the e-mail goes out once. The hourly limit per visitor's
    address and per e-mail address is counted on these rows."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        CONFIRMED = "confirmed", pgettext_lazy("guest request", "Confirmed")

    class EmailStatus(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    TRANSITIONS = {Status.PENDING: {Status.CONFIRMED}, Status.CONFIRMED: set()}

    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="+")
    email = models.EmailField(_("e-mail"))  # lower-cased: the per-address limit counts it
    ip_address = models.GenericIPAddressField(_("visitor's address"), null=True, blank=True)
    # The inquiry and buyer fields as the form cleaned them (ids for material and processes).
    payload = models.JSONField()
    language = models.CharField(max_length=8, default="ja")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    inquiry = models.OneToOneField(
        "Inquiry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="guest_request",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(
        max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    email_attempts = models.PositiveSmallIntegerField(default=0)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("guest inquiry request")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending", inquiry__isnull=True)
                | Q(status="confirmed", inquiry__isnull=False),
                name="guest_request_confirmed_has_inquiry",
            )
        ]
        indexes = [
            models.Index(fields=["network", "ip_address", "created_at"]),
            models.Index(fields=["network", "email", "created_at"]),
            models.Index(
                fields=["created_at"],
                condition=Q(email_status="pending"),
                name="guest_request_pending_email",
            ),
        ]

    def __str__(self):
        return f"{self.reference} <{self.email}>"

    @property
    def reference(self) -> str:
        """G-2026-000123: the year it was sent and its number, quoted in the e-mail."""
        from django.utils import timezone

        year = timezone.localtime(self.created_at).year if self.created_at else 0
        return f"G-{year}-{self.pk or 0:06d}"
