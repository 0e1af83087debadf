"""The lead's project over HTTP: projects, work packages, invitations and agreements."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from core.api import ScopedViewSet
from members import selectors as member_selectors
from members.api.serializers import ScopedPrimaryKeyRelatedField
from members.models import Material, Process
from members.permissions import roles_of
from orders import execution, projects, selectors
from orders.models import Agreement, Invitation, Project, WorkPackage


class ProjectSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="inquiry.reference", read_only=True)
    title = serializers.CharField(source="inquiry.title", read_only=True)
    lead_name = serializers.CharField(source="lead.legal_name", read_only=True)
    buyer_name = serializers.SerializerMethodField()
    order_value_yen = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "id",
            "inquiry",
            "reference",
            "title",
            "network",
            "lead",
            "lead_name",
            "status",
            "buyer_name",
            "order_value_yen",
            "delivery_date",
            "payment_closing_day",
            "payment_month_offset",
            "payment_day",
            "share_buyer_identity",
            "share_order_value",
            "invitation_hours",
            "opened_at",
        ]
        read_only_fields = fields

    def _insider(self, project) -> bool:
        user = self.context["request"].user
        roles = roles_of(user)
        return (
            roles.acts_for(project.lead_id)
            or roles.is_staff_of(project.network_id)
            or project.inquiry.buyer.user_id == user.pk
        )

    def get_buyer_name(self, project) -> str | None:
        """Shown to team members only if the lead shares it."""
        if self._insider(project) or project.share_buyer_identity:
            return str(project.inquiry.buyer)
        return None

    def get_order_value_yen(self, project) -> int | None:
        if self._insider(project) or project.share_order_value:
            return project.order_value_yen
        return None


class ProjectOpenSerializer(serializers.Serializer):
    inquiry = serializers.IntegerField()
    order_value_yen = serializers.IntegerField(min_value=1)
    delivery_date = serializers.DateField()
    payment_closing_day = serializers.IntegerField(min_value=1, max_value=31, default=31)
    payment_month_offset = serializers.IntegerField(min_value=0, max_value=6, default=1)
    payment_day = serializers.IntegerField(min_value=1, max_value=31, default=31)
    share_buyer_identity = serializers.BooleanField(default=False)
    share_order_value = serializers.BooleanField(default=False)
    invitation_hours = serializers.IntegerField(min_value=1, max_value=336, default=72)


class PackageSerializer(serializers.ModelSerializer):
    process = serializers.SlugRelatedField(slug_field="code", read_only=True)
    material = serializers.SlugRelatedField(slug_field="code", read_only=True)
    reference = serializers.CharField(source="project.inquiry.reference", read_only=True)
    member_name = serializers.CharField(source="member.legal_name", read_only=True, default=None)
    amount_yen = serializers.IntegerField(read_only=True)

    class Meta:
        model = WorkPackage
        fields = [
            "id",
            "project",
            "reference",
            "process",
            "material",
            "quantity",
            "unit_price_yen",
            "amount_yen",
            "due_date",
            "packaging",
            "inspection_criteria",
            "member",
            "member_name",
            "self_performed",
            "status",
        ]
        read_only_fields = fields


class PackageInputSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    process = serializers.SlugRelatedField(
        slug_field="code", queryset=Process.objects.filter(is_active=True)
    )
    material = serializers.SlugRelatedField(
        slug_field="code", queryset=Material.objects.filter(is_active=True)
    )
    quantity = serializers.IntegerField(min_value=1)
    unit_price_yen = serializers.IntegerField(min_value=1)
    due_date = serializers.DateField()
    packaging = serializers.CharField(required=False, allow_blank=True, default="")
    inspection_criteria = serializers.CharField(required=False, allow_blank=True, default="")


class InviteSerializer(serializers.Serializer):
    company = ScopedPrimaryKeyRelatedField(member_selectors.company_list)


class InvitationSerializer(serializers.ModelSerializer):
    company_name = serializers.CharField(source="company.legal_name", read_only=True)
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True, default=list)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "package",
            "company",
            "company_name",
            "status",
            "invited_at",
            "expires_at",
            "responded_at",
            "reason",
            "warnings",
        ]
        read_only_fields = fields


class CancelReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class RespondSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class AgreementSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    is_accepted = serializers.BooleanField(read_only=True)

    class Meta:
        model = Agreement
        fields = [
            "id",
            "project",
            "member",
            "kind",
            "kind_display",
            "body",
            "lead_accepted_at",
            "member_accepted_at",
            "is_accepted",
        ]
        read_only_fields = fields


class BoardRowSerializer(serializers.Serializer):
    package = PackageSerializer()
    passed = serializers.IntegerField()
    awaiting_inspection = serializers.IntegerField()
    owed = serializers.IntegerField()
    late = serializers.BooleanField()
    due_soon = serializers.BooleanField()


class BoardSerializer(serializers.Serializer):
    project = ProjectSerializer()
    shippable = serializers.IntegerField()
    packages = BoardRowSerializer(many=True)


class ProjectViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Projects (プロジェクト). The awarded lead opens one from its inquiry; team members see
    the buyer and the order value only if the lead shares them."""

    selector = staticmethod(selectors.project_list)
    model = Project
    serializer_class = ProjectSerializer

    @extend_schema(request=ProjectOpenSerializer, responses={201: ProjectSerializer})
    def create(self, request):
        ser = ProjectOpenSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        inquiry = get_object_or_404(
            selectors.inquiry_list(viewer=request.user), pk=data.pop("inquiry")
        )
        project = projects.project_open(actor=request.user, inquiry=inquiry, **data)
        return Response(self.get_serializer(project).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=BoardSerializer)
    @action(detail=True, methods=["get"])
    def board(self, request, pk=None):
        """Lead and staff: every package with what passed inspection, awaits it and is still
        owed, what is late, and how many finished items can be shipped to the buyer."""
        project = self.get_object()
        roles = roles_of(request.user)
        if not (
            roles.acts_for(project.lead_id)
            or roles.is_staff_of(project.network_id)
            or roles.is_platform_admin
        ):
            raise PermissionDenied()
        data = {
            "project": project,
            "shippable": execution.shippable(project),
            "packages": selectors.project_board(project),
        }
        return Response(BoardSerializer(data, context=self.get_serializer_context()).data)


class PackageViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Work packages (作業分担): the lead adds them and invites members; a member sees what
    its package needs."""

    selector = staticmethod(selectors.package_list)
    model = WorkPackage
    serializer_class = PackageSerializer
    filterset_fields = ["project", "status"]

    @extend_schema(request=PackageInputSerializer, responses={201: PackageSerializer})
    def create(self, request):
        ser = PackageInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        project = get_object_or_404(
            selectors.project_list(viewer=request.user), pk=data.pop("project")
        )
        package = projects.package_add(actor=request.user, project=project, **data)
        return Response(self.get_serializer(package).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=InviteSerializer, responses={201: InvitationSerializer})
    @action(detail=True, methods=["post"])
    def invite(self, request, pk=None):
        """Lead: invite a joint-order member; the answer lists capacity warnings."""
        package = self.get_object()
        ser = InviteSerializer(data=request.data, context={"request": request})
        ser.is_valid(raise_exception=True)
        invitation, warnings = projects.invitation_send(
            actor=request.user, package=package, company=ser.validated_data["company"]
        )
        invitation.warnings = warnings
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=PackageSerializer)
    @action(detail=True, methods=["post"], url_path="self-perform")
    def self_perform(self, request, pk=None):
        """Lead: do this package itself."""
        package = projects.package_self_perform(actor=request.user, package=self.get_object())
        return Response(self.get_serializer(package).data)

    @extend_schema(request=CancelReasonSerializer, responses=PackageSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Lead: cancel a package no member has taken yet, with a reason; its open
        invitations are withdrawn and the members told."""
        ser = CancelReasonSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        package = projects.package_cancel(
            actor=request.user, package=self.get_object(), **ser.validated_data
        )
        return Response(self.get_serializer(package).data)

    @extend_schema(request=None, responses=PackageSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Member: start work (after both sides accepted the agreement)."""
        package = projects.package_start(actor=request.user, package=self.get_object())
        return Response(self.get_serializer(package).data)


class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Invitations to take a package: the member's own, and those its lead sent."""

    selector = staticmethod(selectors.invitation_list)
    model = Invitation
    serializer_class = InvitationSerializer
    filterset_fields = ["status", "package"]

    @extend_schema(request=RespondSerializer, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def respond(self, request, pk=None):
        """Member: accept (the first acceptance takes the package) or decline with a reason."""
        ser = RespondSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        invitation = projects.invitation_respond(
            actor=request.user, invitation=self.get_object(), **ser.validated_data
        )
        return Response(self.get_serializer(invitation).data)

    @extend_schema(request=CancelReasonSerializer, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Lead: take back an invitation not yet answered, with a reason the member is told."""
        ser = CancelReasonSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        invitation = projects.invitation_withdraw(
            actor=request.user, invitation=self.get_object(), **ser.validated_data
        )
        return Response(self.get_serializer(invitation).data)


class AgreementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Basic agreements (基本合意書) and NDAs between the lead and each member."""

    selector = staticmethod(selectors.agreement_list)
    model = Agreement
    serializer_class = AgreementSerializer
    filterset_fields = ["project", "member", "kind"]

    @extend_schema(request=None, responses=AgreementSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Lead or member: accept the agreement electronically (time and user recorded)."""
        agreement = projects.agreement_accept(actor=request.user, agreement=self.get_object())
        return Response(self.get_serializer(agreement).data)
