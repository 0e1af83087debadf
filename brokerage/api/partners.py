"""The partner API under /api/v1/partner/: authenticated by an API key (`Authorization:
Api-Key <key>`), each action requiring a scope, throttled per key, every request logged.

All views derive from `PartnerViewSet`, which carries the whole stack (key authentication,
scope check, throttle, usage log): no partner endpoint can skip it. See docs/partners.md.
"""

from django.db.models import Prefetch
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import authentication, exceptions, mixins, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.viewsets import GenericViewSet
from rest_framework_api_key.permissions import KeyParser

from brokerage import feed, partners
from brokerage.models import (
    ApiScope,
    FeedAudience,
    FeedEntry,
    PartnerApiKey,
    PartnerInquiry,
    ReferralOffer,
)
from core import idempotency
from core.schema import IDEMPOTENCY_ERROR_RESPONSES
from core.throttling import AtomicRateThrottle
from members.models import Buyer, Network
from orders.api.serializers import (
    AnswerSerializer,
    BuyerInputSerializer,
    InquiryInputSerializer,
    TimelineEntrySerializer,
)
from orders.models import INQUIRY_SPEC_FIELDS, Inquiry

# ---------------------------------------------------------------------------------------
# Authentication, scopes, throttling


class PartnerApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <prefix>.<secret>` → the partner's service account, with the
    key as `request.auth`. An unknown, revoked or expired key, or a suspended partner: 401."""

    keyword = "Api-Key"
    key_parser = KeyParser()

    def authenticate(self, request):
        key = self.key_parser.get(request)
        if not key:
            return None
        try:
            api_key = PartnerApiKey.objects.get_from_key(key)
        except PartnerApiKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.") from None
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        return api_key.organisation.service_user, api_key

    def authenticate_header(self, request):
        return self.keyword


class PartnerApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = PartnerApiKeyAuthentication
    name = "PartnerApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "A partner API key issued by the network's secretariat, sent as "
                "`Authorization: Api-Key <prefix>.<secret>`. Each endpoint needs one of the "
                "key's scopes: `catalogue:read`, `inquiries:write`, `referrals:receive`."
            ),
        }


class HasPartnerScope(permissions.BasePermission):
    """The key must carry one of the scopes the view's `scope_map` names for the action.
    An action missing from the map is refused (fail closed)."""

    def has_permission(self, request, view):
        key = request.auth
        if not isinstance(key, PartnerApiKey):
            return False
        wanted = view.scope_map.get(view.action, ())
        wanted = (wanted,) if isinstance(wanted, str) else tuple(wanted)
        if wanted and any(key.has_scope(scope) for scope in wanted):
            return True
        self.message = f"This API key lacks the scope {' or '.join(wanted) or '(none)'}."
        self.code = "missing_scope"
        return False


class PartnerKeyThrottle(AtomicRateThrottle):
    """Requests per key (`REST_FRAMEWORK.DEFAULT_THROTTLE_RATES.partner`) in a sliding
    window, counted atomically in the shared cache (core.throttling): exact under concurrent
    clients. Over the rate: 429 with Retry-After; Redis unreachable: allowed, logged."""

    scope = "partner"

    def get_rate(self):
        # Read at request time, so a changed setting (tests, reload) takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, PartnerApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}


class PartnerViewSet(GenericViewSet):
    """Base of every partner endpoint. Subclasses set `scope_map` (action → scope, or a tuple
    of scopes any of which will do)."""

    authentication_classes = [PartnerApiKeyAuthentication]
    permission_classes = [HasPartnerScope]
    throttle_classes = [PartnerKeyThrottle]
    lookup_value_regex = r"[0-9]+"
    scope_map: dict = {}

    @property
    def organisation(self):
        return self.request.auth.organisation

    def check_permissions(self, request):
        # Throttle before the scope check, so requests beyond a key's scopes count too.
        super().check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request):
        pass  # done in check_permissions

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        key = getattr(request, "_auth", None)
        if isinstance(key, PartnerApiKey):
            partners.api_key_usage_record(
                key=key, method=request.method, path=request.path, status=response.status_code
            )
        return response


# ---------------------------------------------------------------------------------------
# Catalogue


class CatalogueNetworkSerializer(serializers.ModelSerializer):
    class Meta:
        model = Network
        fields = ["id", "name", "name_en", "slug", "prefecture", "contact_email"]


class CatalogueMaterialSerializer(serializers.Serializer):
    code = serializers.CharField()
    name_ja = serializers.CharField()
    name_en = serializers.CharField()
    member_count = serializers.IntegerField(help_text="Companies taking joint orders.")
    prefectures = serializers.ListField(
        child=serializers.CharField(), help_text="JIS prefecture codes (01–47)."
    )
    max_length_mm = serializers.IntegerField()
    max_width_mm = serializers.IntegerField()
    max_height_mm = serializers.IntegerField()
    max_weight_kg = serializers.DecimalField(max_digits=9, decimal_places=2)
    finest_ra_um = serializers.DecimalField(
        max_digits=6, decimal_places=3, help_text="Finest finish reachable, as roughness Ra."
    )
    lot_min = serializers.IntegerField()
    lot_max = serializers.IntegerField()
    shortest_lead_time_days = serializers.IntegerField()


class CatalogueProcessSerializer(serializers.Serializer):
    code = serializers.CharField()
    name_ja = serializers.CharField()
    name_en = serializers.CharField()
    category = serializers.CharField()
    member_count = serializers.IntegerField()
    prefectures = serializers.ListField(child=serializers.CharField())
    materials = CatalogueMaterialSerializer(many=True)


class CatalogueSerializer(serializers.Serializer):
    network = CatalogueNetworkSerializer()
    processes = CatalogueProcessSerializer(many=True)


CATALOGUE_EXAMPLE = {
    "network": {
        "id": 1,
        "name": "磨き屋シンジケート",
        "name_en": "Migakiya Syndicate",
        "slug": "migakiya",
        "prefecture": "15",
        "contact_email": "info@example.jp",
    },
    "processes": [
        {
            "code": "buff",
            "name_ja": "バフ研磨",
            "name_en": "Buff polishing",
            "category": "polishing",
            "member_count": 12,
            "prefectures": ["15"],
            "materials": [
                {
                    "code": "stainless",
                    "name_ja": "ステンレス",
                    "name_en": "Stainless steel",
                    "member_count": 11,
                    "prefectures": ["15"],
                    "max_length_mm": 2000,
                    "max_width_mm": 1000,
                    "max_height_mm": 600,
                    "max_weight_kg": "80.00",
                    "finest_ra_um": "0.025",
                    "lot_min": 1,
                    "lot_max": 50000,
                    "shortest_lead_time_days": 3,
                }
            ],
        }
    ],
}


class PartnerCatalogueViewSet(PartnerViewSet):
    """The capability catalogue of the network that admitted the partner."""

    scope_map = {"list": ApiScope.CATALOGUE_READ}
    pagination_class = None
    queryset = Network.objects.none()  # unused: for the schema generator

    @extend_schema(
        summary="The network's public capability catalogue",
        description=(
            "Per process and material: how many companies taking joint orders cover it, in "
            "which prefectures, and the network's aggregate limits (largest size and weight, "
            "finest finish, lot range, shortest lead time). No company is named and no "
            "company's spare capacity is given. Scope `catalogue:read`."
        ),
        responses=CatalogueSerializer,
        examples=[OpenApiExample("Catalogue", value=CATALOGUE_EXAMPLE, response_only=True)],
    )
    def list(self, request):
        network = self.organisation.network
        data = {"network": network, "processes": partners.catalogue(network=network)}
        return Response(CatalogueSerializer(data).data)


# ---------------------------------------------------------------------------------------
# Inquiries on a buyer's behalf


class PartnerInquiryInputSerializer(InquiryInputSerializer):
    network = None  # always the network that admitted the partner
    buyer = BuyerInputSerializer(
        help_text="The partner's buyer. Buyers are told apart by e-mail within one partner."
    )
    partner_reference = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="The partner's own reference, echoed back.",
    )

    class Meta(InquiryInputSerializer.Meta):
        fields = [
            *(f for f in InquiryInputSerializer.Meta.fields if f != "network"),
            "partner_reference",
        ]


class BuyerOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Buyer
        fields = ["kind", "name", "organisation", "email", "phone"]


class PartnerAwardSerializer(serializers.Serializer):
    company_name = serializers.CharField()
    price_yen = serializers.IntegerField(help_text="Excluding consumption tax.")
    lead_time_days = serializers.IntegerField()
    confirmed_at = serializers.DateTimeField()


class ReferralContactSerializer(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)


class PartnerReferralSummarySerializer(serializers.Serializer):
    status = serializers.CharField()
    category = serializers.CharField()
    reason = serializers.CharField()
    accepted_by = ReferralContactSerializer(
        allow_null=True, help_text="Whom the buyer should contact, once a target accepted."
    )


class PartnerInquirySerializer(serializers.ModelSerializer):
    """An inquiry as its buyer sees it (sealed applications never appear)."""

    material = serializers.SlugRelatedField(slug_field="code", read_only=True)
    processes = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    partner_reference = serializers.CharField(source="partner_link.partner_reference")
    buyer = BuyerOutputSerializer()
    award = serializers.SerializerMethodField()
    referral = serializers.SerializerMethodField()

    class Meta:
        model = Inquiry
        fields = [
            "id",
            "reference",
            "partner_reference",
            "status",
            *INQUIRY_SPEC_FIELDS,
            "buyer",
            "submitted_at",
            "published_at",
            "application_deadline",
            "outcome_reason",
            "closed_at",
            "award",
            "referral",
        ]
        read_only_fields = fields

    @extend_schema_field(PartnerAwardSerializer(allow_null=True))
    def get_award(self, inquiry):
        award = getattr(inquiry, "award", None)
        if award is None or award.status != "confirmed":
            return None
        return {
            "company_name": award.company.legal_name,
            "price_yen": award.application.price_yen,
            "lead_time_days": award.application.lead_time_days,
            "confirmed_at": award.confirmed_at,
        }

    @extend_schema_field(PartnerReferralSummarySerializer(allow_null=True))
    def get_referral(self, inquiry):
        referral = getattr(inquiry, "referral", None)
        if referral is None:
            return None
        accepted = next((o for o in referral.offers.all() if o.status == "accepted"), None)
        contact = None
        if accepted is not None and accepted.company_id:
            company = accepted.company
            contact = {"name": company.legal_name, "email": company.email, "phone": company.phone}
        elif accepted is not None:
            target = accepted.partner_network
            contact = {"name": target.name, "email": target.contact_email, "phone": ""}
        return {
            "status": referral.status,
            "category": referral.category,
            "reason": referral.reason,
            "accepted_by": contact,
        }


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "Up to 100 characters, unique per inquiry within the partner (e.g. a UUID). A retry "
        "with the same key and body returns the first inquiry with 200 instead of creating "
        "another; the same key with another body answers 422 (`idempotency_key_reused`), "
        "and while the first request is still running 409 (`request_in_progress`)."
    ),
)

SUBMIT_EXAMPLE = {
    "title": "ステンレス製タンブラーの鏡面研磨",
    "description": "SUS304 タンブラー 500個、鏡面仕上げ。図面添付は後日。",
    "material": "stainless",
    "processes": ["buff"],
    "finish_kind": "mirror",
    "quantity": 500,
    "lot_pattern": "one_off",
    "length_mm": 90,
    "width_mm": 90,
    "height_mm": 150,
    "weight_kg": "0.30",
    "desired_delivery_date": "2027-03-31",
    "delivery_prefecture": "13",
    "delivery_city": "千代田区",
    "budget_yen": 400000,
    "nda_required": False,
    "buyer": {
        "kind": "company",
        "name": "山田 太郎",
        "organisation": "株式会社山田酒造",
        "email": "yamada@example.jp",
        "phone": "03-0000-0000",
    },
    "partner_reference": "PROSIUM-2027-0042",
}


class PartnerInquiryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerViewSet):
    """Inquiries the partner submitted for its buyers; it sees only its own (others: 404)."""

    scope_map = {
        "list": ApiScope.INQUIRIES_WRITE,
        "retrieve": ApiScope.INQUIRIES_WRITE,
        "create": ApiScope.INQUIRIES_WRITE,
        "timeline": ApiScope.INQUIRIES_WRITE,
        "answer": ApiScope.INQUIRIES_WRITE,
        "withdraw": ApiScope.INQUIRIES_WRITE,
    }
    serializer_class = PartnerInquirySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Inquiry.objects.none()
        return (
            partners.partner_inquiry_list(organisation=self.organisation)
            .select_related("referral", "award__application")
            .prefetch_related(
                Prefetch(
                    "referral__offers",
                    queryset=ReferralOffer.objects.select_related("company", "partner_network"),
                )
            )
        )

    def _out(self, inquiry, status_code=status.HTTP_200_OK):
        inquiry = self.get_queryset().get(pk=inquiry.pk)
        return Response(self.get_serializer(inquiry).data, status=status_code)

    @extend_schema(
        summary="List the partner's inquiries",
        description="Newest first. Scope `inquiries:write`.",
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="One inquiry: its status, outcome, award or referral",
        description="Scope `inquiries:write`. Another partner's inquiry: 404.",
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Submit an inquiry for a buyer",
        description=(
            "The inquiry goes to the window of the network that admitted the partner, in the "
            "buyer's name, exactly as a buyer's own would. Materials and processes by catalogue "
            "code. Scope `inquiries:write`. Send an `Idempotency-Key` so a retry after a "
            "timeout cannot create a second inquiry."
        ),
        request=PartnerInquiryInputSerializer,
        responses={
            201: PartnerInquirySerializer,
            200: PartnerInquirySerializer,
            **IDEMPOTENCY_ERROR_RESPONSES,
        },
        parameters=[IDEMPOTENCY_HEADER],
        examples=[OpenApiExample("Tumblers", value=SUBMIT_EXAMPLE, request_only=True)],
    )
    def create(self, request):
        ser = PartnerInquiryInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        buyer_data = data.pop("buyer")
        partner_reference = data.pop("partner_reference", "")
        # The same rules as a buyer's create (core.idempotency): 200, 409 or 422.
        made, first_id = idempotency.run_once(
            request,
            scope="partner.inquiry.create",
            find_result=lambda key: (
                PartnerInquiry.objects.filter(organisation=self.organisation, idempotency_key=key)
                .values_list("inquiry_id", flat=True)
                .first()
            ),
            work=lambda key: partners.partner_inquiry_submit(
                organisation=self.organisation,
                data=data,
                buyer_data=buyer_data,
                idempotency_key=key,
                partner_reference=partner_reference,
            ),
            result_id=lambda made: made[0].pk,
        )
        if first_id is not None:
            return self._out(Inquiry(pk=first_id))
        inquiry, created = made
        return self._out(inquiry, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="What happened to the inquiry, oldest first",
        description="Status changes and the secretariat's questions with the answers, as the "
        "buyer sees them. Scope `inquiries:write`.",
        responses=TimelineEntrySerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def timeline(self, request, pk=None):
        entries = partners.partner_inquiry_timeline(
            organisation=self.organisation, inquiry=self.get_object()
        )
        return Response(TimelineEntrySerializer(entries, many=True).data)

    @extend_schema(
        summary="Answer the secretariat's question for the buyer",
        description="Allowed while the inquiry waits for an answer (`question`); else 409.",
        request=AnswerSerializer,
        responses=PartnerInquirySerializer,
    )
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        inquiry = self.get_object()
        ser = AnswerSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        partners.partner_inquiry_answer(
            organisation=self.organisation, inquiry=inquiry, **ser.validated_data
        )
        return self._out(inquiry)

    @extend_schema(
        summary="Withdraw the inquiry for the buyer",
        description="Allowed until it is awarded, declined or referred; else 409.",
        request=WithdrawSerializer,
        responses=PartnerInquirySerializer,
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        inquiry = self.get_object()
        ser = WithdrawSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        partners.partner_inquiry_withdraw(
            organisation=self.organisation, inquiry=inquiry, **ser.validated_data
        )
        return self._out(inquiry)


# ---------------------------------------------------------------------------------------
# Referrals offered to a partner network


class ReferredInquirySerializer(serializers.ModelSerializer):
    material = serializers.SlugRelatedField(slug_field="code", read_only=True)
    processes = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    description = serializers.CharField(
        help_text="Empty when the buyer asked for confidentiality (NDA) and did not agree."
    )
    buyer = BuyerOutputSerializer(
        allow_null=True,
        help_text="Null when the buyer asked for confidentiality (NDA) and did not agree.",
    )

    class Meta:
        model = Inquiry
        fields = [
            "reference",
            "title",
            "description",
            "material",
            "processes",
            "quantity",
            "lot_pattern",
            "length_mm",
            "width_mm",
            "height_mm",
            "weight_kg",
            "finish_kind",
            "finish_grit",
            "finish_ra_input",
            "desired_delivery_date",
            "delivery_prefecture",
            "delivery_city",
            "nda_required",
            "buyer",
        ]
        read_only_fields = fields


class PartnerOfferSerializer(serializers.ModelSerializer):
    """A referral offered to the partner network: what it may see of the inquiry."""

    network = serializers.CharField(source="referral.inquiry.network.name")
    category = serializers.CharField(source="referral.category")
    reason = serializers.CharField(source="referral.reason")
    inquiry = serializers.SerializerMethodField()

    class Meta:
        model = ReferralOffer
        fields = [
            "id",
            "status",
            "network",
            "category",
            "reason",
            "offered_at",
            "expires_at",
            "responded_at",
            "decline_reason",
            "confidential_shared",
            "inquiry",
        ]
        read_only_fields = fields

    @extend_schema_field(ReferredInquirySerializer)
    def get_inquiry(self, offer):
        inquiry = offer.referral.inquiry
        shared = offer.confidential_shared
        data = ReferredInquirySerializer(inquiry).data
        if not shared:
            data["description"] = ""
            data["buyer"] = None
        return data


class DeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the partner cannot take it (required).")


class PartnerReferralViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerViewSet):
    """Referrals the network offered to this partner network, and its answers."""

    scope_map = dict.fromkeys(("list", "retrieve", "accept", "decline"), ApiScope.REFERRALS_RECEIVE)
    serializer_class = PartnerOfferSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReferralOffer.objects.none()
        return partners.partner_offer_list(organisation=self.organisation)

    @extend_schema(
        summary="List referrals offered to the partner",
        description="Newest first; `status` is `offered` while an answer is due by "
        "`expires_at`. Scope `referrals:receive`.",
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One referral offer", description="Scope `referrals:receive`.")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    def _respond(self, request, *, accept: bool, reason: str = ""):
        offer = partners.partner_offer_respond(
            organisation=self.organisation, offer=self.get_object(), accept=accept, reason=reason
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=offer.pk)).data)

    @extend_schema(
        summary="Accept the referral",
        description="The buyer is then told to contact the partner network. After "
        "`expires_at` or another answer: 409. Scope `referrals:receive`.",
        request=None,
        responses=PartnerOfferSerializer,
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._respond(request, accept=True)

    @extend_schema(
        summary="Decline the referral, with the reason",
        description="The network offers the inquiry to its next candidate. Scope "
        "`referrals:receive`.",
        request=DeclineSerializer,
        responses=PartnerOfferSerializer,
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        ser = DeclineSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        return self._respond(request, accept=False, reason=ser.validated_data["reason"])


# ---------------------------------------------------------------------------------------
# The change feed


class FeedInquiryRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(allow_null=True)


class FeedEventDataSerializer(serializers.Serializer):
    inquiry = FeedInquiryRefSerializer()
    reason = serializers.CharField(required=False, help_text="Declined, referred, withdrawn.")
    category = serializers.CharField(required=False, help_text="Why it was referred.")
    deadline = serializers.DateTimeField(required=False, help_text="Application deadline.")
    company_id = serializers.IntegerField(required=False, help_text="The awarded lead.")
    offer_id = serializers.IntegerField(required=False, help_text="The referral offer.")


class FeedEventSerializer(serializers.Serializer):
    """One event. Webhooks POST exactly this JSON, signed (see docs/partners.md)."""

    event_id = serializers.IntegerField(help_text="Unique; use it to drop repeats.")
    type = serializers.CharField(
        help_text="The event kind: " + ", ".join(f"`{kind}`" for kind in sorted(feed.PUBLIC_EVENTS))
    )
    timestamp = serializers.DateTimeField(help_text="When it happened.")
    data = FeedEventDataSerializer()


class FeedPageSerializer(serializers.Serializer):
    events = FeedEventSerializer(many=True)
    next_cursor = serializers.CharField(
        help_text="Pass as `cursor` to read on; store it once the events are processed."
    )
    has_more = serializers.BooleanField(help_text="More events are waiting: read again now.")


FEED_EXAMPLE = {
    "events": [
        {
            "event_id": 812,
            "type": "inquiry.published",
            "timestamp": "2027-01-12T10:04:31.120000+09:00",
            "data": {
                "inquiry": {"id": 97, "reference": "MIGAKIYA-2027-00097"},
                "deadline": "2027-01-19T10:04:31+09:00",
            },
        },
        {
            "event_id": 845,
            "type": "award.confirmed",
            "timestamp": "2027-01-20T15:30:02.004000+09:00",
            "data": {"inquiry": {"id": 97, "reference": "MIGAKIYA-2027-00097"}, "company_id": 31},
        },
    ],
    "next_cursor": "WzMsMTJd:1vB3xq:Hk2Zq1c0g7l6z8u0dVv1Y7cOqT2lN3rS0aQ9xW4eJbM",
    "has_more": False,
}


class PartnerFeedViewSet(PartnerViewSet):
    """The partner's change feed."""

    scope_map = {"list": (ApiScope.INQUIRIES_WRITE, ApiScope.REFERRALS_RECEIVE)}
    pagination_class = None
    queryset = FeedEntry.objects.none()  # unused: for the schema generator

    @extend_schema(
        summary="Every event the partner may see, in order, from a cursor",
        description=(
            "Events of the inquiries the partner submitted (scope `inquiries:write`) and of "
            "the referrals offered to it (scope `referrals:receive`), oldest first. Without "
            "`cursor` the feed starts at the beginning. Store `next_cursor` after processing "
            "a page; reading again from an older cursor returns the same events again, and "
            "no event is ever added behind a cursor already handed out, so a partner that "
            "resumes from its last stored cursor misses nothing. An invalid or another "
            "partner's cursor: 400."
        ),
        parameters=[
            OpenApiParameter("cursor", OpenApiTypes.STR, description="From `next_cursor`."),
            OpenApiParameter(
                "limit",
                OpenApiTypes.INT,
                description=f"Events per page, 1–{feed.MAX_LIMIT} (default {feed.DEFAULT_LIMIT}).",
            ),
        ],
        responses=FeedPageSerializer,
        examples=[OpenApiExample("A page", value=FEED_EXAMPLE, response_only=True)],
    )
    def list(self, request):
        key = request.auth
        audiences = [
            audience
            for audience, scope in (
                (FeedAudience.SUBMITTER, ApiScope.INQUIRIES_WRITE),
                (FeedAudience.TARGET, ApiScope.REFERRALS_RECEIVE),
            )
            if key.has_scope(scope)
        ]
        try:
            limit = int(request.query_params.get("limit", feed.DEFAULT_LIMIT))
        except ValueError:
            raise exceptions.ValidationError({"limit": ["A whole number."]}) from None
        page = feed.feed_page(
            organisation=self.organisation,
            audiences=audiences,
            cursor=request.query_params.get("cursor", ""),
            limit=limit,
        )
        return Response(
            {"events": page.events, "next_cursor": page.next_cursor, "has_more": page.has_more}
        )
