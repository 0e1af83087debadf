"""Referral (紹介): what the network cannot serve goes to a non-member or a partner network.

One `Referral` per referred inquiry; one `ReferralOffer` per ranked candidate. Offers go out
one at a time: a decline or no answer within the network's time limit moves the referral to
the next candidate, until one accepts or the list is exhausted.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models import Company, Network
from orders.models import Inquiry

from .notifications import EmailStatus


class ReferralCategory(models.TextChoices):
    """Why the network refers the inquiry (shown to the buyer, counted in the record)."""

    PROCESS = "process", _("A process no member covers")
    LOCATION = "location", _("The location")
    DEADLINE = "deadline", _("The deadline")
    CAPACITY = "capacity", _("No spare capacity")
    NO_APPLICANT = "no_applicant", _("No lead company applied")
    SECRETARIAT = "secretariat", _("Other (secretariat's judgement)")


class ReferralStatus(models.TextChoices):
    SEARCHING = "searching", _("Searching for candidates")
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("Waiting for the secretariat to send")
    OFFERED = "offered", _("Offered to a candidate")
    ACCEPTED = "accepted", _("Accepted")
    EXHAUSTED = "exhausted", _("No candidate left: the secretariat must act")


R = ReferralStatus
REFERRAL_TRANSITIONS = {
    R.SEARCHING: {R.AWAITING_CONFIRMATION, R.OFFERED, R.EXHAUSTED},
    R.AWAITING_CONFIRMATION: {R.OFFERED},
    R.OFFERED: {R.ACCEPTED, R.EXHAUSTED},
    # The secretariat adds a candidate by hand (then confirms), or sends one directly.
    R.EXHAUSTED: {R.AWAITING_CONFIRMATION, R.OFFERED},
    R.ACCEPTED: set(),
}


class Referral(models.Model):
    """The referral (紹介) of one inquiry the network's members cannot serve."""

    TRANSITIONS = REFERRAL_TRANSITIONS

    inquiry = models.OneToOneField(Inquiry, on_delete=models.PROTECT, related_name="referral")
    category = models.CharField(
        _("why it is referred"), max_length=20, choices=ReferralCategory.choices
    )
    reason = models.TextField(_("reason given to the buyer"))
    status = models.CharField(
        _("status"), max_length=30, choices=ReferralStatus.choices, default=R.SEARCHING
    )
    # The buyer's identity and the confidential description go to a target only when the
    # inquiry needs no NDA or the buyer agreed.
    buyer_agreed_to_share = models.BooleanField(
        _("the buyer agreed to share its identity and the details"), default=False
    )
    # The processes no member covered when the referral opened (the partner networks' part).
    missing_process_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    exhausted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self):
        return f"{self.inquiry.reference} ({self.get_status_display()})"

    @property
    def shares_confidential(self) -> bool:
        return not self.inquiry.nda_required or self.buyer_agreed_to_share


class OfferStatus(models.TextChoices):
    PENDING = "pending", _("Waiting its turn")
    OFFERED = "offered", _("Offered, waiting for the answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("No answer in time")


O = OfferStatus  # noqa: E741
OFFER_TRANSITIONS = {
    O.PENDING: {O.OFFERED},
    O.OFFERED: {O.ACCEPTED, O.DECLINED, O.EXPIRED},
    O.ACCEPTED: set(),
    O.DECLINED: set(),
    O.EXPIRED: set(),
}


class ReferralOffer(models.Model):
    """One candidate of a referral: a consenting non-member company of the network's
    directory, or a partner network (連携ネットワーク), ranked with the reasons it was chosen."""

    TRANSITIONS = OFFER_TRANSITIONS

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="offers")
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.PROTECT, related_name="referral_offers"
    )
    partner_network = models.ForeignKey(
        Network, null=True, blank=True, on_delete=models.PROTECT, related_name="referral_offers"
    )
    rank = models.PositiveSmallIntegerField(_("rank"))
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1, default=0)
    # Codes of why the candidate was chosen (see brokerage.referral.REASON_LABELS).
    reasons = models.JSONField(default=list, blank=True)
    distance_km = models.FloatField(_("distance (km)"), null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OfferStatus.choices, default=O.PENDING
    )
    offered_at = models.DateTimeField(_("offered at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("answer due by"), null=True, blank=True)
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Fixed when offered: whether this target received the buyer's identity and the details.
    confidential_shared = models.BooleanField(default=False)
    # The e-mail with the signed response link (written with the offer, sent after commit).
    email_status = models.CharField(
        max_length=10, choices=EmailStatus.choices, default=EmailStatus.SKIPPED
    )
    email_attempts = models.PositiveSmallIntegerField(default=0)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("referral offer")
        verbose_name_plural = _("referral offers")
        ordering = ["referral", "rank", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(company__isnull=False, partner_network__isnull=True)
                | Q(company__isnull=True, partner_network__isnull=False),
                name="referral_offer_one_target",
            ),
            models.UniqueConstraint(
                fields=["referral", "company"],
                condition=Q(company__isnull=False),
                name="one_offer_per_company",
            ),
            models.UniqueConstraint(
                fields=["referral", "partner_network"],
                condition=Q(partner_network__isnull=False),
                name="one_offer_per_partner_network",
            ),
            # Offers go out one at a time.
            models.UniqueConstraint(
                fields=["referral"], condition=Q(status="offered"), name="one_open_offer"
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(status="offered"), name="offer_open_expiry"
            ),
            models.Index(
                fields=["offered_at"],
                condition=Q(email_status="pending"),
                name="offer_pending_email",
            ),
        ]

    def __str__(self):
        return f"{self.referral.inquiry.reference} → {self.target_name}"

    @property
    def target_name(self) -> str:
        if self.company_id:
            return self.company.legal_name
        return self.partner_network.name if self.partner_network_id else ""

    @property
    def target_email(self) -> str:
        if self.company_id:
            return self.company.email
        return self.partner_network.contact_email if self.partner_network_id else ""

    @property
    def is_partner(self) -> bool:
        return self.partner_network_id is not None
