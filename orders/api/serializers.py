from rest_framework import serializers

from members import selectors as member_selectors
from members.api.serializers import ScopedPrimaryKeyRelatedField
from members.models import Material, Network, Process
from members.permissions import roles_of
from orders import selectors
from orders.models import (
    INQUIRY_SPEC_FIELDS,
    Application,
    Award,
    AwardMode,
    Inquiry,
    InquiryAttachment,
)


class BuyerInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["company", "individual"])
    name = serializers.CharField(max_length=200)
    organisation = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField()
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)


class InquiryInputSerializer(serializers.ModelSerializer):
    network = serializers.PrimaryKeyRelatedField(queryset=Network.objects.filter(is_active=True))
    material = serializers.SlugRelatedField(
        slug_field="code", queryset=Material.objects.filter(is_active=True)
    )
    processes = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Process.objects.filter(is_active=True)
    )
    buyer = BuyerInputSerializer(
        required=False, help_text="Secretariat only: the buyer of an inquiry taken by phone."
    )

    class Meta:
        model = Inquiry
        fields = ["network", *INQUIRY_SPEC_FIELDS, "buyer"]


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = InquiryAttachment
        fields = ["id", "original_name", "content_type", "size", "uploaded_at"]


class AttachmentInputSerializer(serializers.Serializer):
    file = serializers.FileField()


class AwardSerializer(serializers.ModelSerializer):
    company_name = serializers.CharField(source="company.legal_name", read_only=True)
    price_yen = serializers.IntegerField(source="application.price_yen", read_only=True)
    lead_time_days = serializers.IntegerField(source="application.lead_time_days", read_only=True)

    class Meta:
        model = Award
        fields = [
            "company",
            "company_name",
            "mode",
            "status",
            "reason",
            "price_yen",
            "lead_time_days",
            "score_breakdown",
            "proposed_at",
            "confirmed_at",
        ]


class StageSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    network = serializers.IntegerField(source="network_id")
    network_name = serializers.CharField(source="network.name")
    processes = serializers.SerializerMethodField()
    inquiry = serializers.IntegerField(source="inquiry_id")
    reference = serializers.CharField(source="inquiry.reference")
    status = serializers.CharField(source="inquiry.status")
    lead_company = serializers.SerializerMethodField()

    def get_processes(self, stage) -> list[str]:
        return [p.code for p in stage.processes.all()]

    def get_lead_company(self, stage) -> str | None:
        award = getattr(stage.inquiry, "award", None)
        return award.company.legal_name if award and award.status == "confirmed" else None


class StageInputSerializer(serializers.Serializer):
    network = serializers.PrimaryKeyRelatedField(queryset=Network.objects.filter(is_active=True))
    processes = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Process.objects.filter(is_active=True)
    )


class SplitSerializer(serializers.Serializer):
    stages = StageInputSerializer(many=True)


class InquirySerializer(serializers.ModelSerializer):
    material = serializers.SlugRelatedField(slug_field="code", read_only=True)
    processes = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    buyer_name = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True, read_only=True)
    award = serializers.SerializerMethodField()
    stages = StageSerializer(many=True, read_only=True)

    class Meta:
        model = Inquiry
        fields = [
            "id",
            "reference",
            "network",
            "status",
            "title",
            "description",
            "material",
            "processes",
            "finish_kind",
            "finish_grit",
            "finish_ra_input",
            "required_ra_um",
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
            "buyer_name",
            "submitted_at",
            "published_at",
            "application_deadline",
            "award_mode",
            "applications_opened_at",
            "outcome_reason",
            "closed_at",
            "attachments",
            "award",
            "stages",
        ]
        read_only_fields = fields

    def _viewer(self):
        return self.context["request"].user

    def _is_staff_or_buyer(self, inquiry) -> bool:
        viewer = self._viewer()
        return roles_of(viewer).is_staff_of(inquiry.network_id) or (
            inquiry.buyer.user_id == viewer.pk
        )

    def get_buyer_name(self, inquiry) -> str | None:
        # Leads compete outside the network too: the buyer is named to them only once awarded
        # to them.
        viewer = self._viewer()
        award = getattr(inquiry, "award", None)
        won = (
            award is not None
            and award.status == "confirmed"
            and roles_of(viewer).acts_for(award.company_id)
        )
        return str(inquiry.buyer) if self._is_staff_or_buyer(inquiry) or won else None

    def get_award(self, inquiry) -> dict | None:
        award = getattr(inquiry, "award", None)
        if award is None:
            return None
        viewer = self._viewer()
        roles = roles_of(viewer)
        if roles.is_staff_of(inquiry.network_id):
            return AwardSerializer(award).data
        if award.status != "confirmed":
            return None
        data = AwardSerializer(award).data
        data.pop("score_breakdown")
        if inquiry.buyer.user_id == viewer.pk or roles.acts_for(award.company_id):
            return data
        return {"company": data["company"], "company_name": data["company_name"]}


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class QuestionSerializer(serializers.Serializer):
    question = serializers.CharField()


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField()


