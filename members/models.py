from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .prefectures import PREFECTURE_CHOICES
from .validators import (
    validate_corporate_number,
    validate_invoice_registration_number,
    validate_postal_code,
)


class User(AbstractUser):
    """A person who signs in: secretariat staff, a committee member, a company user or a buyer.

    What a user may do follows from `company` (a company user acts for one company) and from
    `NetworkStaff` rows (secretariat or steering committee of a network).
    """

    company = models.ForeignKey(
        "members.Company",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name=_("company"),
    )
    preferred_language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="ja"
    )

    def __str__(self):
        full = f"{self.last_name} {self.first_name}".strip()
        return full or self.username


class Network(models.Model):
    """A network (ネットワーク) of companies taking orders together: the tenant.

    Its rules (award modes, fees, commission, appointment quorum) live here so that a second
    network can run the platform differently, as Adock Kobe does from the Migakiya Syndicate.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    secretariat_name = models.CharField(
        _("secretariat"), max_length=200, blank=True, help_text=_("e.g. 燕商工会議所")
    )
    prefecture = models.CharField(
        _("prefecture"), max_length=2, choices=PREFECTURE_CHOICES, blank=True
    )
    description = models.TextField(_("description"), blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    partners = models.ManyToManyField(
        "self", symmetrical=True, blank=True, verbose_name=_("partner networks")
    )

    # Rules.
    award_by_bid = models.BooleanField(_("award by bid (入札)"), default=True)
    award_by_coordination = models.BooleanField(_("award by coordination (調整)"), default=True)
    application_window_days = models.PositiveSmallIntegerField(
        _("application window (days)"), default=7
    )
    bid_rule = models.CharField(
        _("bid rule"),
        max_length=20,
        choices=[
            ("lowest_price", _("Lowest price")),
            ("weighted", _("Weighted score")),
        ],
        default="weighted",
    )
    # Weights of the weighted bid score, in points (they need not add up to 100).
    weight_price = models.PositiveSmallIntegerField(_("weight: price"), default=60)
    weight_lead_time = models.PositiveSmallIntegerField(_("weight: lead time"), default=20)
    weight_track_record = models.PositiveSmallIntegerField(_("weight: track record"), default=10)
    weight_fairness = models.PositiveSmallIntegerField(
        _("weight: fairness (rotates work among leads)"), default=10
    )
    applications_opened_by_committee = models.BooleanField(
        _("applications are opened together by the committee"), default=False
    )
    # Referral and service level (no inquiry ends in silence).
    referral_auto_send = models.BooleanField(
        _("send referrals to the best candidate without the secretariat's confirmation"),
        default=False,
    )
    referral_response_hours = models.PositiveSmallIntegerField(
        _("hours a referral target has to answer before the next one is asked"), default=48
    )
    sla_working_days = models.PositiveSmallIntegerField(
        _("working days from inquiry to outcome (award, referral or reasoned answer)"),
        default=10,
    )
    sla_warning_working_days = models.PositiveSmallIntegerField(
        _("warn the secretariat this many working days before the limit"), default=2
    )
    lead_recommendations_required = models.PositiveSmallIntegerField(
        _("recommendations needed for a lead appointment"), default=2
    )
    commission_basis_points = models.PositiveIntegerField(
        _("commission on sales (1/100 %)"),
        default=0,
        help_text=_("100 = 1%. Taken during a member's first months, see below."),
    )
    commission_months = models.PositiveSmallIntegerField(
        _("commission period (months from joining)"), default=0
    )
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        _("fiscal year starts in month"), default=4
    )
    prorate_fees = models.BooleanField(_("prorate fees for members joining mid-year"), default=True)
    # Pay-when-paid (our design): the lead pays its team within N days of collecting from the
    # buyer. Blank: the statement's own due date (the project's payment terms) applies.
    pay_team_within_days = models.PositiveSmallIntegerField(
        _("lead pays its team within (days of collecting from the buyer)"),
        null=True,
        blank=True,
    )
    # The network issues commissions (taxable) itself; a secretariat registered as a qualified
    # invoice issuer (an association without legal personality may register) sets its number.
    invoice_registration_number = models.CharField(
        _("invoice registration number"),
        max_length=14,
        blank=True,
        validators=[validate_invoice_registration_number],
        help_text=_("T + 13 digits (適格請求書発行事業者登録番号)."),
    )

    # Safety (issue 13). The guest inquiry form sends an e-mail to an address a stranger
    # types: at most this many per hour per visitor's address and per e-mail address.
    guest_inquiries_per_hour = models.PositiveSmallIntegerField(
        _("guest inquiries per hour (per address and per e-mail)"), default=5
    )
    # Two-factor sign-in (TOTP) for the people who can open sealed prices and move money.
    # A call published with a deadline minutes away would let a lead warned in advance be the
    # only one to answer: the window at publication is at least this long.
    min_application_window_hours = models.PositiveSmallIntegerField(
        _("shortest application window at publication (hours)"), default=24
    )
    two_factor_required_for_staff = models.BooleanField(
        _("require two-factor sign-in for the secretariat and the steering committee"),
        default=False,
    )

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("network")
        verbose_name_plural = _("networks")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(award_by_bid=True) | Q(award_by_coordination=True),
                name="network_has_an_award_mode",
                violation_error_message=_("A network needs at least one award mode."),
            ),
            models.CheckConstraint(
                condition=Q(fiscal_year_start_month__gte=1, fiscal_year_start_month__lte=12),
                name="network_fiscal_month_valid",
            ),
            models.CheckConstraint(
                condition=Q(commission_basis_points__lte=10000),
                name="network_commission_at_most_100pct",
            ),
        ]

    def __str__(self):
        return self.name


class MembershipClass(models.TextChoices):
    LEAD = "lead", _("Lead company (受注幹事企業)")
    JOINT_ORDER = "joint_order", _("Joint-order member (共同受注部会員)")
    SUPPORTING = "supporting", _("Supporting member (賛助会員)")
    SKILL_DIVISION = "skill_division", _("Skill division member (技能士部会員)")


class MembershipFee(models.Model):
    """The annual fee (年会費) of one membership class in one network's fee table."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="fees")
    membership_class = models.CharField(
        _("membership class"), max_length=20, choices=MembershipClass.choices
    )
    annual_fee_yen = models.PositiveIntegerField(_("annual fee (yen)"))

    class Meta:
        verbose_name = _("membership fee")
        constraints = [
            models.UniqueConstraint(
                fields=["network", "membership_class"], name="one_fee_per_class"
            )
        ]

    def __str__(self):
        return f"{self.network} {self.get_membership_class_display()} ¥{self.annual_fee_yen:,}"


