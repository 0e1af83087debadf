"""The secretariat's webhook endpoints over HTTP: list and read them (the signing secret only
as a fingerprint), register one (the secret in this response only), rotate the secret (the
new one in this response only; the old one keeps signing for the overlap). Another network's
endpoint is 404."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from brokerage import feed, partners
from brokerage.models import WebhookEndpoint
from core.api import ScopedViewSet


class WebhookEndpointSerializer(serializers.ModelSerializer):
    secret_fingerprint = serializers.CharField(
        read_only=True,
        help_text="Tells secrets apart (`whsec_…` + 8 hex digits of its SHA-256); the secret "
        "itself is shown only when created or rotated.",
    )
    previous_secret_valid_until = serializers.DateTimeField(
        source="previous_secret_expires_at",
        read_only=True,
        help_text="After a rotation: until then deliveries carry a signature with the old "
        "secret too.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "organisation",
            "url",
            "event_kinds",
            "description",
            "is_active",
            "secret_fingerprint",
            "secret_rotated_at",
            "previous_secret_valid_until",
            "created_at",
        ]
        read_only_fields = fields


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The signing secret (`whsec_…`). Shown in this response only: store it now.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointCreateSerializer(serializers.Serializer):
    organisation = serializers.IntegerField(help_text="The partner (one of your network's).")
    url = serializers.CharField(
        max_length=500,
        help_text="https URL whose host resolves to public addresses only (checked again at "
        "every delivery).",
    )
    event_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(feed.PUBLIC_EVENTS)),
        required=False,
        default=list,
        help_text="Empty: every event the partner may see.",
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


@extend_validation_errors(["unsafe_target", "invalid"], field_name="url", actions=["create"])
class WebhookEndpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Partners' webhook endpoints (the network's secretariat only)."""

    selector = staticmethod(partners.webhook_endpoint_list)
    model = WebhookEndpoint
    serializer_class = WebhookEndpointSerializer

    @extend_schema(
        request=WebhookEndpointCreateSerializer,
        responses={201: WebhookEndpointWithSecretSerializer},
        examples=[
            OpenApiExample(
                "Every event",
                value={"organisation": 3, "url": "https://hooks.example.jp/brokerage"},
                request_only=True,
            )
        ],
    )
    def create(self, request):
        """Register an endpoint. The URL is refused (400 on `url`, with the reason) when its
        host is, or resolves to, a private, loopback, link-local, multicast, unspecified or
        reserved address, also inside IPv4-mapped, NAT64, 6to4 or Teredo addresses. The
        signing secret is in this response only."""
        ser = WebhookEndpointCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        organisation = (
            partners.partner_list(viewer=request.user).filter(pk=data.pop("organisation")).first()
        )
        if organisation is None:
            raise ValidationError({"organisation": ["Not one of your network's partners."]})
        endpoint = partners.webhook_endpoint_create(
            actor=request.user, organisation=organisation, **data
        )
        return Response(
            WebhookEndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=None, responses=WebhookEndpointWithSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new signing secret, in this response only. Deliveries are signed with the new and
        the old secret (two `v1,` signatures) for `PARTNER_WEBHOOK_SECRET_OVERLAP_HOURS`
        (default 24), then with the new one only."""
        endpoint = partners.webhook_endpoint_rotate_secret(
            actor=request.user, endpoint=self.get_object()
        )
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)
