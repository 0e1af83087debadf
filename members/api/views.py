"""Thin API views: scoped queryset, input serializer, one service, output serializer."""

from functools import cached_property

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ScopedViewSet
from members import selectors, services
from members.models import (
    Capability,
    Company,
    DirectoryEntry,
    LeadAppointment,
    Material,
    Membership,
    MembershipStatus,
    Network,
    Process,
)
from members.permissions import roles_of

from . import filters, serializers


class MemberDetailsMixin:
    """Whether this request's caller sees member companies' contacts, people, spare capacity
    and fees (`members.selectors.sees_member_details`), decided once per request. The schema
    documents the full objects; the answer is chosen by the caller's role."""

    @cached_property
    def _details(self) -> bool:
        if getattr(self, "swagger_fake_view", False):
            return True
        return selectors.sees_member_details(self.request.user)


class NetworkViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Networks and their rules. The secretariat of a network changes its rules and fees."""

    selector = staticmethod(selectors.network_list)
    model = Network
    serializer_class = serializers.NetworkSerializer
    search_fields = ["name", "name_en", "slug"]
    ordering_fields = ["name", "id"]

    def partial_update(self, request, pk=None):
        network = self.get_object()
        ser = self.get_serializer(network, data=request.data, partial=True)
        ser.is_valid(raise_exception=True)
        network = services.network_update(
            actor=request.user, network=network, data=ser.validated_data
        )
        return Response(self.get_serializer(network).data)

    @extend_schema(request=serializers.FeeInputSerializer, responses=serializers.FeeSerializer)
    @action(detail=True, methods=["post"])
    def fees(self, request, pk=None):
        """Set the annual fee of one membership class. Existing members keep their fee."""
        network = self.get_object()
        ser = serializers.FeeInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        fee = services.network_set_fee(actor=request.user, network=network, **ser.validated_data)
        return Response(serializers.FeeSerializer(fee).data)


class CatalogueViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """The catalogue is public to read; any network's secretariat may extend it."""

    search_fields = ["code", "name_ja", "name_en"]
    ordering_fields = ["sort_order", "code"]
    create_service = None

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [AllowAny()]
        return super().get_permissions()

    def perform_create(self, serializer):
        serializer.instance = type(self).create_service(
            actor=self.request.user, data=serializer.validated_data
        )


class ProcessViewSet(CatalogueViewSet):
    selector = staticmethod(selectors.process_list)
    model = Process
    serializer_class = serializers.ProcessSerializer
    create_service = staticmethod(services.process_create)
    filterset_fields = ["category"]


class MaterialViewSet(CatalogueViewSet):
    selector = staticmethod(selectors.material_list)
    model = Material
    serializer_class = serializers.MaterialSerializer
    create_service = staticmethod(services.material_create)


class CompanyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    MemberDetailsMixin,
    ScopedViewSet,
):
    """Companies: members form the public catalogue; non-members only in the secretariat's
    directory. Filters on capability fields find companies with one capability meeting all."""

    selector = staticmethod(selectors.company_list)
    model = Company
    serializer_class = serializers.CompanySerializer
    search_fields = ["legal_name", "legal_name_kana", "name_en", "city"]
    ordering_fields = ["legal_name_kana", "prefecture", "id", "updated_at"]

    def get_serializer_class(self):
        """Buyers, partners and outsiders get the public company: no contacts, no capacity."""
        if self._details:
            return serializers.CompanySerializer
        return serializers.CompanyPublicSerializer

    @property
    def filterset_class(self):
        return filters.CompanyFilter if self._details else filters.CompanyPublicFilter

    def perform_create(self, serializer):
        serializer.instance = services.company_create(
            actor=self.request.user, data=serializer.validated_data
        )

    def partial_update(self, request, pk=None):
        company = self.get_object()
        ser = self.get_serializer(company, data=request.data, partial=True)
        ser.is_valid(raise_exception=True)
        company = services.company_update(
            actor=request.user, company=company, data=ser.validated_data
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=company.pk)).data)


class CapabilityViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    MemberDetailsMixin,
    ScopedViewSet,
):
    """Capabilities (process × material with limits). A company edits only its own."""

    selector = staticmethod(selectors.capability_list)
    model = Capability
    serializer_class = serializers.CapabilitySerializer

    def get_serializer_class(self):
        """Spare capacity (its value, filter and order) only for those who may see it."""
        if self._details:
            return serializers.CapabilitySerializer
        return serializers.CapabilityPublicSerializer

    @property
    def filterset_class(self):
        return filters.CapabilityFilter if self._details else filters.CapabilityPublicFilter

    @property
    def ordering_fields(self):
        fields = ["finish_ra_um", "lead_time_days", "id"]
        return [*fields, "spare_capacity_per_month"] if self._details else fields

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        company = data.pop("company")
        serializer.instance = services.capability_create(
            actor=self.request.user, company=company, data=data
        )

    @extend_schema(
        request=serializers.CapabilityUpdateSerializer,
        responses=serializers.CapabilitySerializer,
    )
    def partial_update(self, request, pk=None):
        capability = self.get_object()
        ser = serializers.CapabilityUpdateSerializer(
            capability, data=request.data, partial=True, context=self.get_serializer_context()
        )
        ser.is_valid(raise_exception=True)
        capability = services.capability_update(
            actor=request.user, capability=capability, data=ser.validated_data
        )
        return Response(self.get_serializer(capability).data)

    def perform_destroy(self, instance):
        services.capability_delete(actor=self.request.user, capability=instance)