class StaffRole(models.TextChoices):
    SECRETARIAT = "secretariat", _("Secretariat (事務局)")
    COMMITTEE = "committee", _("Steering committee (運営委員会)")


class NetworkStaff(models.Model):
    """A user's seat in a network's secretariat (事務局) or steering committee (運営委員会)."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="network_seats"
    )
    role = models.CharField(_("role"), max_length=20, choices=StaffRole.choices)
    position = models.CharField(
        _("position"), max_length=100, blank=True, help_text=_("e.g. 委員長 (chairman)")
    )

    class Meta:
        verbose_name = _("network staff")
        verbose_name_plural = _("network staff")
        constraints = [
            models.UniqueConstraint(fields=["network", "user", "role"], name="one_seat_per_role")
        ]

    def __str__(self):
        return f"{self.user} – {self.get_role_display()} ({self.network})"


class TaxRounding(models.TextChoices):
    """How a company rounds consumption tax on the invoices it issues (端数処理). The values
    are billing.tax.RoundingMode's (billing depends on members, not the other way)."""

    DOWN = "down", _("Round down (切り捨て)")
    HALF_UP = "half_up", _("Round half up (四捨五入)")
    UP = "up", _("Round up (切り上げ)")


class Company(models.Model):
    """A company (企業): a member of one or more networks, or a non-member in a directory."""

    legal_name = models.CharField(_("legal name"), max_length=200)
    legal_name_kana = models.CharField(_("reading (kana)"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    corporate_number = models.CharField(
        _("corporate number"),
        max_length=13,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_corporate_number],
        help_text=_("13 digits (法人番号). Sole proprietors have none."),
    )
    invoice_registration_number = models.CharField(
        _("invoice registration number"),
        max_length=14,
        blank=True,
        validators=[validate_invoice_registration_number],
        help_text=_("T + 13 digits (適格請求書発行事業者登録番号)."),
    )
    tax_rounding = models.CharField(
        _("tax rounding on its invoices"),
        max_length=10,
        choices=TaxRounding.choices,
        default=TaxRounding.DOWN,
    )
    postal_code = models.CharField(
        _("postal code"), max_length=8, blank=True, validators=[validate_postal_code]
    )
    prefecture = models.CharField(_("prefecture"), max_length=2, choices=PREFECTURE_CHOICES)
    city = models.CharField(_("city"), max_length=100)
    address_line = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    capital_yen = models.PositiveBigIntegerField(_("capital (yen)"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    # The network whose secretariat entered the company: its staff see it before it joins
    # or is listed in the directory.
    registered_by_network = models.ForeignKey(
        Network, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["legal_name_kana", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="company_coordinates_valid",
            ),
        ]
        indexes = [models.Index(fields=["prefecture", "city"])]

    def __str__(self):
        return self.legal_name

    @property
    def has_invoice_registration(self) -> bool:
        return bool(self.invoice_registration_number)


class CompanyContact(models.Model):
    """A person to contact at a company (担当者)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("contact")
        ordering = ["id"]

    def __str__(self):
        return self.name


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    ENDED = "ended", _("Ended")


class Membership(models.Model):
    """A membership (会員資格): one company in one network in one class, with its fee."""

    TRANSITIONS = {
        MembershipStatus.ACTIVE: {MembershipStatus.SUSPENDED, MembershipStatus.ENDED},
        MembershipStatus.SUSPENDED: {MembershipStatus.ACTIVE, MembershipStatus.ENDED},
        MembershipStatus.ENDED: set(),
    }

    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="memberships")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="memberships")
    membership_class = models.CharField(
        _("membership class"), max_length=20, choices=MembershipClass.choices
    )
    status = models.CharField(
        _("status"), max_length=20, choices=MembershipStatus.choices, default="active"
    )
    joined_on = models.DateField(_("joined on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    # Copied from the fee table when the membership starts: a later change of the table does
    # not rewrite what a member agreed to.
    annual_fee_yen = models.PositiveIntegerField(_("annual fee (yen)"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        ordering = ["network", "membership_class", "company__legal_name_kana"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "company", "membership_class"],
                condition=~Q(status="ended"),
                name="one_open_membership_per_class",
                violation_error_message=_("This company already has this membership."),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("joined_on")),
                name="membership_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["network", "status", "membership_class"])]

    def __str__(self):
        return f"{self.company} – {self.get_membership_class_display()} ({self.network})"

    @property
    def can_join_project_team(self) -> bool:
        return self.status == MembershipStatus.ACTIVE and self.membership_class in (
            MembershipClass.JOINT_ORDER,
            MembershipClass.LEAD,
        )


class AppointmentStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting recommendations and decision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class LeadAppointment(models.Model):
    """A lead-company appointment (受注幹事企業の承認).

    Several member companies recommend the candidate; the steering committee then approves
    or rejects it, with date, votes and reason. Only an approval makes a lead company.
    """

    TRANSITIONS = {
        AppointmentStatus.PENDING: {
            AppointmentStatus.APPROVED,
            AppointmentStatus.REJECTED,
            AppointmentStatus.WITHDRAWN,
        },
        AppointmentStatus.APPROVED: set(),
        AppointmentStatus.REJECTED: set(),
        AppointmentStatus.WITHDRAWN: set(),
    }

    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="appointments")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="lead_appointments")
    status = models.CharField(
        _("status"), max_length=20, choices=AppointmentStatus.choices, default="pending"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    statement = models.TextField(_("why this company should lead"), blank=True)
    # The committee's decision.
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    votes_for = models.PositiveSmallIntegerField(_("votes for"), null=True, blank=True)
    votes_against = models.PositiveSmallIntegerField(_("votes against"), null=True, blank=True)
    votes_abstained = models.PositiveSmallIntegerField(_("abstentions"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("lead appointment")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "company"],
                condition=Q(status="pending"),
                name="one_pending_appointment_per_company",
                violation_error_message=_("This company already has a pending appointment."),
            ),
        ]

    def __str__(self):
        return f"{self.company} → {self.network} ({self.get_status_display()})"


class Recommendation(models.Model):
    """A member company's recommendation (推薦) of a lead-company candidate."""

    appointment = models.ForeignKey(
        LeadAppointment, on_delete=models.CASCADE, related_name="recommendations"
    )
    recommender = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="recommendations_given"
    )
    recommended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("recommendation")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "recommender"],
                name="one_recommendation_per_company",
                violation_error_message=_("This company has already recommended the candidate."),
            )
        ]

    def __str__(self):
        return f"{self.recommender} → {self.appointment.company}"


