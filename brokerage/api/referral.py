"""The secretariat's referrals over HTTP: list and read them with their ranked candidates,
send one (confirm), add a candidate by hand, read the referral record. Thin views, one
service each; another network's referral is 404."""

import datetime

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from brokerage import referral as services
from brokerage.models import (
    OfferStatus,
    Referral,
    ReferralCategory,
    ReferralOffer,
    ReferralStatus,
)
from core.api import ScopedViewSet
from members.models import Company, Network
from members.permissions import roles_of


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class ReferralOfferSerializer(serializers.ModelSerializer):
    target_kind = serializers.SerializerMethodField(
        help_text="`company` (a non-member of the directory) or `partner_network`."
    )
    target_name = serializers.CharField(read_only=True)
    reasons = serializers.SerializerMethodField(help_text="Why the candidate was chosen.")
    status = serializers.ChoiceField(choices=OfferStatus.choices, read_only=True)

    class Meta:
        model = ReferralOffer
        fields = [
            "id",
            "rank",
            "target_kind",
            "company",
            "partner_network",
            "target_name",
            "score",
            "distance_km",
            "reasons",
            "status",
            "offered_at",
            "expires_at",
            "responded_at",
            "decline_reason",
            "confidential_shared",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=["company", "partner_network"]))
    def get_target_kind(self, offer) -> str:
        return "partner_network" if offer.is_partner else "company"

    @extend_schema_field(ReasonSerializer(many=True))
    def get_reasons(self, offer) -> list[dict]:
        return [
            {"code": code, "label": label}
            for code, label in zip(
                offer.reasons, services.reason_labels(offer.reasons), strict=True
            )
        ]


class ReferralSerializer(serializers.ModelSerializer):
    inquiry_reference = serializers.CharField(source="inquiry.reference", read_only=True)
    inquiry_title = serializers.CharField(source="inquiry.title", read_only=True)
    category = serializers.ChoiceField(choices=ReferralCategory.choices, read_only=True)
    status = serializers.ChoiceField(choices=ReferralStatus.choices, read_only=True)
    offers = ReferralOfferSerializer(many=True, read_only=True)

    class Meta:
        model = Referral
        fields = [
            "id",
            "inquiry",
            "inquiry_reference",
            "inquiry_title",
            "category",
            "reason",
            "status",
            "buyer_agreed_to_share",
            "created_at",
            "accepted_at",
            "exhausted_at",
            "offers",
        ]
        read_only_fields = fields


class ConfirmSerializer(serializers.Serializer):
    offer = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The candidate (offer id) to send to; the best pending one if omitted.",
    )


class AddCandidateSerializer(serializers.Serializer):
    company = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="A company of the network's directory that consented to referrals.",
    )
    partner_network = serializers.IntegerField(
        required=False, allow_null=True, help_text="One of the network's partner networks."
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if (attrs.get("company") is None) == (attrs.get("partner_network") is None):
            raise ValidationError({"company": ["Name one company or one partner network."]})
        return attrs


class OutcomeRowSerializer(serializers.Serializer):
    referrals = serializers.IntegerField()
    accepted = serializers.IntegerField()
    declined = serializers.IntegerField()
    no_answer = serializers.IntegerField()
    exhausted = serializers.IntegerField()


class OutcomesSerializer(serializers.Serializer):
    network = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    by_category = serializers.DictField(
        child=OutcomeRowSerializer(), help_text="Keyed by referral category."
    )
    total = OutcomeRowSerializer()


OUTCOME_PARAMETERS = [
    OpenApiParameter("network", OpenApiTypes.INT, required=True),
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (default: a year ago)."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day (default: today)."),
]


@extend_validation_errors(["invalid"], field_name="network", actions=["outcomes"])
@extend_validation_errors(["invalid"], field_name="start", actions=["outcomes"])
class ReferralViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Referrals (紹介) of what the network's members cannot serve, with their candidates
    ranked (non-member directory companies that consented, and partner networks) and the
    state of each offer. Only the network's secretariat sees and acts on them."""

    selector = staticmethod(services.referral_list)
    model = Referral
    serializer_class = ReferralSerializer
    filterset_fields = ["status", "category"]
    ordering_fields = ["created_at", "id"]

    def _out(self, referral, status_code=status.HTTP_200_OK):
        referral = self.get_queryset().get(pk=referral.pk)
        return Response(ReferralSerializer(referral).data, status=status_code)

    @extend_schema(
        request=ConfirmSerializer,
        responses=ReferralSerializer,
        examples=[OpenApiExample("The best candidate", value={}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Send the referral (one action): to the chosen pending candidate, or the best."""
        referral = self.get_object()
        ser = ConfirmSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        offer = None
        if ser.validated_data.get("offer") is not None:
            offer = referral.offers.filter(pk=ser.validated_data["offer"]).first()
            if offer is None:
                raise ValidationError({"offer": ["Choose a candidate of this referral."]})
        services.referral_confirm(actor=request.user, referral=referral, offer=offer)
        return self._out(referral)

    @extend_schema(
        request=AddCandidateSerializer,
        responses={201: ReferralSerializer},
        examples=[
            OpenApiExample(
                "A directory company",
                value={"company": 42, "reason": "Phoned: they can start next week."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="add-candidate")
    def add_candidate(self, request, pk=None):
        """Add a candidate by hand (last in the list); an exhausted referral then waits for
        confirmation."""
        referral = self.get_object()
        ser = AddCandidateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        network_id = referral.inquiry.network_id
        company = partner = None
        if data.get("company") is not None:
            # Scoped: only the network's directory, so no other tenant's company is reachable.
            company = Company.objects.filter(
                pk=data["company"], directory_entries__network_id=network_id
            ).first()
            if company is None:
                raise ValidationError({"company": ["Not in the network's directory."]})
        else:
            partner = Network.objects.filter(
                pk=data["partner_network"], partners=network_id
            ).first()
            if partner is None:
                raise ValidationError({"partner_network": ["Not a partner network."]})
        services.referral_add_candidate(
            actor=request.user,
            referral=referral,
            company=company,
            partner_network=partner,
            reason=data.get("reason", ""),
        )
        return self._out(referral, status.HTTP_201_CREATED)

    @extend_schema(parameters=OUTCOME_PARAMETERS, responses=OutcomesSerializer)
    @action(detail=False, methods=["get"])
    def outcomes(self, request):
        """The referral record of a network: per category, referrals and their outcomes
        (accepted, declined, no answer) and lists exhausted, for referrals opened in the
        period."""
        params = request.query_params
        try:
            network_id = int(params.get("network", ""))
        except ValueError:
            raise ValidationError({"network": ["Give the network's id."]}) from None
        if not roles_of(request.user).is_secretariat(network_id):
            raise NotFound
        network = Network.objects.filter(pk=network_id).first()
        if network is None:
            raise NotFound
        today = timezone.localdate()
        default_start = today - datetime.timedelta(days=365)
        try:
            start = datetime.date.fromisoformat(params.get("start") or default_start.isoformat())
            end = datetime.date.fromisoformat(params.get("end") or today.isoformat())
        except ValueError:
            raise ValidationError({"start": ["Dates are YYYY-MM-DD."]}) from None
        table = services.referral_outcomes(network=network, period=(start, end))
        total = table.pop("total")
        return Response(
            OutcomesSerializer(
                {
                    "network": network.pk,
                    "start": start,
                    "end": end,
                    "by_category": table,
                    "total": total,
                }
            ).data
        )