class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    MemberDetailsMixin,
    ScopedViewSet,
):
    """Memberships. The secretariat admits, suspends, reactivates and ends them."""

    selector = staticmethod(selectors.membership_list)
    model = Membership
    serializer_class = serializers.MembershipSerializer
    filterset_class = filters.MembershipFilter
    ordering_fields = ["joined_on", "id"]

    def get_serializer_class(self):
        """The fee a company pays is for the network's people and its members, not buyers."""
        if self.action in ("list", "retrieve") and not self._details:
            return serializers.MembershipPublicSerializer
        return serializers.MembershipSerializer

    def perform_create(self, serializer):
        serializer.instance = services.membership_create(
            actor=self.request.user, **serializer.validated_data
        )

    def _change(self, request, to):
        membership = self.get_object()
        ser = serializers.StatusChangeInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        membership = services.membership_change_status(
            actor=request.user, membership=membership, to=to, **ser.validated_data
        )
        return Response(self.get_serializer(membership).data)

    @extend_schema(request=serializers.StatusChangeInputSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        return self._change(request, MembershipStatus.SUSPENDED)

    @extend_schema(request=serializers.StatusChangeInputSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        return self._change(request, MembershipStatus.ACTIVE)

    @extend_schema(request=serializers.StatusChangeInputSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        return self._change(request, MembershipStatus.ENDED)


class AppointmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Lead-company appointments: opened by the secretariat or committee, recommended by
    member companies, decided by the steering committee."""

    selector = staticmethod(selectors.appointment_list)
    model = LeadAppointment
    serializer_class = serializers.AppointmentSerializer
    filterset_class = filters.AppointmentFilter
    ordering_fields = ["opened_at", "id"]

    def get_queryset(self):
        return super().get_queryset().prefetch_related("recommendations__recommender")

    def perform_create(self, serializer):
        serializer.instance = services.appointment_open(
            actor=self.request.user, **serializer.validated_data
        )

    def _respond(self, appointment):
        return Response(self.get_serializer(self.get_queryset().get(pk=appointment.pk)).data)

    @extend_schema(request=serializers.RecommendInputSerializer)
    @action(detail=True, methods=["post"])
    def recommend(self, request, pk=None):
        appointment = self.get_object()
        ser = serializers.RecommendInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        services.appointment_recommend(
            actor=request.user, appointment=appointment, **ser.validated_data
        )
        return self._respond(appointment)

    @extend_schema(request=serializers.DecisionInputSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        appointment = self.get_object()
        ser = serializers.DecisionInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        appointment = services.appointment_decide(
            actor=request.user, appointment=appointment, **ser.validated_data
        )
        return self._respond(appointment)

    @extend_schema(request=serializers.WithdrawInputSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        appointment = self.get_object()
        ser = serializers.WithdrawInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        appointment = services.appointment_withdraw(
            actor=request.user, appointment=appointment, **ser.validated_data
        )
        return self._respond(appointment)


class DirectoryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """The non-member referral directory: the network's secretariat only."""

    selector = staticmethod(selectors.directory_list)
    model = DirectoryEntry
    serializer_class = serializers.DirectoryEntrySerializer
    filterset_class = filters.DirectoryFilter
    search_fields = ["company__legal_name", "company__legal_name_kana", "company__city"]

    def perform_create(self, serializer):
        serializer.instance = services.directory_add(
            actor=self.request.user, **serializer.validated_data
        )

    def partial_update(self, request, pk=None):
        entry = self.get_object()
        ser = self.get_serializer(entry, data=request.data, partial=True)
        ser.is_valid(raise_exception=True)
        data = {k: v for k, v in ser.validated_data.items() if k not in ("network", "company")}
        entry = services.directory_update(actor=request.user, entry=entry, data=data)
        return Response(self.get_serializer(entry).data)


class MeView(APIView):
    """Who the caller is and which roles it holds."""

    @extend_schema(responses=serializers.MeSerializer)
    def get(self, request):
        roles = roles_of(request.user)
        data = {
            "username": request.user.username,
            "company_id": request.user.company_id,
            "preferred_language": request.user.preferred_language,
            "secretariat_of": sorted(roles.secretariat_network_ids),
            "committee_of": sorted(roles.committee_network_ids),
            "is_buyer": roles.is_buyer,
        }
        return Response(serializers.MeSerializer(data).data, status=status.HTTP_200_OK)
