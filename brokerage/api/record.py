"""The order record (受注実績) over HTTP: a network's figures for its staff, and scorecards —
every member's for the staff, its own for a member company. Read-only; the counting rules
are those of `brokerage.record`. A network the caller may not see is 404."""

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from brokerage import record
from brokerage.record_forms import MAX_PERIOD_DAYS
from core.api import ScopedViewSet
from members.models import (
    Material,
    Membership,
    MembershipStatus,
    Network,
    Process,
)
from members.permissions import roles_of

# --- Query parameters ------------------------------------------------------------------


class PeriodQuerySerializer(serializers.Serializer):
    network = serializers.IntegerField(required=False, min_value=1)
    to = serializers.DateField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)  # a Python keyword
        return fields

    def validate(self, attrs):
        start, end = attrs.get("from"), attrs.get("to")
        if start and end and end < start:
            raise serializers.ValidationError({"to": ["The end comes before the start."]})
        if start and end and (end - start).days > MAX_PERIOD_DAYS:
            raise serializers.ValidationError({"to": ["Choose a period of at most five years."]})
        return attrs


class RecordQuerySerializer(PeriodQuerySerializer):
    network = serializers.IntegerField(min_value=1)
    process = serializers.SlugRelatedField(
        slug_field="code", queryset=Process.objects.all(), required=False
    )
    material = serializers.SlugRelatedField(
        slug_field="code", queryset=Material.objects.all(), required=False
    )


PERIOD_PARAMETERS = [
    OpenApiParameter(
        "from",
        OpenApiTypes.DATE,
        description="First day (default: the start of the network's current fiscal year).",
    ),
    OpenApiParameter(
        "to", OpenApiTypes.DATE, description="Last day, included (default: the fiscal year's end)."
    ),
]


def _period(network: Network, data: dict) -> record.Period:
    default = record.fiscal_year(network)
    start = data.get("from") or default.start
    end = data.get("to") or default.end
    if end < start:  # one of them defaulted past the other
        raise serializers.ValidationError({"to": ["The end comes before the start."]})
    return record.Period(start, end)


# --- Responses -------------------------------------------------------------------------


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class InquiryCountsSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    awarded = serializers.IntegerField()
    referred = serializers.IntegerField()
    referral_taken = serializers.IntegerField(
        help_text="Referred inquiries that a referral target accepted."
    )
    rejected = serializers.IntegerField(help_text="Declined with reasons.")
    withdrawn = serializers.IntegerField(help_text="Withdrawn by the buyer.")
    unanswered = serializers.IntegerField(help_text="No outcome yet.")
    answered_rate = serializers.FloatField(
        allow_null=True,
        help_text="% answered (awarded + referred + rejected) of received − withdrawn.",
    )


class MonthValueSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="First day of the month.")
    value_yen = serializers.IntegerField()
    orders = serializers.IntegerField()


class YearValueSerializer(serializers.Serializer):
    year = serializers.IntegerField(help_text="The calendar year the fiscal year starts in.")
    start = serializers.DateField()
    end = serializers.DateField()
    value_yen = serializers.IntegerField()
    orders = serializers.IntegerField()


class CatalogueValueSerializer(serializers.Serializer):
    code = serializers.CharField()
    name_ja = serializers.CharField()
    name_en = serializers.CharField()
    value_yen = serializers.IntegerField()
    orders = serializers.IntegerField()


class OrderValueSerializer(serializers.Serializer):
    total_yen = serializers.IntegerField(source="order_value_yen")
    orders = serializers.IntegerField()
    by_month = MonthValueSerializer(many=True)
    by_fiscal_year = YearValueSerializer(
        many=True, source="by_year", help_text="All years, not only the period's."
    )
    by_process = CatalogueValueSerializer(
        many=True, help_text="An order with several processes counts under each."
    )
    by_material = CatalogueValueSerializer(many=True)


class ResponseTimesSerializer(serializers.Serializer):
    answered = serializers.IntegerField(help_text="Inquiries answered (withdrawn left out).")
    median_working_days = serializers.IntegerField(source="median_days", allow_null=True)
    p90_working_days = serializers.IntegerField(source="p90_days", allow_null=True)
    within_limit = serializers.IntegerField()
    limit_working_days = serializers.IntegerField(source="limit_days")
    within_limit_rate = serializers.FloatField(allow_null=True)


class RecordSerializer(serializers.Serializer):
    network = serializers.IntegerField(source="network.pk")
    period = PeriodSerializer()
    process = serializers.CharField(source="process.code", allow_null=True, default=None)
    material = serializers.CharField(source="material.code", allow_null=True, default=None)
    inquiries = InquiryCountsSerializer(source="counts")
    order_value = OrderValueSerializer(source="*")
    response_time = ResponseTimesSerializer(source="response")


class ProbationSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateField(help_text="The daily review may lift it from this day.")
    max_package_value_yen = serializers.IntegerField()
    reason = serializers.CharField()


