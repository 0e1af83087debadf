"""Factories of the brokerage app: notifications, partners (keys, feed, webhooks) and
referrals."""

import factory

from brokerage.models import (
    ApiKeyUsage,
    FeedAudience,
    FeedEntry,
    Notification,
    PartnerApiKey,
    PartnerBuyer,
    PartnerInquiry,
    PartnerKind,
    PartnerOrganisation,
    Referral,
    ReferralCategory,
    ReferralOffer,
    WebhookDelivery,
    WebhookEndpoint,
)
from brokerage.webhooks import new_secret

from .core import DomainEventFactory
from .members import BuyerFactory, CompanyFactory, NetworkFactory, UserFactory
from .orders import InquiryFactory


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    event_key = factory.Sequence(lambda n: f"event:{n}")
    kind = "inquiry.submitted"
    subject = "新しい引き合い"
    body = "新しい引き合いが届きました。"


class PartnerOrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerOrganisation

    network = factory.SubFactory(NetworkFactory)
    kind = PartnerKind.NETWORK
    name = factory.Sequence(lambda n: f"連携ネットワーク{n}")
    service_user = factory.SubFactory(
        UserFactory, username=factory.Sequence(lambda n: f"partner{n}")
    )


class PartnerApiKeyFactory(factory.django.DjangoModelFactory):
    """A key with every scope, made as the API makes one (hashed); the raw key is not kept:
    use brokerage.partners.api_key_create when a test calls the API with it."""

    class Meta:
        model = PartnerApiKey

    organisation = factory.SubFactory(PartnerOrganisationFactory)
    name = "system"
    scopes = factory.LazyFunction(
        lambda: ["catalogue:read", "inquiries:write", "referrals:receive"]
    )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        key, _raw = model_class.objects.create_key(**kwargs)
        return key


class ApiKeyUsageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiKeyUsage

    key = factory.SubFactory(PartnerApiKeyFactory)
    method = "GET"
    path = "/api/v1/partner/catalogue/"
    status = 200


class PartnerBuyerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerBuyer

    organisation = factory.SubFactory(PartnerOrganisationFactory)
    buyer = factory.SubFactory(BuyerFactory)
    email = factory.SelfAttribute("buyer.email")


class PartnerInquiryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerInquiry

    organisation = factory.SubFactory(PartnerOrganisationFactory)
    inquiry = factory.SubFactory(
        InquiryFactory, network=factory.SelfAttribute("..organisation.network")
    )


class FeedEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedEntry

    organisation = factory.SubFactory(PartnerOrganisationFactory)
    event = factory.SubFactory(DomainEventFactory)
    audience = FeedAudience.SUBMITTER


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    organisation = factory.SubFactory(PartnerOrganisationFactory)
    url = "https://hooks.example.jp/brokerage"
    secret = factory.LazyFunction(new_secret)


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    event = factory.SubFactory(DomainEventFactory)


class ReferralFactory(factory.django.DjangoModelFactory):
    """A referral searching for candidates, of an inquiry the network referred."""

    class Meta:
        model = Referral

    inquiry = factory.SubFactory(InquiryFactory, status="referral")
    category = ReferralCategory.LOCATION
    reason = "遠方のため"


class ReferralOfferFactory(factory.django.DjangoModelFactory):
    """The first candidate, a company of the directory, waiting its turn."""

    class Meta:
        model = ReferralOffer

    referral = factory.SubFactory(ReferralFactory)
    company = factory.SubFactory(CompanyFactory)
    rank = 1