class ProcessCategory(models.TextChoices):
    POLISHING = "polishing", _("Polishing (研磨)")
    SURFACE = "surface", _("Surface treatment (表面処理)")
    FORMING = "forming", _("Forming (成形)")
    MACHINING = "machining", _("Machining (機械加工)")
    OTHER = "other", _("Other")


class Process(models.Model):
    """A process (加工) in the catalogue, e.g. buff polishing (バフ研磨)."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_ja = models.CharField(_("name (Japanese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    category = models.CharField(
        _("category"), max_length=20, choices=ProcessCategory.choices, default="polishing"
    )
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        verbose_name = _("process")
        verbose_name_plural = _("processes")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return f"{self.name_ja} / {self.name_en}"


class Material(models.Model):
    """A material (材質) in the catalogue, e.g. stainless steel (ステンレス)."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_ja = models.CharField(_("name (Japanese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        verbose_name = _("material")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return f"{self.name_ja} / {self.name_en}"


class FinishKind(models.TextChoices):
    GRIT = "grit", _("Grit number (番手)")
    MIRROR = "mirror", _("Mirror (鏡面)")
    RA = "ra", _("Roughness Ra (µm)")


class Capability(models.Model):
    """A capability (対応可能加工): one company's process on one material, with its limits.

    `finish_ra_um` is the finest reachable finish expressed as roughness Ra whatever the
    company entered (grit, mirror or Ra), so matching compares one number.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="capabilities")
    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="capabilities")
    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="capabilities")
    max_length_mm = models.PositiveIntegerField(
        _("max. length (mm)"), validators=[MinValueValidator(1)]
    )
    max_width_mm = models.PositiveIntegerField(
        _("max. width (mm)"), validators=[MinValueValidator(1)]
    )
    max_height_mm = models.PositiveIntegerField(
        _("max. height (mm)"), validators=[MinValueValidator(1)]
    )
    max_weight_kg = models.DecimalField(
        _("max. weight (kg)"),
        max_digits=9,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    finish_kind = models.CharField(_("finish"), max_length=10, choices=FinishKind.choices)
    finish_grit = models.PositiveIntegerField(_("grit (#)"), null=True, blank=True)
    finish_ra_input = models.DecimalField(
        _("Ra (µm)"), max_digits=6, decimal_places=3, null=True, blank=True
    )
    finish_ra_um = models.DecimalField(
        _("finest finish as Ra (µm)"), max_digits=6, decimal_places=3, editable=False
    )
    lot_min = models.PositiveIntegerField(
        _("min. lot"), default=1, validators=[MinValueValidator(1)]
    )
    lot_max = models.PositiveIntegerField(_("max. lot"), validators=[MinValueValidator(1)])
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"))
    spare_capacity_per_month = models.PositiveIntegerField(
        _("spare capacity (pieces / month)"), default=0
    )
    capacity_updated_at = models.DateTimeField(_("capacity updated"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("capability")
        verbose_name_plural = _("capabilities")
        ordering = ["company", "process__sort_order", "material__sort_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "process", "material"],
                name="one_capability_per_process_material",
                violation_error_message=_(
                    "This company already has a capability for this process and material."
                ),
            ),
            models.CheckConstraint(
                condition=Q(max_length_mm__gt=0, max_width_mm__gt=0, max_height_mm__gt=0),
                name="capability_sizes_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_weight_kg__gt=0), name="capability_weight_positive"
            ),
            models.CheckConstraint(
                condition=Q(lot_min__gte=1) & Q(lot_max__gte=F("lot_min")),
                name="capability_lot_range_valid",
            ),
            models.CheckConstraint(
                condition=Q(finish_ra_um__gt=0), name="capability_finish_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["process", "material"], name="capability_process_material"),
        ]

    def __str__(self):
        return f"{self.company}: {self.process.name_ja} × {self.material.name_ja}"


class CertifiedWorker(models.Model):
    """A worker certified by the national skill test (技能検定), e.g. 金属研磨仕上げ 1級."""

    class Grade(models.TextChoices):
        SPECIAL = "special", _("Special grade (特級)")
        FIRST = "1", _("1st grade (1級)")
        SECOND = "2", _("2nd grade (2級)")
        THIRD = "3", _("3rd grade (3級)")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="certified_workers")
    name = models.CharField(_("name"), max_length=100)
    trade = models.CharField(_("trade"), max_length=100, default="金属研磨仕上げ")
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices)
    certified_on = models.DateField(_("certified on"), null=True, blank=True)

    class Meta:
        verbose_name = _("certified worker")
        ordering = ["grade", "name"]

    def __str__(self):
        return f"{self.name} ({self.trade} {self.get_grade_display()})"


class Equipment(models.Model):
    """A machine or line a company works with (設備), e.g. an automatic buffing machine."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="equipment")
    name = models.CharField(_("name"), max_length=200)
    quantity = models.PositiveSmallIntegerField(_("quantity"), default=1)
    notes = models.CharField(_("notes"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        ordering = ["name"]

    def __str__(self):
        return self.name


class DirectoryEntry(models.Model):
    """A non-member company (非会員) in a network's referral directory.

    The secretariat refers inquiries the members cannot serve to these companies, and only
    to those that consented.
    """

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="directory")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="directory_entries")
    consents_to_referrals = models.BooleanField(_("consents to referrals"), default=False)
    consent_recorded_on = models.DateField(_("consent recorded on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("directory entry")
        verbose_name_plural = _("non-member directory")
        ordering = ["company__legal_name_kana"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "company"],
                name="one_directory_entry_per_network",
                violation_error_message=_("This company is already in the directory."),
            ),
        ]

    def __str__(self):
        return f"{self.company} (directory of {self.network})"


class Buyer(models.Model):
    """A buyer (発注者): a company or, more and more often, an individual (repairs)."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        INDIVIDUAL = "individual", _("Individual")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="buyer",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    prefecture = models.CharField(
        _("prefecture"), max_length=2, choices=PREFECTURE_CHOICES, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("buyer")
        ordering = ["name"]

    def __str__(self):
        return self.organisation or self.name


# ---------------------------------------------------------------------------------------
# Probation (改善期間): a member whose record falls below the network's thresholds takes only
# small packages until it recovers. The rule and the record live here so that orders can
# check an invitation without importing brokerage; brokerage.probation opens and lifts them.


class ProbationRule(models.Model):
    """A network's probation rule (改善期間の基準): thresholds on the members' scorecards,
    over the packages due in the last `window_months`, and the limit while on probation."""

    network = models.OneToOneField(Network, on_delete=models.CASCADE, related_name="probation_rule")
    is_active = models.BooleanField(_("review members daily against this rule"), default=True)
    min_on_time_rate_pct = models.PositiveSmallIntegerField(
        _("on-time rate below (%)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text=_("Blank: the on-time rate does not count."),
    )
    max_defect_rate_pct = models.DecimalField(
        _("defect rate above (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("Blank: the defect rate does not count."),
    )
    min_completed_packages = models.PositiveSmallIntegerField(
        _("only with at least this many completed packages"),
        default=5,
        validators=[MinValueValidator(1)],
    )
    window_months = models.PositiveSmallIntegerField(
        _("judged over the packages due in the last (months)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    max_package_value_yen = models.PositiveBigIntegerField(
        _("largest package while on probation (yen, excl. tax)"),
        validators=[MinValueValidator(1)],
    )
    minimum_months = models.PositiveSmallIntegerField(
        _("probation lasts at least (months)"),
        default=3,
        validators=[MaxValueValidator(24)],
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("probation rule")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_on_time_rate_pct__isnull=False)
                | Q(max_defect_rate_pct__isnull=False),
                name="probation_rule_has_a_threshold",
                violation_error_message=_("Set an on-time rate, a defect rate or both."),
            ),
            models.CheckConstraint(
                condition=Q(min_on_time_rate_pct__isnull=True) | Q(min_on_time_rate_pct__lte=100),
                name="probation_rule_on_time_pct_valid",
            ),
        ]

    def __str__(self):
        return f"{self.network}: {self.get_thresholds_display()}"

    @property
    def max_defect_rate_text(self) -> str:
        """2.50 → "2.5", 10.00 → "10" (for people)."""
        if self.max_defect_rate_pct is None:
            return ""
        return f"{Decimal(self.max_defect_rate_pct).normalize():f}"

    def get_thresholds_display(self) -> str:
        parts = []
        if self.min_on_time_rate_pct is not None:
            parts.append(f"on time < {self.min_on_time_rate_pct}%")
        if self.max_defect_rate_pct is not None:
            parts.append(f"defects > {self.max_defect_rate_text}%")
        return " or ".join(parts)


class ProbationQuerySet(models.QuerySet):
    def open(self):
        """Probations not lifted yet."""
        return self.filter(lifted_at__isnull=True)

    def open_for(self, *, network_id: int, company_id: int):
        return self.open().filter(
            membership__network_id=network_id, membership__company_id=company_id
        )


class Probation(models.Model):
    """A member's probation (改善期間) in one network: opened by the daily review when its
    scorecard is beyond the network's rule, with the figures as the reason. While open, a
    lead cannot invite the member to a package worth more than `max_package_value_yen`.
    Lifted by the review once the figures recover (not before `until`) or by the secretariat
    with a reason."""

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="probations")
    reason = models.TextField(_("reason"))
    # The scorecard figures that opened it (brokerage.record.Scorecard.figures()).
    figures = models.JSONField(default=dict, blank=True)
    max_package_value_yen = models.PositiveBigIntegerField(
        _("largest package (yen, excl. tax)"), validators=[MinValueValidator(1)]
    )
    since = models.DateTimeField(_("since"))
    until = models.DateField(_("reviewed again from"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lift_reason = models.TextField(_("why it was lifted"), blank=True)
    lift_figures = models.JSONField(default=dict, blank=True)

    objects = ProbationQuerySet.as_manager()

    class Meta:
        verbose_name = _("probation")
        ordering = ["-since", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership"],
                condition=Q(lifted_at__isnull=True),
                name="one_open_probation_per_membership",
            ),
        ]

    def __str__(self):
        return f"{self.membership.company} ({self.membership.network})"

    @property
    def is_open(self) -> bool:
        return self.lifted_at is None


class PasswordResetRequest(models.Model):
    """A request to reset a password (パスワード再設定の依頼), written for every address a
    visitor types, known or not, so both answers cost the same. The hourly limits per
    visitor's address and per e-mail address count these rows; the `user.password_reset`
    event that points here is turned into the e-mail by the brokerage dispatcher, which looks
    the address up. The reset link (token) is made when the e-mail is sent and stored nowhere.
    """

    email = models.EmailField(_("e-mail"))  # lower-cased: the per-address limit counts it
    ip_address = models.GenericIPAddressField(_("visitor's address"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("password reset request")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["email", "created_at"]),
            models.Index(fields=["ip_address", "created_at"]),
        ]

    def __str__(self):
        return f"{self.email} {self.created_at:%Y-%m-%d %H:%M}"
