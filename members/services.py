"""Writes on the member side. Each service is one transaction, checks who may act, and raises
a BrokerageError (or Django's ValidationError for a field's format) on a broken rule."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import BrokerageError, Conflict, InvalidTransition, NotAllowed
from core.transitions import record_creation, transition

from .locks import lock_one
from .models import (
    AppointmentStatus,
    Capability,
    Company,
    DirectoryEntry,
    FinishKind,
    LeadAppointment,
    Material,
    Membership,
    MembershipClass,
    MembershipFee,
    MembershipStatus,
    Network,
    Process,
    Recommendation,
)
from .permissions import roles_of
from .validators import normalize_code

# ---------------------------------------------------------------------------------------
# Networks


NETWORK_RULE_FIELDS = frozenset(
    {
        "name",
        "name_en",
        "secretariat_name",
        "prefecture",
        "description",
        "contact_email",
        "award_by_bid",
        "award_by_coordination",
        "application_window_days",
        "bid_rule",
        "weight_price",
        "weight_lead_time",
        "weight_track_record",
        "weight_fairness",
        "applications_opened_by_committee",
        "referral_auto_send",
        "referral_response_hours",
        "sla_working_days",
        "sla_warning_working_days",
        "lead_recommendations_required",
        "commission_basis_points",
        "commission_months",
        "fiscal_year_start_month",
        "prorate_fees",
        "pay_team_within_days",
        "invoice_registration_number",
        "guest_inquiries_per_hour",
        "min_application_window_hours",
        "two_factor_required_for_staff",
    }
)


def network_update(*, actor, network: Network, data: dict) -> Network:
    """Change a network's description or rules. Secretariat of the network only."""
    if not roles_of(actor).is_secretariat(network.pk):
        raise NotAllowed(_("Only the network's secretariat may change its rules."))
    unknown = set(data) - NETWORK_RULE_FIELDS
    if unknown:
        raise BrokerageError(_("Unknown field."), field=sorted(unknown)[0])
    with transaction.atomic():
        network = lock_one(Network, network.pk)
        for field, value in data.items():
            setattr(network, field, value)
        network.full_clean()
        network.save(update_fields=[*data.keys()])
    return network


def network_set_fee(
    *, actor, network: Network, membership_class: str, annual_fee_yen: int
) -> MembershipFee:
    """Set one line of the fee table. Existing memberships keep the fee they joined with."""
    if not roles_of(actor).is_secretariat(network.pk):
        raise NotAllowed(_("Only the network's secretariat may change its fee table."))
    if membership_class not in MembershipClass.values:
        raise BrokerageError(_("Unknown membership class."), field="membership_class")
    if annual_fee_yen < 0:
        raise BrokerageError(_("A fee cannot be negative."), field="annual_fee_yen")
    with transaction.atomic():
        fee, _created = MembershipFee.objects.update_or_create(
            network=network,
            membership_class=membership_class,
            defaults={"annual_fee_yen": annual_fee_yen},
        )
    return fee


# ---------------------------------------------------------------------------------------
# Companies


COMPANY_FIELDS = frozenset(
    {
        "legal_name",
        "legal_name_kana",
        "name_en",
        "corporate_number",
        "invoice_registration_number",
        "postal_code",
        "prefecture",
        "city",
        "address_line",
        "latitude",
        "longitude",
        "phone",
        "email",
        "website",
        "employees",
        "capital_yen",
        "description",
    }
)


def _normalize_company_data(data: dict) -> dict:
    data = dict(data)
    for code_field in ("corporate_number", "invoice_registration_number", "postal_code"):
        if code_field in data and data[code_field] is not None:
            data[code_field] = normalize_code(data[code_field])
    if data.get("corporate_number") == "":
        data["corporate_number"] = None  # unique and optional: blank must be NULL
    if data.get("postal_code") and len(data["postal_code"]) == 7:
        data["postal_code"] = f"{data['postal_code'][:3]}-{data['postal_code'][3:]}"
    return data


def _check_registration_matches_corporate_number(company: Company) -> None:
    # A corporation's registration number is T + its corporate number; anything else is a typo.
    if (
        company.corporate_number
        and company.invoice_registration_number
        and company.invoice_registration_number[1:] != company.corporate_number
    ):
        raise ValidationError(
            {
                "invoice_registration_number": _(
                    "For a corporation the registration number is T followed by its "
                    "corporate number (%(expected)s)."
                )
                % {"expected": f"T{company.corporate_number}"}
            }
        )


