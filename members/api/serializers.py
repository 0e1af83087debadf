from django.contrib.auth.models import AnonymousUser
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from members import selectors
from members.models import (
    Capability,
    CertifiedWorker,
    Company,
    CompanyContact,
    DirectoryEntry,
    Equipment,
    LeadAppointment,
    Material,
    Membership,
    MembershipFee,
    Network,
    Process,
    Recommendation,
)


@extend_schema_field(OpenApiTypes.INT)
class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related id that must be visible to the caller: another tenant's id is 'not found'."""

    def __init__(self, selector, **kwargs):
        self.selector = selector
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        # Without a request (schema generation) nothing is visible.
        return self.selector(viewer=request.user if request else AnonymousUser())


class FeeSerializer(serializers.ModelSerializer):
    class Meta:
        model = MembershipFee
        fields = ["membership_class", "annual_fee_yen"]


class NetworkSerializer(serializers.ModelSerializer):
    fees = FeeSerializer(many=True, read_only=True)
    partners = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Network
        fields = [
            "id",
            "name",
            "name_en",
            "slug",
            "secretariat_name",
            "prefecture",
            "description",
            "contact_email",
            "is_active",
            "partners",
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
            "fees",
        ]
        read_only_fields = ["id", "slug", "is_active", "partners", "fees"]


class ProcessSerializer(serializers.ModelSerializer):
    class Meta:
        model = Process
        fields = ["id", "code", "name_ja", "name_en", "category", "description"]


class MaterialSerializer(serializers.ModelSerializer):
    class Meta:
        model = Material
        fields = ["id", "code", "name_ja", "name_en"]


class CapabilitySerializer(serializers.ModelSerializer):
    company = ScopedPrimaryKeyRelatedField(selectors.company_list)
    process = serializers.SlugRelatedField(
        slug_field="code", queryset=Process.objects.filter(is_active=True)
    )
    material = serializers.SlugRelatedField(
        slug_field="code", queryset=Material.objects.filter(is_active=True)
    )
    process_name = serializers.CharField(source="process.name_ja", read_only=True)
    material_name = serializers.CharField(source="material.name_ja", read_only=True)

    class Meta:
        model = Capability
        fields = [
            "id",
            "company",
            "process",
            "process_name",
            "material",
            "material_name",
            "max_length_mm",
            "max_width_mm",
            "max_height_mm",
            "max_weight_kg",
            "finish_kind",
            "finish_grit",
            "finish_ra_input",
            "finish_ra_um",
            "lot_min",
            "lot_max",
            "lead_time_days",
            "spare_capacity_per_month",
            "capacity_updated_at",
            "notes",
        ]
        read_only_fields = ["id", "finish_ra_um", "capacity_updated_at"]
        # The service checks the uniqueness and answers 409; no double check here.
        validators = []


class CapabilityUpdateSerializer(CapabilitySerializer):
    class Meta(CapabilitySerializer.Meta):
        read_only_fields = [*CapabilitySerializer.Meta.read_only_fields, "company"]


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = CompanyContact
        fields = ["name", "title", "email", "phone"]


class CertifiedWorkerSerializer(serializers.ModelSerializer):
    class Meta:
        model = CertifiedWorker
        fields = ["name", "trade", "grade", "certified_on"]


class EquipmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Equipment
        fields = ["name", "quantity", "notes"]


