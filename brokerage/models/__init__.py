"""Brokerage models, one module per concern: notifications, referral, partners and webhooks."""

from .notifications import EmailStatus, Notification
from .partners import (
    ApiKeyUsage,
    ApiScope,
    DeliveryStatus,
    FeedAudience,
    FeedEntry,
    PartnerApiKey,
    PartnerBuyer,
    PartnerInquiry,
    PartnerKind,
    PartnerOrganisation,
    WebhookDelivery,
    WebhookEndpoint,
)
from .referral import (
    OfferStatus,
    Referral,
    ReferralCategory,
    ReferralOffer,
    ReferralStatus,
)

__all__ = [
    "ApiKeyUsage",
    "ApiScope",
    "DeliveryStatus",
    "EmailStatus",
    "FeedAudience",
    "FeedEntry",
    "Notification",
    "OfferStatus",
    "PartnerApiKey",
    "PartnerBuyer",
    "PartnerInquiry",
    "PartnerKind",
    "PartnerOrganisation",
    "Referral",
    "ReferralCategory",
    "ReferralOffer",
    "ReferralStatus",
    "WebhookDelivery",
    "WebhookEndpoint",
]