def may_edit_company(actor, company: Company) -> bool:
    roles = roles_of(actor)
    if roles.is_platform_admin or roles.acts_for(company.pk):
        return True
    network_ids = set(company.memberships.values_list("network_id", flat=True)) | set(
        company.directory_entries.values_list("network_id", flat=True)
    )
    return any(roles.is_secretariat(n) for n in network_ids)


def company_create(*, actor, data: dict, network: Network | None = None) -> Company:
    """Register a company (a future member or a directory entry). Secretariat staff only.

    `network` is the registering secretariat's network; it may be left out when the actor
    serves one network only.
    """
    roles = roles_of(actor)
    if not roles.is_any_secretariat:
        raise NotAllowed(_("Only a secretariat may register companies."))
    if network is None and len(roles.secretariat_network_ids) == 1:
        network = Network.objects.get(pk=next(iter(roles.secretariat_network_ids)))
    if network is not None and not roles.is_secretariat(network.pk):
        raise NotAllowed(_("You are not in this network's secretariat."))
    unknown = set(data) - COMPANY_FIELDS
    if unknown:
        raise BrokerageError(_("Unknown field."), field=sorted(unknown)[0])
    company = Company(**_normalize_company_data(data), registered_by_network=network)
    company.full_clean()
    _check_registration_matches_corporate_number(company)
    with transaction.atomic():
        company.save()
    return company


def company_update(*, actor, company: Company, data: dict) -> Company:
    """Change a company's profile: its own users, or the secretariat of one of its networks."""
    if not may_edit_company(actor, company):
        raise NotAllowed(_("You may edit only your own company."))
    unknown = set(data) - COMPANY_FIELDS
    if unknown:
        raise BrokerageError(_("Unknown field."), field=sorted(unknown)[0])
    with transaction.atomic():
        company = lock_one(Company, company.pk)
        for field, value in _normalize_company_data(data).items():
            setattr(company, field, value)
        company.full_clean()
        _check_registration_matches_corporate_number(company)
        company.save(update_fields=[*data.keys(), "updated_at"])
    return company


# ---------------------------------------------------------------------------------------
# Capabilities

# Typical roughness reached by a final buffing grit on stainless steel (JIS B 0601 Ra, µm).
# Matching needs one scale; a company that knows its Ra enters it directly.
GRIT_TO_RA_UM = (
    (80, Decimal("3.2")),
    (120, Decimal("1.6")),
    (180, Decimal("0.8")),
    (240, Decimal("0.6")),
    (320, Decimal("0.4")),
    (400, Decimal("0.2")),
    (600, Decimal("0.1")),
    (800, Decimal("0.08")),
    (1000, Decimal("0.05")),
    (1500, Decimal("0.04")),
)
MIRROR_RA_UM = Decimal("0.02")


def finish_as_ra(*, kind: str, grit: int | None = None, ra: Decimal | None = None) -> Decimal:
    """The finest finish of a capability as Ra (µm), from whichever way it was entered."""
    if kind == FinishKind.MIRROR:
        return MIRROR_RA_UM
    if kind == FinishKind.GRIT:
        if not grit or grit < 1:
            raise ValidationError({"finish_grit": _("Give the grit number, e.g. 400.")})
        reached = GRIT_TO_RA_UM[0][1] * 2 if grit < GRIT_TO_RA_UM[0][0] else None
        for threshold, value in GRIT_TO_RA_UM:
            if grit >= threshold:
                reached = value
        return reached
    if kind == FinishKind.RA:
        if ra is None or ra <= 0:
            raise ValidationError({"finish_ra_input": _("Give the roughness Ra in µm, above 0.")})
        return Decimal(ra)
    raise ValidationError({"finish_kind": _("Unknown finish.")})


CAPABILITY_FIELDS = frozenset(
    {
        "process",
        "material",
        "max_length_mm",
        "max_width_mm",
        "max_height_mm",
        "max_weight_kg",
        "finish_kind",
        "finish_grit",
        "finish_ra_input",
        "lot_min",
        "lot_max",
        "lead_time_days",
        "spare_capacity_per_month",
        "notes",
    }
)


def _check_capability_actor(actor, company: Company) -> None:
    if not may_edit_company(actor, company):
        raise NotAllowed(_("You may edit only your own company's capabilities."))