class CompanyMembershipSerializer(serializers.ModelSerializer):
    network_name = serializers.CharField(source="network.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["network", "network_name", "membership_class", "status", "joined_on"]


class CompanySerializer(serializers.ModelSerializer):
    contacts = ContactSerializer(many=True, read_only=True)
    certified_workers = CertifiedWorkerSerializer(many=True, read_only=True)
    equipment = EquipmentSerializer(many=True, read_only=True)
    memberships = CompanyMembershipSerializer(many=True, read_only=True)
    capabilities = serializers.SerializerMethodField()
    has_invoice_registration = serializers.BooleanField(read_only=True)

    class Meta:
        model = Company
        fields = [
            "id",
            "legal_name",
            "legal_name_kana",
            "name_en",
            "corporate_number",
            "invoice_registration_number",
            "has_invoice_registration",
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
            "contacts",
            "certified_workers",
            "equipment",
            "memberships",
            "capabilities",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]
        # Format and uniqueness are checked once, by the model inside the service, after
        # full-width input is normalised (a uniqueness check here would see the raw input).
        extra_kwargs = {
            "corporate_number": {"validators": []},
            "invoice_registration_number": {"validators": []},
            "postal_code": {"validators": []},
        }

    def get_capabilities(self, company) -> list[dict]:
        return [
            {
                "id": c.id,
                "process": c.process.code,
                "material": c.material.code,
                "finish_ra_um": str(c.finish_ra_um),
                "spare_capacity_per_month": c.spare_capacity_per_month,
            }
            for c in company.capabilities.all()
        ]


class CertificationSerializer(serializers.ModelSerializer):
    """A certified worker's qualification without the person's name."""

    grade_display = serializers.CharField(source="get_grade_display", read_only=True)

    class Meta:
        model = CertifiedWorker
        fields = ["trade", "grade", "grade_display", "certified_on"]
        read_only_fields = fields


class CompanyPublicSerializer(serializers.ModelSerializer):
    """A member company as a buyer, a partner or any outsider sees it: what choosing needs
    (name, region, networks, processes, certifications), never contacts or spare capacity.
    Chosen by `members.selectors.sees_member_details`."""

    memberships = CompanyMembershipSerializer(many=True, read_only=True)
    capabilities = serializers.SerializerMethodField()
    certifications = CertificationSerializer(source="certified_workers", many=True, read_only=True)

    class Meta:
        model = Company
        fields = [
            "id",
            "legal_name",
            "legal_name_kana",
            "name_en",
            "prefecture",
            "city",
            "memberships",
            "capabilities",
            "certifications",
        ]
        read_only_fields = fields

    def get_capabilities(self, company) -> list[dict]:
        return [
            {
                "id": c.id,
                "process": c.process.code,
                "material": c.material.code,
                "finish_ra_um": str(c.finish_ra_um),
            }
            for c in company.capabilities.all()
        ]


class CapabilityPublicSerializer(CapabilitySerializer):
    """A capability without spare capacity, its update time or notes (see
    CompanyPublicSerializer)."""

    class Meta(CapabilitySerializer.Meta):
        fields = [
            f
            for f in CapabilitySerializer.Meta.fields
            if f not in ("spare_capacity_per_month", "capacity_updated_at", "notes")
        ]
        read_only_fields = fields


class MembershipSerializer(serializers.ModelSerializer):
    network = ScopedPrimaryKeyRelatedField(selectors.network_list)
    company = ScopedPrimaryKeyRelatedField(selectors.company_list)
    company_name = serializers.CharField(source="company.legal_name", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "network",
            "company",
            "company_name",
            "membership_class",
            "status",
            "joined_on",
            "ended_on",
            "annual_fee_yen",
        ]
        read_only_fields = ["id", "status", "ended_on", "annual_fee_yen"]
        validators = []
        extra_kwargs = {"joined_on": {"required": False}}


class MembershipPublicSerializer(MembershipSerializer):
    """A membership as buyers and outsiders see it: who belongs, in which class, since when;
    not the fee the company pays."""

    class Meta(MembershipSerializer.Meta):
        fields = [f for f in MembershipSerializer.Meta.fields if f != "annual_fee_yen"]
        read_only_fields = fields


class StatusChangeInputSerializer(serializers.Serializer):
    reason = serializers.CharField()
    on = serializers.DateField(required=False)


class RecommendationSerializer(serializers.ModelSerializer):
    recommender_name = serializers.CharField(source="recommender.legal_name", read_only=True)

    class Meta:
        model = Recommendation
        fields = ["id", "recommender", "recommender_name", "comment", "created_at"]
        read_only_fields = fields


class AppointmentSerializer(serializers.ModelSerializer):
    network = ScopedPrimaryKeyRelatedField(selectors.network_list)
    company = ScopedPrimaryKeyRelatedField(selectors.company_list)
    company_name = serializers.CharField(source="company.legal_name", read_only=True)
    recommendations = RecommendationSerializer(many=True, read_only=True)

    class Meta:
        model = LeadAppointment
        fields = [
            "id",
            "network",
            "company",
            "company_name",
            "status",
            "statement",
            "opened_at",
            "recommendations",
            "decided_on",
            "votes_for",
            "votes_against",
            "votes_abstained",
            "decision_reason",
        ]
        read_only_fields = [
            "id",
            "status",
            "opened_at",
            "recommendations",
            "decided_on",
            "votes_for",
            "votes_against",
            "votes_abstained",
            "decision_reason",
        ]
        validators = []


class RecommendInputSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class DecisionInputSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    decided_on = serializers.DateField()
    votes_for = serializers.IntegerField(min_value=0)
    votes_against = serializers.IntegerField(min_value=0)
    votes_abstained = serializers.IntegerField(min_value=0, default=0)
    reason = serializers.CharField()


class WithdrawInputSerializer(serializers.Serializer):
    reason = serializers.CharField()


class DirectoryEntrySerializer(serializers.ModelSerializer):
    network = ScopedPrimaryKeyRelatedField(selectors.network_list)
    company = ScopedPrimaryKeyRelatedField(selectors.company_list)
    company_name = serializers.CharField(source="company.legal_name", read_only=True)
    prefecture = serializers.CharField(source="company.prefecture", read_only=True)
    city = serializers.CharField(source="company.city", read_only=True)

    class Meta:
        model = DirectoryEntry
        fields = [
            "id",
            "network",
            "company",
            "company_name",
            "prefecture",
            "city",
            "consents_to_referrals",
            "consent_recorded_on",
            "notes",
        ]
        read_only_fields = ["id"]
        validators = []


class FeeInputSerializer(FeeSerializer):
    class Meta(FeeSerializer.Meta):
        validators = []


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    company = serializers.IntegerField(source="company_id", allow_null=True)
    preferred_language = serializers.CharField()
    secretariat_of = serializers.ListField(child=serializers.IntegerField())
    committee_of = serializers.ListField(child=serializers.IntegerField())
    is_buyer = serializers.BooleanField()
