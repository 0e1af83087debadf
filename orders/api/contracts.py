"""Contracts over HTTP: the networks' contract templates, and each agreement as a PDF."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from core import pdf
from core.api import ScopedViewSet
from members import selectors as member_selectors
from members.api.serializers import ScopedPrimaryKeyRelatedField
from orders import contracts, selectors
from orders.models import Agreement, AgreementKind, ContractTemplate
from orders.projects import AGREEMENT_CONTEXT


class ContractTemplateSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = ContractTemplate
        fields = ["id", "network", "kind", "kind_display", "body", "updated_at"]
        read_only_fields = fields


class ContractTemplateBodySerializer(serializers.Serializer):
    # Blank is the service's to refuse, so the rule and its message exist once.
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)


class ContractTemplateInputSerializer(ContractTemplateBodySerializer):
    network = ScopedPrimaryKeyRelatedField(member_selectors.network_list)
    kind = serializers.ChoiceField(choices=AgreementKind.choices)


PreviewSerializer = inline_serializer(
    name="ContractTemplatePreview", fields={"text": serializers.CharField()}
)

TEMPLATE_NOTE = (
    f"The body is a Django template using the names {', '.join(AGREEMENT_CONTEXT)} (each "
    "package p of packages: p.process, p.material, p.quantity, p.unit_price_yen, p.due_date); "
    "a broken template or an unknown name is refused with `attr` = `body`. Agreements "
    "already generated keep their text: a change applies to the agreements generated after it."
)


class ContractTemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Contract templates (契約書ひな形): each network's own text for the basic agreement
    (基本合意書) and the NDA. The network's staff read them; its secretariat writes them.
    A kind without a saved template uses the platform's standard text."""

    selector = staticmethod(contracts.contract_template_list)
    model = ContractTemplate
    serializer_class = ContractTemplateSerializer
    filterset_fields = ["network", "kind"]

    @extend_schema(
        request=ContractTemplateInputSerializer,
        responses={200: ContractTemplateSerializer, 201: ContractTemplateSerializer},
        description="Secretariat: save the network's text for a kind (201 when the network "
        "had none, 200 when it replaces one). " + TEMPLATE_NOTE,
    )
    def create(self, request):
        ser = ContractTemplateInputSerializer(data=request.data, context={"request": request})
        ser.is_valid(raise_exception=True)
        network, kind = ser.validated_data["network"], ser.validated_data["kind"]
        existed = ContractTemplate.objects.filter(network=network, kind=kind).exists()
        template = contracts.template_save(
            actor=request.user, network=network, kind=kind, body=ser.validated_data["body"]
        )
        return Response(
            self.get_serializer(template).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=ContractTemplateBodySerializer,
        responses=ContractTemplateSerializer,
        description="Secretariat: replace the text. " + TEMPLATE_NOTE,
    )
    def update(self, request, pk=None):
        template = self.get_object()
        ser = ContractTemplateBodySerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        template = contracts.template_save(
            actor=request.user,
            network=template.network,
            kind=template.kind,
            body=ser.validated_data["body"],
        )
        return Response(self.get_serializer(template).data)

    @extend_schema(
        request=ContractTemplateInputSerializer,
        responses=PreviewSerializer,
        description="Secretariat: the body rendered with sample data, nothing saved. "
        + TEMPLATE_NOTE,
    )
    @action(detail=False, methods=["post"])
    def preview(self, request):
        ser = ContractTemplateInputSerializer(data=request.data, context={"request": request})
        ser.is_valid(raise_exception=True)
        text = contracts.template_preview(
            ser.validated_data["network"],
            ser.validated_data["kind"],
            ser.validated_data["body"],
            actor=request.user,
        )
        return Response({"text": text})


class PdfRenderer(BaseRenderer):
    """Lets a client ask for `Accept: application/pdf`. The PDF itself is returned as is;
    an error keeps the JSON error format."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = JSONRenderer.media_type
        return JSONRenderer().render(data, renderer_context=renderer_context)


class AgreementPdfViewSet(ScopedViewSet):
    """An agreement as a PDF, for whoever may see the agreement (the two parties, the
    network's secretariat): 404 for anyone else."""

    selector = staticmethod(selectors.agreement_list)
    model = Agreement
    renderer_classes = [JSONRenderer, PdfRenderer]
    pagination_class = None
    filter_backends = []

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The agreement (基本合意書 or NDA) with the parties and who "
                "accepted it when (未承諾 / not yet accepted otherwise); an attachment.",
            )
        },
    )
    def pdf(self, request, pk=None):
        agreement = self.get_object()
        return pdf.download(
            contracts.agreement_pdf(agreement), contracts.agreement_pdf_filename(agreement)
        )