def _save_capability(capability: Capability, *, actor, spare_changed: bool) -> Capability:
    if capability.process_id and not capability.process.is_active:
        raise ValidationError({"process": _("This process is no longer in the catalogue.")})
    if capability.material_id and not capability.material.is_active:
        raise ValidationError({"material": _("This material is no longer in the catalogue.")})
    capability.finish_ra_um = finish_as_ra(
        kind=capability.finish_kind, grit=capability.finish_grit, ra=capability.finish_ra_input
    )
    if capability.lot_min and capability.lot_max and capability.lot_max < capability.lot_min:
        raise ValidationError({"lot_max": _("The largest lot must not be below the smallest.")})
    if spare_changed:
        capability.capacity_updated_at = timezone.now()
    capability.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            capability.save()
    except IntegrityError as exc:
        raise Conflict(
            _("This company already has a capability for this process and material."),
            field="material",
        ) from exc
    return capability


def capability_create(*, actor, company: Company, data: dict) -> Capability:
    """Add a process × material the company can do, with its limits and spare capacity."""
    _check_capability_actor(actor, company)
    unknown = set(data) - CAPABILITY_FIELDS
    if unknown:
        raise BrokerageError(_("Unknown field."), field=sorted(unknown)[0])
    if Capability.objects.filter(
        company=company, process=data.get("process"), material=data.get("material")
    ).exists():
        raise Conflict(
            _("This company already has a capability for this process and material."),
            field="material",
        )
    capability = Capability(company=company, **data)
    return _save_capability(capability, actor=actor, spare_changed=True)


def capability_update(*, actor, capability: Capability, data: dict) -> Capability:
    _check_capability_actor(actor, capability.company)
    unknown = set(data) - CAPABILITY_FIELDS
    if unknown:
        raise BrokerageError(_("Unknown field."), field=sorted(unknown)[0])
    with transaction.atomic():
        capability = lock_one(Capability, capability.pk)
        spare_changed = (
            "spare_capacity_per_month" in data
            and data["spare_capacity_per_month"] != capability.spare_capacity_per_month
        )
        for field, value in data.items():
            setattr(capability, field, value)
        return _save_capability(capability, actor=actor, spare_changed=spare_changed)


def capability_delete(*, actor, capability: Capability) -> None:
    _check_capability_actor(actor, capability.company)
    with transaction.atomic():
        capability.delete()


def process_create(*, actor, data: dict) -> Process:
    """Extend the process catalogue. Any network's secretariat may; codes are unique."""
    if not roles_of(actor).is_any_secretariat:
        raise NotAllowed(_("Only a secretariat may extend the catalogue."))
    process = Process(**data)
    process.full_clean()
    with transaction.atomic():
        process.save()
    return process


def material_create(*, actor, data: dict) -> Material:
    if not roles_of(actor).is_any_secretariat:
        raise NotAllowed(_("Only a secretariat may extend the catalogue."))
    material = Material(**data)
    material.full_clean()
    with transaction.atomic():
        material.save()
    return material


# ---------------------------------------------------------------------------------------
# Memberships


def _fee_for(network: Network, membership_class: str) -> int:
    fee = MembershipFee.objects.filter(network=network, membership_class=membership_class).first()
    if fee is None:
        raise BrokerageError(
            _("The network's fee table has no fee for this class."), field="membership_class"
        )
    return fee.annual_fee_yen


def _membership_insert(
    *, network: Network, company: Company, membership_class: str, joined_on: datetime.date
) -> Membership:
    membership = Membership(
        network=network,
        company=company,
        membership_class=membership_class,
        joined_on=joined_on,
        annual_fee_yen=_fee_for(network, membership_class),
    )
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError as exc:
        raise Conflict(
            _("This company already has this membership."), field="membership_class"
        ) from exc
    # Once a member, the company leaves the network's non-member directory.
    DirectoryEntry.objects.filter(network=network, company=company).delete()
    return membership


def membership_create(
    *,
    actor,
    network: Network,
    company: Company,
    membership_class: str,
    joined_on: datetime.date | None = None,
) -> Membership:
    """Admit a company to a network in a class. Secretariat only.

    Lead companies are made by an approved appointment, never here.
    """
    if not roles_of(actor).is_secretariat(network.pk):
        raise NotAllowed(_("Only the network's secretariat may admit members."))
    if membership_class not in MembershipClass.values:
        raise BrokerageError(_("Unknown membership class."), field="membership_class")
    if membership_class == MembershipClass.LEAD:
        raise BrokerageError(
            _("A lead company is appointed through recommendations and a committee decision."),
            field="membership_class",
        )
    with transaction.atomic():
        membership = _membership_insert(
            network=network,
            company=company,
            membership_class=membership_class,
            joined_on=joined_on or timezone.localdate(),
        )
        record_creation(membership, actor=actor)
    return membership