class ScorecardSerializer(serializers.Serializer):
    network = serializers.IntegerField()
    period = PeriodSerializer()
    company = serializers.IntegerField(source="card.company_id")
    company_name = serializers.CharField(source="card.company.legal_name")
    membership_class = serializers.CharField(
        source="card.membership_class", help_text="`lead` or `joint_order`."
    )
    packages_taken = serializers.IntegerField(source="card.packages_taken")
    package_value_yen = serializers.IntegerField(source="card.package_value_yen")
    completed = serializers.IntegerField(source="card.completed")
    on_time = serializers.IntegerField(source="card.on_time")
    on_time_rate = serializers.FloatField(source="card.on_time_rate", allow_null=True)
    inspected = serializers.IntegerField(source="card.inspected")
    rejected = serializers.IntegerField(source="card.rejected")
    claimed = serializers.IntegerField(source="card.claimed")
    defect_rate = serializers.FloatField(source="card.defect_rate", allow_null=True)
    invitations = serializers.IntegerField(source="card.invitations")
    accepted = serializers.IntegerField(source="card.accepted")
    declined = serializers.IntegerField(source="card.declined")
    expired = serializers.IntegerField(source="card.expired")
    charges = serializers.IntegerField(source="card.charges")
    charges_yen = serializers.IntegerField(source="card.charges_yen")
    probation = ProbationSerializer(source="card.probation", allow_null=True)


# --- Views -----------------------------------------------------------------------------


def record_networks(*, viewer):
    """Networks whose record the viewer may read: where it sits in the secretariat or the
    steering committee (all for a platform admin)."""
    roles = roles_of(viewer)
    if roles.is_platform_admin:
        return Network.objects.all()
    return Network.objects.filter(pk__in=roles.staff_network_ids)


def scorecard_networks(*, viewer):
    """Networks with scorecards the viewer may read: its staff networks (every member) and
    those where its company can join project teams (its own)."""
    roles = roles_of(viewer)
    if roles.is_platform_admin:
        return Network.objects.all()
    member_of = Membership.objects.filter(
        company_id=roles.company_id,
        membership_class__in=record.SCORED_CLASSES,
        status__in=(MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED),
    ).values("network_id")
    if roles.company_id is None:
        return Network.objects.filter(pk__in=roles.staff_network_ids)
    return Network.objects.filter(Q(pk__in=roles.staff_network_ids) | Q(pk__in=member_of))


@extend_validation_errors(["invalid", "required", "min_value"], field_name="network")
@extend_validation_errors(["invalid"], field_name="from")
@extend_validation_errors(["invalid"], field_name="to")
@extend_validation_errors(["does_not_exist", "invalid"], field_name="process")
@extend_validation_errors(["does_not_exist", "invalid"], field_name="material")
class RecordViewSet(ScopedViewSet):
    """The order record (受注実績) of a network, for its secretariat and steering committee:
    inquiries received and their outcomes, order value per month, fiscal year, process and
    material, and the working days to an answer. Inquiry figures count the inquiries received
    in the period; order value the awards confirmed in it, at the project's order value (the
    winning bid until the project is opened); referrals count as handled with no value."""

    selector = staticmethod(record_networks)
    model = Network
    pagination_class = None
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("network", OpenApiTypes.INT, required=True),
            *PERIOD_PARAMETERS,
            OpenApiParameter("process", OpenApiTypes.STR, description="A process code."),
            OpenApiParameter("material", OpenApiTypes.STR, description="A material code."),
        ],
        responses=RecordSerializer,
    )
    def list(self, request):
        query = RecordQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        network = self.get_queryset().filter(pk=data["network"]).first()
        if network is None:
            raise NotFound
        rec = record.network_record(
            network=network,
            period=_period(network, data),
            process=data.get("process"),
            material=data.get("material"),
        )
        return Response(RecordSerializer(rec).data)


@extend_validation_errors(["invalid", "min_value"], field_name="network")
@extend_validation_errors(["invalid"], field_name="from")
@extend_validation_errors(["invalid"], field_name="to")
class ScorecardViewSet(ScopedViewSet):
    """Scorecards of the member companies (leads and joint-order members): packages taken
    and their value, on-time and defect rates, invitations declined or let expire, charges,
    and any probation. The network's staff see every member; a member company sees its own.
    Packages count in the period in which they were due (default: the fiscal year)."""

    selector = staticmethod(scorecard_networks)
    model = Network
    pagination_class = None
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "network", OpenApiTypes.INT, description="One network (default: all yours)."
            ),
            *PERIOD_PARAMETERS,
        ],
        responses=ScorecardSerializer(many=True),
    )
    def list(self, request):
        query = PeriodQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        networks = self.get_queryset().order_by("name", "pk")
        if data.get("network") is not None:
            networks = networks.filter(pk=data["network"])
            if not networks.exists():
                raise NotFound
        roles = roles_of(request.user)
        rows = []
        for network in networks:
            period = _period(network, data)
            own_only = not roles.is_staff_of(network.pk)
            cards = record.scorecards(
                network=network,
                period=period,
                company_id=roles.company_id if own_only else None,
            )
            rows += [{"network": network.pk, "period": period, "card": card} for card in cards]
        return Response(ScorecardSerializer(rows, many=True).data)
