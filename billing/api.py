"""Settlement over HTTP (/api/v1/): documents (with PDF and CSV), payments, settlement runs
and a company's ledger. Thin views on `core.api.ScopedViewSet`: the queryset comes from the
billing selectors (404 for what the caller may not see), writes go through one service, and
core.api maps the services' refusals to HTTP with the field at fault."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from core import pdf
from core.api import ScopedViewSet
from core.errors import NotAllowed
from core.pagination import KeysetPagination
from members.models import Company, Network
from members.permissions import roles_of

from . import documents as paper
from . import selectors
from .enqueue import run_queue
from .forms import DocumentFilterForm
from .models import (
    Document,
    DocumentLine,
    DocumentTaxLine,
    Payment,
    RunKind,
    SettlementRun,
)
from .payments import payment_record
from .runs import run_reopen

# ---------------------------------------------------------------------------------------
# Serializers


class LineSerializer(serializers.ModelSerializer):
    class Meta:
        model = DocumentLine
        fields = [
            "position",
            "description",
            "quantity",
            "unit_price_yen",
            "tax_rate",
            "is_deduction",
            "amount_yen",
        ]
        read_only_fields = fields


class TaxLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = DocumentTaxLine
        fields = ["rate", "taxable_yen", "tax_yen"]
        read_only_fields = fields


class DocumentSerializer(serializers.ModelSerializer):
    lines = LineSerializer(many=True, read_only=True)
    tax_lines = TaxLineSerializer(many=True, read_only=True)
    replaces_number = serializers.SerializerMethodField()
    paid_yen = serializers.SerializerMethodField()
    outstanding_yen = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "number",
            "kind",
            "status",
            "network",
            "run",
            "issuer_company",
            "issuer_name",
            "issuer_registration_number",
            "issuer_unregistered",
            "recipient_company",
            "recipient_buyer",
            "recipient_name",
            "project",
            "transaction_date",
            "issue_date",
            "due_date",
            "team_pay_due",
            "paid_in_full_on",
            "rounding",
            "subtotal_yen",
            "tax_yen",
            "total_yen",
            "lines",
            "tax_lines",
            "replaces",
            "replaces_number",
            "cancel_reason",
            "cancelled_at",
            "paid_yen",
            "outstanding_yen",
            "overdue",
        ]
        read_only_fields = fields

    def _paid(self, document) -> int:
        paid = self.context.setdefault("paid", {})
        if document.pk not in paid:
            paid[document.pk] = selectors.paid_yen(document)
        return paid[document.pk]

    def get_replaces_number(self, document) -> str | None:
        return document.replaces.number if document.replaces_id else None

    def get_paid_yen(self, document) -> int:
        return self._paid(document)

    def get_outstanding_yen(self, document) -> int:
        return paper.outstanding_of(document, self._paid(document))

    def get_overdue(self, document) -> bool:
        return paper.is_overdue(document, self.get_outstanding_yen(document))


class PaymentSerializer(serializers.ModelSerializer):
    document_number = serializers.CharField(source="document.number", read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "document",
            "document_number",
            "amount_yen",
            "paid_on",
            "is_advance",
            "note",
            "recorded_at",
        ]
        read_only_fields = fields


class PaymentInputSerializer(serializers.Serializer):
    amount_yen = serializers.IntegerField(help_text="Whole yen, at most what is outstanding.")
    paid_on = serializers.DateField(help_text="Not in the future, not in a closed month.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    is_advance = serializers.BooleanField(
        required=False, default=False, help_text="Statements only: the lead paid before collecting."
    )


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = SettlementRun
        fields = [
            "id",
            "network",
            "kind",
            "period",
            "status",
            "progress_done",
            "progress_total",
            "error",
            "started_at",
            "finished_at",
            "reopened_at",
            "reopen_reason",
        ]
        read_only_fields = fields


class RunStartSerializer(serializers.Serializer):
    network = serializers.PrimaryKeyRelatedField(queryset=Network.objects.none())
    kind = serializers.ChoiceField(choices=RunKind.choices, default=RunKind.MONTHLY_CLOSE)
    period = serializers.DateField(
        help_text="First day of the month to close, or of the fiscal year to bill."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            roles = roles_of(request.user)
            networks = Network.objects.all()
            if not roles.is_platform_admin:
                networks = networks.filter(pk__in=roles.secretariat_network_ids)
            self.fields["network"].queryset = networks


class RunQueuedSerializer(serializers.Serializer):
    queued = serializers.BooleanField()
    network = serializers.IntegerField()
    kind = serializers.CharField()
    period = serializers.DateField()
    run = RunSerializer(allow_null=True)


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class LedgerRowSerializer(serializers.Serializer):
    date = serializers.DateField()
    entry = serializers.ChoiceField(choices=["billed", "owes", "cancelled", "received", "paid"])
    document = serializers.IntegerField(source="document.pk")
    document_number = serializers.CharField(source="document.number")
    payment = serializers.IntegerField(source="payment.pk", allow_null=True, default=None)
    counterparty = serializers.CharField()
    amount_yen = serializers.IntegerField()
    balance_yen = serializers.IntegerField()


# ---------------------------------------------------------------------------------------
# Views

FILTER_PARAMETERS = [
    OpenApiParameter("kind", str, enum=[c[0] for c in Document._meta.get_field("kind").choices]),
    OpenApiParameter("status", str, enum=["issued", "cancelled"]),
    OpenApiParameter("network", int),
    OpenApiParameter("issuer", int, description="Issuing company id."),
    OpenApiParameter("recipient", int, description="Receiving company id."),
    OpenApiParameter("from", OpenApiTypes.DATE, description="Issued on or after."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Issued on or before."),
    OpenApiParameter("amount_min", int, description="Total (tax included) at least, in yen."),
    OpenApiParameter("amount_max", int, description="Total (tax included) at most, in yen."),
    OpenApiParameter("q", str, description="Part of the number, the issuer's or recipient's name."),
]
BINARY = {(200, "application/pdf"): OpenApiTypes.BINARY}
CSV = {(200, "text/csv"): OpenApiTypes.BINARY}


def _filtered(queryset, params):
    form = DocumentFilterForm(params)
    if not form.is_valid():
        raise ValidationError(form.errors_by_query_name())
    return form.apply(queryset)


class DocumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Issued documents (請求書, 支払明細, 手数料, 年会費) the caller issued, received or staffs;
    a buyer its own invoices."""

    selector = staticmethod(selectors.document_list)
    model = Document
    serializer_class = DocumentSerializer
    pagination_class = KeysetPagination
    filter_backends = []

    def get_queryset(self):
        return paper.with_lines(super().get_queryset())

    @extend_schema(parameters=FILTER_PARAMETERS, summary="List documents")
    def list(self, request, *args, **kwargs):
        documents = _filtered(self.get_queryset(), request.query_params)
        page = self.paginate_queryset(documents)
        context = {**self.get_serializer_context(), "paid": paper.paid_map(page)}
        serializer = DocumentSerializer(page, many=True, context=context)
        return self.get_paginated_response(serializer.data)

    @extend_schema(summary="One document with its lines and totals per tax rate")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(summary="The document as a PDF (qualified-invoice layout)", responses=BINARY)
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        document = self.get_object()
        return pdf.download(paper.document_pdf(document), paper.filename(document, "pdf"))

    @extend_schema(
        summary="The document as CSV for accounting software (UTF-8 with BOM)", responses=CSV
    )
    @action(detail=True, methods=["get"])
    def csv(self, request, pk=None):
        document = self.get_object()
        return paper.csv_download(paper.document_csv(document), paper.filename(document, "csv"))

    @extend_schema(
        summary="The listed documents as CSV (one row per document)",
        parameters=FILTER_PARAMETERS,
        responses=CSV,
    )
    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request):
        documents = _filtered(self.get_queryset(), request.query_params)
        return paper.csv_download(paper.document_list_csv(documents), "documents.csv")

    @extend_schema(
        summary="Record a payment against the document",
        description=(
            "The lead records the buyer's payment of its invoice and its own payments to its "
            "members; the secretariat fees and commissions (else 403). Refused with the field: "
            "`amount_yen` (not positive, more than outstanding), `paid_on` (future, closed "
            "month), `document` (cancelled: 409)."
        ),
        request=PaymentInputSerializer,
        responses={201: PaymentSerializer},
    )
    @action(detail=True, methods=["post"])
    def payments(self, request, pk=None):
        document = self.get_object()
        data = PaymentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = payment_record(actor=request.user, document=document, **data.validated_data)
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Payments recorded on the documents the caller may see."""

    selector = staticmethod(selectors.payment_list)
    model = Payment
    serializer_class = PaymentSerializer
    filter_backends = []

    @extend_schema(parameters=[OpenApiParameter("document", int)], summary="List payments")
    def list(self, request, *args, **kwargs):
        payments = self.get_queryset()
        document = request.query_params.get("document")
        if document:
            if not document.isdigit():
                raise ValidationError({"document": [_("Give a document id.")]})
            payments = payments.filter(document_id=int(document))
        page = self.paginate_queryset(payments)
        return self.get_paginated_response(PaymentSerializer(page, many=True).data)


class SettlementRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Settlement runs (月次締め, 年会費) of the networks the caller staffs."""

    selector = staticmethod(selectors.run_list)
    model = SettlementRun
    serializer_class = RunSerializer
    filter_backends = []

    @extend_schema(
        summary="Start a monthly close or the annual fees (queued)",
        description=(
            "Secretariat only. Queues the run for the settlement worker after commit and answers "
            "202; poll the list for progress. A stopped run resumes, a reopened one recomputes; "
            "a month already closed is 409 (reopen it first)."
        ),
        request=RunStartSerializer,
        responses={202: RunQueuedSerializer},
    )
    def create(self, request):
        if not roles_of(request.user).is_any_secretariat:
            raise NotAllowed(_("Only the network's secretariat may run the settlement."))
        data = RunStartSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        network, kind, period = (data.validated_data[k] for k in ("network", "kind", "period"))
        run = run_queue(actor=request.user, network=network, kind=kind, period=period)
        body = {
            "queued": True,
            "network": network.pk,
            "kind": kind,
            "period": period,
            "run": run,
        }
        return Response(RunQueuedSerializer(body).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Reopen a completed run for correction (secretariat, with a reason)",
        request=ReopenSerializer,
        responses={200: RunSerializer},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        run = self.get_object()
        data = ReopenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = run_reopen(actor=request.user, run=run, reason=data.validated_data["reason"])
        return Response(RunSerializer(run).data)


class LedgerView(APIView):
    """A company's ledger (取引台帳): for its own users and its networks' staff (404 for
    anyone else)."""

    @extend_schema(
        summary="A company's ledger with the running balance",
        parameters=[OpenApiParameter("company", int, description="Default: the caller's company.")],
        responses=LedgerRowSerializer(many=True),
    )
    def get(self, request):
        company_id = request.query_params.get("company") or roles_of(request.user).company_id
        if company_id is None:
            raise ValidationError({"company": [_("Give a company id.")]})
        if not str(company_id).isdigit():
            raise ValidationError({"company": [_("Give a company id.")]})
        company = get_object_or_404(Company, pk=int(company_id))
        try:
            rows = selectors.ledger(company=company, viewer=request.user)
        except NotAllowed as exc:
            raise Http404 from exc
        return Response(LedgerRowSerializer(rows, many=True).data)


router = DefaultRouter()
router.register("documents", DocumentViewSet, basename="document")
router.register("payments", PaymentViewSet, basename="payment")
router.register("settlement-runs", SettlementRunViewSet, basename="settlement-run")
urlpatterns = [
    path("ledger/", LedgerView.as_view(), name="api-ledger"),
    *router.urls,
]
