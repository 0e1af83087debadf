from functools import cache, cached_property, partial

from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

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
    AwardStatus,
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


class InquiryVisibility:
    """What one viewer may see of an inquiry's buyer and award, decided from plain values so
    the list (rows) and the detail (objects) apply the same rules. Built once per request."""

    def __init__(self, user):
        roles = roles_of(user)
        self.user_id = user.pk
        self.admin = roles.is_platform_admin
        self.staff_network_ids = roles.staff_network_ids
        self.company_id = roles.company_id

    def is_staff(self, network_id) -> bool:
        return self.admin or network_id in self.staff_network_ids

    def award_level(self, *, network_id, buyer_user_id, award_company_id, award_status):
        """How much of the award the viewer sees: "staff" all of it; "party" (the buyer, the
        winner) all but the scoring; "public" (other viewers) who won; None nothing (no
        award, or only proposed)."""
        if award_company_id is None:
            return None
        if self.is_staff(network_id):
            return "staff"
        if award_status != AwardStatus.CONFIRMED:
            return None
        if buyer_user_id == self.user_id or award_company_id == self.company_id:
            return "party"
        return "public"

    def sees_buyer(self, *, network_id, buyer_user_id, award_company_id, award_status) -> bool:
        # Leads compete outside the network too: the buyer is named to them only once awarded
        # to them.
        return (
            self.is_staff(network_id)
            or buyer_user_id == self.user_id
            or (
                self.company_id is not None
                and award_company_id == self.company_id
                and award_status == AwardStatus.CONFIRMED
            )
        )


class InquirySerializer(serializers.ModelSerializer):
    """The detail of an inquiry (and the answer of its actions)."""

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

    @cached_property
    def _visibility(self) -> InquiryVisibility:
        return InquiryVisibility(self.context["request"].user)

    def _facts(self, inquiry) -> dict:
        award = getattr(inquiry, "award", None)
        return {
            "network_id": inquiry.network_id,
            "buyer_user_id": inquiry.buyer.user_id,
            "award_company_id": award.company_id if award else None,
            "award_status": award.status if award else None,
        }

    def get_buyer_name(self, inquiry) -> str | None:
        return str(inquiry.buyer) if self._visibility.sees_buyer(**self._facts(inquiry)) else None

    def get_award(self, inquiry) -> dict | None:
        level = self._visibility.award_level(**self._facts(inquiry))
        if level is None:
            return None
        data = AwardSerializer(inquiry.award).data
        if level == "staff":
            return data
        data.pop("score_breakdown")
        if level == "party":
            return data
        return {"company": data["company"], "company_name": data["company_name"]}


class SubmittedInquirySerializer(InquirySerializer):
    """The answer to a submission (selectors.inquiry_as_submitted): the processes the inquiry
    was saved with, as the detail shows them, without reading them back."""

    processes = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True, source="submitted_processes"
    )


class AwardSummarySerializer(serializers.Serializer):
    company = serializers.IntegerField()
    company_name = serializers.CharField()
    status = serializers.ChoiceField(choices=AwardStatus.choices)


def _is_iso_datetime(convert) -> bool:
    field = getattr(convert, "__self__", None)
    return (
        type(field) is serializers.DateTimeField
        and getattr(field, "format", api_settings.DATETIME_FORMAT) == ISO_8601
        and not hasattr(field, "timezone")
    )


def _iso_datetime(value, *, zone) -> str:
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class InquiryListSerializer(serializers.ModelSerializer):
    """An inquiry in the list: the detail's own fields, material and processes as codes, the
    buyer's name where the detail shows it, and of the award only who and its status (prices
    and the scoring are in the detail). Serializes the flat rows of `selectors.InquiryRows`.

    A page is 50 rows of 30-odd fields: running DRF's per-field machinery (attribute lookup,
    null check, conversion) for each cost most of the request. The declared fields still
    document the schema and convert what needs converting (dates, decimals); values the
    database already returns in their JSON form are copied as they are."""

    network = serializers.IntegerField(source="network_id", read_only=True)
    material = serializers.CharField(source="material_code", read_only=True)
    processes = serializers.ListField(
        child=serializers.CharField(), source="process_codes", read_only=True
    )
    buyer_name = serializers.CharField(allow_null=True, read_only=True)
    award = AwardSummarySerializer(allow_null=True, read_only=True)

    # Fields computed from several columns, by the visibility rules.
    COMPUTED = ("buyer_name", "award")
    # Fields of exactly these types return a database value as it is (ChoiceField: the stored
    # choice), so it is copied; their subclasses may convert.
    AS_IS = frozenset(
        {
            serializers.IntegerField,
            serializers.CharField,
            serializers.BooleanField,
            serializers.ChoiceField,
            serializers.ListField,
        }
    )

    class Meta:
        model = Inquiry
        fields = [
            f
            for f in InquirySerializer.Meta.fields
            if f not in ("attachments", "stages")  # per-inquiry queries: the detail's
        ]
        read_only_fields = fields

    @cached_property
    def _visibility(self) -> InquiryVisibility:
        return InquiryVisibility(self.context["request"].user)

    @cached_property
    def _plan(self) -> list[tuple]:
        """The copy plan with datetimes converted as DRF's DateTimeField does, but in a zone
        looked up once per page: the per-value lookup was a fifth of the serialization."""
        zone = timezone.get_current_timezone()
        return [
            (name, key, partial(_iso_datetime, zone=zone) if _is_iso_datetime(f) else f)
            for name, key, f in self._copy_plan()
        ]

    @classmethod
    @cache
    def _copy_plan(cls) -> list[tuple]:
        """(name, row key or None if computed, conversion or None), in the fields' order.
        Built once per process: building a ModelSerializer's fields costs more than a page."""
        return [
            (
                name,
                None if name in cls.COMPUTED else field.source,
                None if type(field) in cls.AS_IS else field.to_representation,
            )
            for name, field in cls().fields.items()
        ]

    def to_representation(self, row: dict) -> dict:
        data = {}
        for name, key, convert in self._plan:
            value = None if key is None else row[key]
            data[name] = value if value is None or convert is None else convert(value)
        facts = {
            "network_id": row["network_id"],
            "buyer_user_id": row["buyer_user_id"],
            "award_company_id": row["award_company_id"],
            "award_status": row["award_status"],
        }
        visibility = self._visibility
        data["buyer_name"] = (
            (row["buyer_organisation"] or row["buyer_name"])  # as str(Buyer)
            if visibility.sees_buyer(**facts)
            else None
        )
        data["award"] = (
            {
                "company": row["award_company_id"],
                "company_name": row["award_company_name"],
                "status": row["award_status"],
            }
            if visibility.award_level(**facts)
            else None
        )
        return data


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
    deadline = serializers.DateTimeField(
        help_text="The new deadline, with its time zone: later than the current one."
    )
    reason = serializers.CharField(help_text="Why it is extended; the called leads read it.")


class CommitteeCloseSerializer(serializers.Serializer):
    votes_for = serializers.IntegerField(min_value=0, max_value=999)
    votes_against = serializers.IntegerField(min_value=0, max_value=999)
    votes_abstained = serializers.IntegerField(min_value=0, max_value=999, default=0)
    reason = serializers.CharField(help_text="Kept on the record; the called leads read it.")


class LeadCallSerializer(serializers.Serializer):
    """A lead company's call to an inquiry and its answer."""

    inquiry = serializers.IntegerField(source="inquiry_id")
    company = serializers.IntegerField(source="company_id")
    called_at = serializers.DateTimeField()
    declined_at = serializers.DateTimeField(allow_null=True)
    decline_reason = serializers.CharField(allow_blank=True)


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