def membership_change_status(
    *, actor, membership: Membership, to: str, reason: str, on: datetime.date | None = None
) -> Membership:
    """Suspend, reactivate or end a membership, with a reason. Secretariat only."""
    if not roles_of(actor).is_secretariat(membership.network_id):
        raise NotAllowed(_("Only the network's secretariat may change memberships."))
    if not reason.strip():
        raise BrokerageError(_("Give a reason."), field="reason")
    with transaction.atomic():
        membership = lock_one(Membership, membership.pk)
        update_fields: tuple[str, ...] = ()
        if to == MembershipStatus.ENDED and membership.status != MembershipStatus.ENDED:
            membership.ended_on = on or timezone.localdate()
            if membership.ended_on < membership.joined_on:
                raise BrokerageError(
                    _("A membership cannot end before it started."), field="ended_on"
                )
            update_fields = ("ended_on",)
        transition(
            membership,
            to=to,
            allowed=Membership.TRANSITIONS,
            actor=actor,
            reason=reason,
            update_fields=update_fields,
        )
    return membership


# ---------------------------------------------------------------------------------------
# Lead appointments


def appointment_open(
    *, actor, network: Network, company: Company, statement: str = ""
) -> LeadAppointment:
    """Put a joint-order member forward as a lead company. Secretariat or committee."""
    roles = roles_of(actor)
    if not (roles.is_secretariat(network.pk) or roles.is_committee(network.pk)):
        raise NotAllowed(_("Only the secretariat or the committee may open an appointment."))
    with transaction.atomic():
        memberships = Membership.objects.filter(
            network=network, company=company, status=MembershipStatus.ACTIVE
        ).values_list("membership_class", flat=True)
        if MembershipClass.LEAD in memberships:
            raise Conflict(_("This company is already a lead company."), field="company")
        if MembershipClass.JOINT_ORDER not in memberships:
            raise BrokerageError(
                _("Only an active joint-order member can be appointed lead company."),
                field="company",
            )
        appointment = LeadAppointment(
            network=network, company=company, opened_by=actor, statement=statement
        )
        try:
            with transaction.atomic():
                appointment.save()
        except IntegrityError as exc:
            raise Conflict(
                _("This company already has a pending appointment."), field="company"
            ) from exc
        record_creation(appointment, actor=actor, reason=statement)
    return appointment


def appointment_recommend(
    *, actor, appointment: LeadAppointment, comment: str = ""
) -> Recommendation:
    """A member company recommends the candidate. One recommendation per company."""
    roles = roles_of(actor)
    if roles.company_id is None:
        raise NotAllowed(_("Recommendations are made by member companies."))
    if roles.company_id == appointment.company_id:
        raise BrokerageError(_("A company cannot recommend itself."), field="recommender")
    with transaction.atomic():
        appointment = lock_one(LeadAppointment, appointment.pk)
        if appointment.status != AppointmentStatus.PENDING:
            raise InvalidTransition(_("This appointment has already been decided."))
        is_member = Membership.objects.filter(
            network_id=appointment.network_id,
            company_id=roles.company_id,
            status=MembershipStatus.ACTIVE,
        ).exists()
        if not is_member:
            raise NotAllowed(
                _("Only member companies of this network may recommend a lead company.")
            )
        try:
            with transaction.atomic():
                recommendation = Recommendation.objects.create(
                    appointment=appointment,
                    recommender_id=roles.company_id,
                    recommended_by=actor,
                    comment=comment,
                )
        except IntegrityError as exc:
            raise Conflict(
                _("Your company has already recommended this candidate."), field="recommender"
            ) from exc
    return recommendation


