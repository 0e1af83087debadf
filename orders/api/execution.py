"""Running the project over HTTP: work standards, deliveries to the lead and their
inspection, shipments to the buyer with acceptance and claims, charges to members."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ScopedViewSet
from core.schema import ValidationErrorResponseSerializer
from orders import execution, sampling, selectors
from orders.models import (
    Claim,
    Delivery,
    Disposition,
    EvidencePhoto,
    Inspection,
    MemberCharge,
    Shipment,
    WorkStandard,
)

PARSERS = [JSONParser, MultiPartParser, FormParser]


class PhotoSerializer(serializers.ModelSerializer):
    class Meta:
        model = EvidencePhoto
        fields = ["id", "original_name", "content_type", "uploaded_at"]
        read_only_fields = fields


class StandardSerializer(serializers.ModelSerializer):
    has_file = serializers.SerializerMethodField()

    class Meta:
        model = WorkStandard
        fields = [
            "id",
            "package",
            "title",
            "note",
            "original_name",
            "content_type",
            "has_file",
            "attached_at",
            "confirmed_at",
        ]
        read_only_fields = fields

    def get_has_file(self, standard) -> bool:
        return bool(standard.file)


class StandardInputSerializer(serializers.Serializer):
    package = serializers.IntegerField()
    title = serializers.CharField(max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    file = serializers.FileField(required=False, allow_null=True, default=None)


class InspectionSerializer(serializers.ModelSerializer):
    photos = PhotoSerializer(many=True, read_only=True)

    class Meta:
        model = Inspection
        fields = [
            "id",
            "quantity_received",
            "inspection_level",
            "aql",
            "sample_size",
            "accept_number",
            "reject_number",
            "defects_found",
            "quantity_passed",
            "quantity_rejected",
            "result",
            "defect_reason",
            "disposition",
            "inspected_at",
            "photos",
        ]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    inspection = InspectionSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Delivery
        fields = ["id", "package", "quantity", "is_rework", "note", "shipped_at", "inspection"]
        read_only_fields = fields


class DeliveryInputSerializer(serializers.Serializer):
    package = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=1)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class InspectInputSerializer(serializers.Serializer):
    """Every item inspected: give quantity_passed. Sampling: give inspection_level, aql and
    defects_found; the platform computes the plan and the outcome."""

    quantity_received = serializers.IntegerField(min_value=1)
    quantity_passed = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    inspection_level = serializers.ChoiceField(
        choices=sampling.LEVELS, required=False, allow_blank=True, default=""
    )
    aql = serializers.ChoiceField(
        choices=[str(a) for a in sampling.AQLS], required=False, allow_null=True, default=None
    )
    defects_found = serializers.IntegerField(min_value=0, required=False, default=0)
    defect_reason = serializers.CharField(required=False, allow_blank=True, default="")
    disposition = serializers.ChoiceField(
        choices=Disposition.choices, required=False, allow_blank=True, default=""
    )
    charge_yen = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, max_length=10
    )


class SamplingPlanSerializer(serializers.Serializer):
    code_letter = serializers.CharField()
    sample_size = serializers.IntegerField()
    accept = serializers.IntegerField()
    reject = serializers.IntegerField()
    lot_size = serializers.IntegerField()
    inspect_all = serializers.BooleanField()


class ShipmentSerializer(serializers.ModelSerializer):
    claimed_quantity = serializers.SerializerMethodField()

    class Meta:
        model = Shipment
        fields = [
            "id",
            "project",
            "quantity",
            "packaging",
            "carrier",
            "tracking_number",
            "status",
            "shipped_at",
            "accepted_quantity",
            "accepted_at",
            "claimed_quantity",
        ]
        read_only_fields = fields

    def get_claimed_quantity(self, shipment) -> int:
        return sum(c.quantity for c in shipment.claims.all())


class ShipmentInputSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=1)
    packaging = serializers.CharField(required=False, allow_blank=True, default="")
    carrier = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    tracking_number = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100
    )


class ClaimSerializer(serializers.ModelSerializer):
    photos = PhotoSerializer(many=True, read_only=True)
    member = serializers.IntegerField(source="package.member_id", read_only=True, default=None)

    class Meta:
        model = Claim
        fields = [
            "id",
            "shipment",
            "quantity",
            "description",
            "status",
            "raised_at",
            "package",
            "member",
            "traced_at",
            "resolution",
            "resolved_at",
            "photos",
        ]
        read_only_fields = fields


class ClaimInputSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1)
    description = serializers.CharField()
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, max_length=10
    )


class TraceInputSerializer(serializers.Serializer):
    package = serializers.IntegerField()
    charge_yen = serializers.IntegerField(min_value=0, required=False, default=0)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ResolveInputSerializer(serializers.Serializer):
    resolution = serializers.CharField()


class ChargeSerializer(serializers.ModelSerializer):
    class Meta:
        model = MemberCharge
        fields = [
            "id",
            "package",
            "member",
            "kind",
            "inspection",
            "claim",
            "quantity",
            "amount_yen",
            "reason",
            "charged_at",
        ]
        read_only_fields = fields


class LateChargeInputSerializer(serializers.Serializer):
    package = serializers.IntegerField()
    amount_yen = serializers.IntegerField(min_value=1)
    reason = serializers.CharField()


def _package(request, pk):
    return get_object_or_404(selectors.package_list(viewer=request.user), pk=pk)


class StandardViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Work standards (作業標準) the lead attaches to a package; the member confirms them."""

    selector = staticmethod(selectors.standard_list)
    model = WorkStandard
    serializer_class = StandardSerializer
    filterset_fields = ["package"]
    parser_classes = PARSERS

    @extend_schema(request=StandardInputSerializer, responses={201: StandardSerializer})
    def create(self, request):
        ser = StandardInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        standard = execution.standard_attach(
            actor=request.user,
            package=_package(request, data["package"]),
            title=data["title"],
            note=data["note"],
            upload=data["file"],
        )
        return Response(self.get_serializer(standard).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=StandardSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Member: confirm the standard has been read."""
        standard = execution.standard_confirm(actor=request.user, standard=self.get_object())
        return Response(self.get_serializer(standard).data)


class DeliveryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Deliveries (納品) from the member to the lead, each inspected (検品) once by the lead."""

    selector = staticmethod(selectors.delivery_list)
    model = Delivery
    serializer_class = DeliverySerializer
    filterset_fields = ["package"]
    parser_classes = PARSERS

    @extend_schema(request=DeliveryInputSerializer, responses={201: DeliverySerializer})
    def create(self, request):
        """Member: ship finished work to the lead (partial deliveries allowed)."""
        ser = DeliveryInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        delivery = execution.delivery_record(
            actor=request.user,
            package=_package(request, data["package"]),
            quantity=data["quantity"],
            note=data["note"],
        )
        return Response(self.get_serializer(delivery).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=InspectInputSerializer, responses=DeliverySerializer)
    @action(detail=True, methods=["post"])
    def inspect(self, request, pk=None):
        """Lead: record the inspection, of every item or by ISO 2859-1 sampling."""
        delivery = self.get_object()
        ser = InspectInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        execution.inspection_record(actor=request.user, delivery=delivery, **ser.validated_data)
        return Response(self.get_serializer(self.get_object()).data)


class SamplingPlanView(APIView):
    """The ISO 2859-1 single sampling plan (normal inspection) for a lot."""

    @extend_schema(
        parameters=[
            OpenApiParameter("lot_size", int, required=True),
            OpenApiParameter("level", str, required=True, enum=list(sampling.LEVELS)),
            OpenApiParameter("aql", str, required=True, enum=[str(a) for a in sampling.AQLS]),
        ],
        responses={200: SamplingPlanSerializer, 400: ValidationErrorResponseSerializer},
    )
    def get(self, request):
        class Query(serializers.Serializer):
            lot_size = serializers.IntegerField(min_value=2)
            level = serializers.ChoiceField(choices=sampling.LEVELS)
            aql = serializers.ChoiceField(choices=[str(a) for a in sampling.AQLS])

        query = Query(data=request.query_params)
        query.is_valid(raise_exception=True)
        plan = execution.sampling_plan(**query.validated_data)
        data = {
            "code_letter": plan.code_letter,
            "sample_size": plan.sample_size,
            "accept": plan.accept,
            "reject": plan.reject,
            "lot_size": plan.lot_size,
            "inspect_all": plan.inspect_all,
        }
        return Response(SamplingPlanSerializer(data).data)


class ShipmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Shipments (出荷) from the lead to the buyer; the buyer accepts (検収) or claims."""

    selector = staticmethod(selectors.shipment_list)
    model = Shipment
    serializer_class = ShipmentSerializer
    filterset_fields = ["project", "status"]
    parser_classes = PARSERS

    def get_queryset(self):
        return super().get_queryset().prefetch_related("claims")

    @extend_schema(request=ShipmentInputSerializer, responses={201: ShipmentSerializer})
    def create(self, request):
        """Lead: ship inspected goods, with packaging and tracking number."""
        ser = ShipmentInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        project = get_object_or_404(
            selectors.project_list(viewer=request.user), pk=data.pop("project")
        )
        shipment = execution.shipment_send(actor=request.user, project=project, **data)
        return Response(self.get_serializer(shipment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ShipmentSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Buyer: accept the delivery; what was not claimed is accepted."""
        execution.shipment_accept(actor=request.user, shipment=self.get_object())
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=ClaimInputSerializer, responses={201: ClaimSerializer})
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        """Buyer: raise a claim on goods of this delivery (before accepting it)."""
        shipment = self.get_object()
        ser = ClaimInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        claim = execution.claim_raise(actor=request.user, shipment=shipment, **ser.validated_data)
        return Response(ClaimSerializer(claim).data, status=status.HTTP_201_CREATED)


class ClaimViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Buyers' claims (クレーム), traced by the lead to the package and member responsible."""

    selector = staticmethod(selectors.claim_list)
    model = Claim
    serializer_class = ClaimSerializer
    filterset_fields = ["shipment", "status", "package"]

    @extend_schema(request=TraceInputSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def trace(self, request, pk=None):
        """Lead: name the package responsible, optionally charging its member."""
        claim = self.get_object()
        ser = TraceInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        execution.claim_trace(
            actor=request.user,
            claim=claim,
            package=_package(request, data["package"]),
            charge_yen=data["charge_yen"],
            note=data["note"],
        )
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=ResolveInputSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """Lead: close a traced claim saying how it was settled with the buyer."""
        ser = ResolveInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        execution.claim_resolve(actor=request.user, claim=self.get_object(), **ser.validated_data)
        return Response(self.get_serializer(self.get_object()).data)


class ChargeViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Amounts charged to members (scrapped items, traced claims, late penalties); deducted
    in their statements. POST records an agreed late penalty."""

    selector = staticmethod(selectors.charge_list)
    model = MemberCharge
    serializer_class = ChargeSerializer
    filterset_fields = ["package", "member", "kind"]

    @extend_schema(request=LateChargeInputSerializer, responses={201: ChargeSerializer})
    def create(self, request):
        ser = LateChargeInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        charge = execution.charge_late(
            actor=request.user,
            package=_package(request, data["package"]),
            amount_yen=data["amount_yen"],
            reason=data["reason"],
        )
        return Response(self.get_serializer(charge).data, status=status.HTTP_201_CREATED)