class PublishSerializer(serializers.Serializer):
    deadline = serializers.DateTimeField(required=False)
    award_mode = serializers.ChoiceField(choices=AwardMode.choices, required=False)


class DeadlineSerializer(serializers.Serializer):
    deadline = serializers.DateTimeField()


class ReferSerializer(serializers.Serializer):
    reason = serializers.CharField()
    category = serializers.ChoiceField(
        choices=["process", "location", "deadline", "capacity", "no_applicant", "secretariat"],
        default="secretariat",
    )


class CommitteeDecisionSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    votes_for = serializers.IntegerField(min_value=0)
    votes_against = serializers.IntegerField(min_value=0)
    votes_abstained = serializers.IntegerField(min_value=0, default=0)
    reason = serializers.CharField()
    deadline = serializers.DateTimeField(required=False)
    award_mode = serializers.ChoiceField(choices=AwardMode.choices, required=False)


class ChooseSerializer(serializers.Serializer):
    application = serializers.IntegerField()
    reason = serializers.CharField()


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    status = serializers.CharField(allow_blank=True)
    text = serializers.CharField(allow_blank=True)
    actor = serializers.CharField(allow_null=True)


class ApplicationSerializer(serializers.ModelSerializer):
    inquiry = serializers.PrimaryKeyRelatedField(read_only=True)
    company_name = serializers.CharField(source="company.legal_name", read_only=True)
    proposed_team = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    price_yen = serializers.SerializerMethodField()

    class Meta:
        model = Application
        fields = [
            "id",
            "inquiry",
            "company",
            "company_name",
            "status",
            "price_yen",
            "lead_time_days",
            "proposed_team",
            "notes",
            "revision",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_price_yen(self, application) -> int | None:
        """Sealed (null) until the applications are opened, except to the applicant."""
        viewer = self.context["request"].user
        if selectors.can_see_price(viewer=viewer, application=application):
            return application.price_yen
        return None


class ApplicationInputSerializer(serializers.Serializer):
    inquiry = serializers.IntegerField()
    price_yen = serializers.IntegerField(min_value=1)
    lead_time_days = serializers.IntegerField(min_value=1, max_value=3650)
    proposed_team = ScopedPrimaryKeyRelatedField(
        member_selectors.company_list, many=True, required=False
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class ApplicationReviseSerializer(serializers.Serializer):
    price_yen = serializers.IntegerField(min_value=1, required=False)
    lead_time_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)
    proposed_team = ScopedPrimaryKeyRelatedField(
        member_selectors.company_list, many=True, required=False
    )
    notes = serializers.CharField(required=False, allow_blank=True)


class MatchSerializer(serializers.Serializer):
    company_id = serializers.IntegerField()
    company_name = serializers.CharField()
    membership_class = serializers.CharField()
    process_code = serializers.CharField()
    is_candidate = serializers.BooleanField()
    checks = serializers.DictField(child=serializers.BooleanField())
    reasons_out = serializers.ListField(child=serializers.CharField())
    distance_km = serializers.FloatField(allow_null=True)
    spare_capacity_per_month = serializers.IntegerField()
    lead_time_days = serializers.IntegerField()


class MatchesSerializer(serializers.Serializer):
    matches = MatchSerializer(many=True)
    uncovered_processes = serializers.ListField(child=serializers.CharField())
