"""The inquiry flow over HTTP: thin views, one service each."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from core import idempotency
from core.api import ScopedViewSet
from core.errors import BrokerageError, NotAllowed
from core.pagination import KeysetPagination
from core.schema import IDEMPOTENCY_ERROR_RESPONSES
from members.permissions import roles_of
from orders import selectors, services
from orders.models import Application, Inquiry

from . import filters, serializers, window_schema

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "Up to 100 characters, new for each inquiry (e.g. a UUID). Retrying with the same key "
        "and the same body returns the first inquiry (200); the same key with another body "
        "answers 422 (`idempotency_key_reused`), and while the first request is still "
        "running 409 (`request_in_progress`)."
    ),
)


PAGE_PARAMS = {"cursor", "page_size"}


class InquiryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Inquiries (引き合い). Buyers see their own; the secretariat and committee their
    network's queue; lead companies the published calls of their networks."""

    selector = staticmethod(selectors.inquiry_list)
    model = Inquiry
    pagination_class = KeysetPagination
    filterset_class = filters.InquiryFilter
    search_fields = ["reference", "title"]
    ordering_fields = ["submitted_at", "application_deadline", "desired_delivery_date", "id"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_serializer_class(self):
        # The list is a summary; the detail and the actions' answers are the full inquiry.
        if self.action == "list":
            return serializers.InquiryListSerializer
        return serializers.InquirySerializer

    def get_queryset(self):
        if self.action == "list" and not getattr(self, "swagger_fake_view", False):
            return selectors.inquiry_row_list(viewer=self.request.user)  # flat rows
        return super().get_queryset()

    def filter_queryset(self, queryset):
        # Asked for no filter, search or ordering, the backends change nothing; building the
        # FilterSet and its form for that was a tenth of a list request.
        if self.request.query_params.keys() <= PAGE_PARAMS:
            return queryset
        return super().filter_queryset(queryset)

    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginator.paginate_queryset(
            queryset, request, view=self, rows=selectors.inquiry_rows
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _out(self, inquiry, status_code=status.HTTP_200_OK):
        inquiry = self.get_queryset().get(pk=inquiry.pk)
        return Response(self.get_serializer(inquiry).data, status=status_code)

    @extend_schema(
        request=serializers.InquiryInputSerializer,
        responses={
            201: serializers.InquirySerializer,
            200: serializers.InquirySerializer,
            **IDEMPOTENCY_ERROR_RESPONSES,
        },
        parameters=[IDEMPOTENCY_HEADER],
    )
    def create(self, request):
        ser = serializers.InquiryInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        network = data.pop("network")
        buyer_data = data.pop("buyer", None)
        processes = data.get("processes", [])
        inquiry, first_id = idempotency.run_once(
            request,
            scope="inquiry.create",
            find_result=lambda key: (
                Inquiry.objects.filter(entered_by=request.user, idempotency_key=key)
                .values_list("pk", flat=True)
                .first()
            ),
            work=lambda key: services.inquiry_submit(
                actor=request.user,
                network=network,
                data=data,
                buyer_data=buyer_data,
                idempotency_key=key,
            ),
            result_id=lambda inquiry: inquiry.pk,
        )
        if first_id is not None:  # a retry: the first request's inquiry
            return self._out(Inquiry(pk=first_id))
        inquiry = selectors.inquiry_as_submitted(inquiry, processes)
        answer = serializers.SubmittedInquirySerializer(
            inquiry, context=self.get_serializer_context()
        )
        return Response(answer.data, status=status.HTTP_201_CREATED)

    def _act(self, request, input_serializer, service, **extra):
        inquiry = self.get_object()
        kwargs = {}
        if input_serializer is not None:
            ser = input_serializer(data=request.data)
            ser.is_valid(raise_exception=True)
            kwargs = ser.validated_data
        service(actor=request.user, inquiry=inquiry, **kwargs, **extra)
        return self._out(inquiry)

    @extend_schema(request=serializers.PublishSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Secretariat: accept and open the application window."""
        return self._act(request, serializers.PublishSerializer, services.inquiry_publish)

    @extend_schema(request=serializers.QuestionSerializer)
    @action(detail=True, methods=["post"])
    def ask(self, request, pk=None):
        """Secretariat: ask the buyer a question; the inquiry waits for the answer."""
        return self._act(request, serializers.QuestionSerializer, services.inquiry_ask)

    @extend_schema(request=serializers.AnswerSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """Buyer: answer the secretariat's question."""
        return self._act(request, serializers.AnswerSerializer, services.inquiry_answer)

    @extend_schema(request=serializers.ReasonSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Secretariat: decline with a reason the buyer sees."""
        return self._act(request, serializers.ReasonSerializer, services.inquiry_reject)

    @extend_schema(request=serializers.ReasonSerializer)
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        """Secretariat: hand a special case to the steering committee."""
        return self._act(request, serializers.ReasonSerializer, services.inquiry_escalate)

    @extend_schema(request=serializers.CommitteeDecisionSerializer)
    @action(detail=True, methods=["post"], url_path="committee-decision")
    def committee_decision(self, request, pk=None):
        """Committee: accept (and publish) or decline an escalated inquiry, with votes."""
        return self._act(
            request, serializers.CommitteeDecisionSerializer, services.inquiry_committee_decide
        )

    @extend_schema(request=serializers.SplitSerializer)
    @action(detail=True, methods=["post"])
    def split(self, request, pk=None):
        """Secretariat: split a multi-process inquiry into stages, each worked in the network
        (this one or a partner) that does its processes."""
        inquiry = self.get_object()
        ser = serializers.SplitSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        stages = [(s["network"], s["processes"]) for s in ser.validated_data["stages"]]
        services.inquiry_split(actor=request.user, inquiry=inquiry, stages=stages)
        return self._out(inquiry)

    @extend_schema(request=serializers.ReferSerializer)
    @action(detail=True, methods=["post"])
    def refer(self, request, pk=None):
        """Secretariat: send to the referral path, with the reason's category."""
        return self._act(request, serializers.ReferSerializer, services.inquiry_refer)

    @extend_schema(request=serializers.ReasonSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Buyer: withdraw the inquiry."""
        return self._act(request, serializers.ReasonSerializer, services.inquiry_withdraw)

    @extend_schema(request=serializers.DeadlineSerializer, responses=window_schema.EXTEND)
    @action(detail=True, methods=["post"])
    def deadline(self, request, pk=None):
        """Secretariat: extend the application deadline of an open call, with a reason. Never
        earlier than the current deadline; every called lead is told."""
        return self._act(request, serializers.DeadlineSerializer, services.inquiry_extend_deadline)

    @extend_schema(request=serializers.ReasonSerializer, responses=window_schema.CLOSE)
    @action(detail=True, methods=["post"], url_path="close-applications")
    def close_applications(self, request, pk=None):
        """Secretariat: close the applications before the deadline, once every called lead
        has applied or declined. The leads are told before any price opens."""
        return self._act(request, serializers.ReasonSerializer, services.inquiry_close_applications)

    @extend_schema(
        request=serializers.CommitteeCloseSerializer, responses=window_schema.COMMITTEE_CLOSE
    )
    @action(detail=True, methods=["post"], url_path="committee-close-applications")
    def committee_close_applications(self, request, pk=None):
        """Committee: record the decision (votes, reason) to close the applications before
        the deadline. The leads are told before any price opens."""
        return self._act(
            request,
            serializers.CommitteeCloseSerializer,
            services.inquiry_committee_close_applications,
        )

    @extend_schema(request=serializers.ReasonSerializer, responses=window_schema.DECLINE)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Called lead: answer that the company does not apply, with a reason. It may still
        apply until the window closes."""
        ser = serializers.ReasonSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        call = services.call_decline(
            actor=request.user, inquiry=self.get_object(), reason=ser.validated_data["reason"]
        )
        return Response(serializers.LeadCallSerializer(call).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], url_path="open-applications")
    def open_applications(self, request, pk=None):
        """Committee: open the sealed applications together (where the network requires)."""
        return self._act(request, None, services.inquiry_open_applications)

    @extend_schema(request=serializers.ChooseSerializer)
    @action(detail=True, methods=["post"])
    def choose(self, request, pk=None):
        """Secretariat: pick the lead by coordination, with a written reason."""
        inquiry = self.get_object()
        ser = serializers.ChooseSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        application = Application.objects.filter(
            pk=ser.validated_data["application"], inquiry=inquiry
        ).first()
        if application is None:
            raise BrokerageError("Choose an application to this inquiry.", field="application")
        services.award_choose(
            actor=request.user,
            inquiry=inquiry,
            application=application,
            reason=ser.validated_data["reason"],
        )
        return self._out(inquiry)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], url_path="confirm-award")
    def confirm_award(self, request, pk=None):
        """Secretariat: confirm the proposed award."""
        return self._act(request, None, services.award_confirm)

    @extend_schema(
        request=serializers.AttachmentInputSerializer, responses=serializers.AttachmentSerializer
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def attachments(self, request, pk=None):
        """Buyer or secretariat: attach a drawing or photo (PDF, image, DXF, STEP; ≤ 20 MB)."""
        inquiry = self.get_object()
        ser = serializers.AttachmentInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        attachment = services.attachment_add(
            actor=request.user, inquiry=inquiry, upload=ser.validated_data["file"]
        )
        return Response(
            serializers.AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(responses=serializers.TimelineEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def timeline(self, request, pk=None):
        """What happened to the inquiry, oldest first."""
        inquiry = self.get_object()
        entries = selectors.timeline_entries(inquiry, viewer=request.user)
        return Response(serializers.TimelineEntrySerializer(entries, many=True).data)

    @extend_schema(responses=serializers.MatchesSerializer)
    @action(detail=True, methods=["get"])
    def matches(self, request, pk=None):
        """Secretariat and committee: the ranked member capabilities, with why in or out."""
        inquiry = self.get_object()
        if not roles_of(request.user).is_staff_of(inquiry.network_id):
            raise NotAllowed("Only the network's staff see the matching.")
        matches, uncovered = selectors.inquiry_matches(inquiry=inquiry)
        data = {
            "matches": [m.__dict__ for m in matches],
            "uncovered_processes": [p.code for p in uncovered],
        }
        return Response(serializers.MatchesSerializer(data).data)


class ApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Sealed applications (応募) of lead companies. A lead sees only its own; prices of
    others are null until the applications are opened after the deadline."""

    selector = staticmethod(selectors.application_list)
    model = Application
    serializer_class = serializers.ApplicationSerializer
    pagination_class = KeysetPagination
    filterset_fields = ["inquiry", "status"]
    # Named, so a cursor (which carries the last row's ordering values) holds only these.
    ordering_fields = ["created_at", "id"]

    @extend_schema(
        request=serializers.ApplicationInputSerializer,
        responses={201: serializers.ApplicationSerializer},
    )
    def create(self, request):
        ser = serializers.ApplicationInputSerializer(
            data=request.data, context={"request": request}
        )
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        inquiry = get_object_or_404(
            selectors.inquiry_list(viewer=request.user), pk=data.pop("inquiry")
        )
        application = services.application_place(actor=request.user, inquiry=inquiry, **data)
        return Response(
            self.get_serializer(self.get_queryset().get(pk=application.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=serializers.ApplicationReviseSerializer,
        responses=serializers.ApplicationSerializer,
    )
    def partial_update(self, request, pk=None):
        application = self.get_object()
        ser = serializers.ApplicationReviseSerializer(
            data=request.data, context={"request": request}
        )
        ser.is_valid(raise_exception=True)
        application = services.application_revise(
            actor=request.user, application=application, **ser.validated_data
        )
        return Response(self.get_serializer(application).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        application = services.application_withdraw(
            actor=request.user, application=self.get_object()
        )
        return Response(self.get_serializer(application).data)