def appointment_decide(
    *,
    actor,
    appointment: LeadAppointment,
    approve: bool,
    decided_on: datetime.date,
    votes_for: int,
    votes_against: int,
    votes_abstained: int = 0,
    reason: str,
) -> LeadAppointment:
    """Record the steering committee's decision. Committee members (or the secretariat taking
    the minutes) only. Approval needs the network's quorum of recommendations and a majority;
    it makes the company a lead company, replacing its joint-order membership."""
    roles = roles_of(actor)
    network_id = appointment.network_id
    if not (roles.is_committee(network_id) or roles.is_secretariat(network_id)):
        raise NotAllowed(_("Only the steering committee decides lead appointments."))
    if not reason.strip():
        raise BrokerageError(_("Give the reason for the decision."), field="reason")
    if min(votes_for, votes_against, votes_abstained) < 0:
        raise BrokerageError(_("Votes cannot be negative."), field="votes_for")
    if decided_on > timezone.localdate():
        raise BrokerageError(_("A decision cannot be dated in the future."), field="decided_on")
    with transaction.atomic():
        appointment = lock_one(LeadAppointment, appointment.pk)
        target = AppointmentStatus.APPROVED if approve else AppointmentStatus.REJECTED
        if appointment.status == target:
            return appointment
        if approve:
            needed = appointment.network.lead_recommendations_required
            have = appointment.recommendations.count()
            if have < needed:
                raise BrokerageError(
                    _("%(needed)d recommendations are needed; there are %(have)d.")
                    % {"needed": needed, "have": have},
                    field="approve",
                )
            if votes_for <= votes_against:
                raise BrokerageError(
                    _("An approval needs more votes for than against."), field="votes_for"
                )
        appointment.decided_on = decided_on
        appointment.decided_by = actor
        appointment.votes_for = votes_for
        appointment.votes_against = votes_against
        appointment.votes_abstained = votes_abstained
        appointment.decision_reason = reason
        transition(
            appointment,
            to=target,
            allowed=LeadAppointment.TRANSITIONS,
            actor=actor,
            reason=reason,
            update_fields=(
                "decided_on",
                "decided_by",
                "votes_for",
                "votes_against",
                "votes_abstained",
                "decision_reason",
            ),
        )
        if approve:
            joint = Membership.objects.filter(
                network_id=network_id,
                company_id=appointment.company_id,
                membership_class=MembershipClass.JOINT_ORDER,
                status__in=[MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED],
            ).first()
            if joint is not None:
                joint.ended_on = max(decided_on, joint.joined_on)
                transition(
                    joint,
                    to=MembershipStatus.ENDED,
                    allowed=Membership.TRANSITIONS,
                    actor=actor,
                    reason=_("Appointed lead company"),
                    update_fields=("ended_on",),
                )
            lead = _membership_insert(
                network=appointment.network,
                company=appointment.company,
                membership_class=MembershipClass.LEAD,
                joined_on=decided_on,
            )
            record_creation(lead, actor=actor, reason=reason)
    return appointment


def appointment_withdraw(*, actor, appointment: LeadAppointment, reason: str) -> LeadAppointment:
    roles = roles_of(actor)
    if not (roles.is_secretariat(appointment.network_id) or roles.acts_for(appointment.company_id)):
        raise NotAllowed(_("Only the secretariat or the candidate may withdraw."))
    with transaction.atomic():
        appointment = lock_one(LeadAppointment, appointment.pk)
        transition(
            appointment,
            to=AppointmentStatus.WITHDRAWN,
            allowed=LeadAppointment.TRANSITIONS,
            actor=actor,
            reason=reason,
        )
    return appointment


# ---------------------------------------------------------------------------------------
# Non-member directory


def directory_add(
    *,
    actor,
    network: Network,
    company: Company,
    consents_to_referrals: bool,
    consent_recorded_on: datetime.date | None = None,
    notes: str = "",
) -> DirectoryEntry:
    """List a non-member as a referral target. Secretariat only; members cannot be listed."""
    if not roles_of(actor).is_secretariat(network.pk):
        raise NotAllowed(_("Only the network's secretariat keeps its directory."))
    if consents_to_referrals and consent_recorded_on is None:
        consent_recorded_on = timezone.localdate()
    with transaction.atomic():
        if Membership.objects.filter(
            network=network, company=company, status=MembershipStatus.ACTIVE
        ).exists():
            raise BrokerageError(
                _("This company is a member of the network, not a non-member."), field="company"
            )
        entry = DirectoryEntry(
            network=network,
            company=company,
            consents_to_referrals=consents_to_referrals,
            consent_recorded_on=consent_recorded_on,
            notes=notes,
            added_by=actor,
        )
        try:
            with transaction.atomic():
                entry.save()
        except IntegrityError as exc:
            raise Conflict(_("This company is already in the directory."), field="company") from exc
    return entry


def directory_update(*, actor, entry: DirectoryEntry, data: dict) -> DirectoryEntry:
    if not roles_of(actor).is_secretariat(entry.network_id):
        raise NotAllowed(_("Only the network's secretariat keeps its directory."))
    allowed = {"consents_to_referrals", "consent_recorded_on", "notes"}
    unknown = set(data) - allowed
    if unknown:
        raise BrokerageError(_("Unknown field."), field=sorted(unknown)[0])
    with transaction.atomic():
        entry = lock_one(DirectoryEntry, entry.pk)
        for field, value in data.items():
            setattr(entry, field, value)
        if entry.consents_to_referrals and entry.consent_recorded_on is None:
            entry.consent_recorded_on = timezone.localdate()
        entry.save()
    return entry
