from rest_framework.routers import DefaultRouter

from . import partners, referral, views, webhooks
from .record import RecordViewSet, ScorecardViewSet

router = DefaultRouter()
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register("referrals", referral.ReferralViewSet, basename="referral")
router.register("record", RecordViewSet, basename="record")
router.register("scorecards", ScorecardViewSet, basename="scorecard")
router.register("webhook-endpoints", webhooks.WebhookEndpointViewSet, basename="webhook-endpoint")
# The partner API (API-key authentication; docs/partners.md).
router.register("partner/catalogue", partners.PartnerCatalogueViewSet, basename="partner-catalogue")
router.register("partner/inquiries", partners.PartnerInquiryViewSet, basename="partner-inquiry")
router.register("partner/referrals", partners.PartnerReferralViewSet, basename="partner-referral")
router.register("partner/feed", partners.PartnerFeedViewSet, basename="partner-feed")
urlpatterns = router.urls
