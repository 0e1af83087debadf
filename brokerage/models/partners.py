"""Partners (連携先) reaching the network through the REST API: partner networks and buyers'
purchasing systems, their API keys and usage log, the inquiries they submitted, the change
feed and the outgoing webhooks with their delivery log."""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

from core.models import DomainEvent
from members.models import Buyer, Network
from orders.models import Inquiry


class PartnerKind(models.TextChoices):
    NETWORK = "network", _("Partner network (連携ネットワーク)")
    PURCHASING_SYSTEM = "purchasing_system", _("Buyer's purchasing system")


class PartnerOrganisation(models.Model):
    """A partner (連携先) admitted by a network's secretariat: another network (on this
    platform or elsewhere) or a buyer's purchasing system.

    It acts through API keys; `service_user` is the account its requests run as (no password,
    no roles), so every change it makes is recorded with an actor.
    """

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="partner_organisations"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=PartnerKind.choices)
    name = models.CharField(_("name"), max_length=200)
    # The partner network's own tenant when it runs on this platform (referrals to it).
    linked_network = models.ForeignKey(
        Network,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("network on this platform"),
    )
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="partner_organisation",
        editable=False,
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("partner organisation")
        ordering = ["network", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "name"],
                name="one_partner_name_per_network",
                violation_error_message=_("This network already has a partner of this name."),
            ),
            models.UniqueConstraint(
                fields=["network", "linked_network"],
                condition=Q(linked_network__isnull=False),
                name="one_partner_per_linked_network",
                violation_error_message=_("This network is already a partner."),
            ),
        ]

    def __str__(self):
        return self.name


class ApiScope(models.TextChoices):
    CATALOGUE_READ = "catalogue:read", _("Read the capability catalogue")
    INQUIRIES_WRITE = "inquiries:write", _("Submit inquiries for buyers and follow them")
    REFERRALS_RECEIVE = "referrals:receive", _("Receive referrals and answer them")


class PartnerApiKeyManager(APIKeyManager):
    def get_usable_keys(self) -> models.QuerySet:
        return (
            super()
            .get_usable_keys()
            .filter(organisation__is_active=True)
            .select_related("organisation__service_user", "organisation__network")
        )


class PartnerApiKey(AbstractAPIKey):
    """An API key of a partner: `<prefix>.<secret>`, stored as a SHA-512 hash and found by its
    prefix. The full key is shown once, when created; revoking is final."""

    objects = PartnerApiKeyManager()

    organisation = models.ForeignKey(
        PartnerOrganisation, on_delete=models.CASCADE, related_name="api_keys"
    )
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("partner API key")
        verbose_name_plural = _("partner API keys")

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class ApiKeyUsage(models.Model):
    """One request made with a key: kept small (one insert per request), pruned after
    `PARTNER_API_USAGE_DAYS`."""

    key = models.ForeignKey(PartnerApiKey, on_delete=models.CASCADE, related_name="usage")
    at = models.DateTimeField(auto_now_add=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["key", "-at"], name="api_usage_key_at"),
            models.Index(fields=["at"], name="api_usage_at"),
        ]

    def __str__(self):
        return f"{self.key.prefix} {self.method} {self.path} {self.status}"


class PartnerBuyer(models.Model):
    """A buyer for whom a partner submits inquiries. `buyer.user` is an account without
    password or login that acts as that buyer (the inquiry flow lets only a buyer submit,
    answer and withdraw its own inquiries)."""

    organisation = models.ForeignKey(
        PartnerOrganisation, on_delete=models.CASCADE, related_name="buyers"
    )
    buyer = models.OneToOneField(Buyer, on_delete=models.PROTECT, related_name="partner_link")
    email = models.EmailField()  # lower-cased: the partner's key for the buyer
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "email"], name="one_partner_buyer_per_email"
            )
        ]

    def __str__(self):
        return f"{self.buyer} via {self.organisation}"


class PartnerInquiry(models.Model):
    """An inquiry a partner submitted for its buyer: the partner may follow it."""

    organisation = models.ForeignKey(
        PartnerOrganisation, on_delete=models.PROTECT, related_name="inquiries"
    )
    inquiry = models.OneToOneField(Inquiry, on_delete=models.CASCADE, related_name="partner_link")
    idempotency_key = models.CharField(max_length=100, blank=True)
    partner_reference = models.CharField(_("partner's reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="one_partner_inquiry_per_idempotency_key",
            )
        ]

    def __str__(self):
        return f"{self.inquiry.reference} via {self.organisation}"


class FeedAudience(models.TextChoices):
    SUBMITTER = "submitter", _("Events of inquiries the partner submitted")
    TARGET = "target", _("Events of referrals offered to the partner")


class FeedEntry(models.Model):
    """One event in one partner's change feed, seen as the inquiry's submitter or as a
    referral's target (each read with its own API scope).

    `id` is the feed position. Entries are inserted under one lock held until commit (see
    `brokerage.feed`), so positions become visible in increasing order: a reader that has
    seen position n will never later find a committed entry below n.
    """

    organisation = models.ForeignKey(
        PartnerOrganisation, on_delete=models.CASCADE, related_name="feed"
    )
    event = models.ForeignKey(DomainEvent, on_delete=models.CASCADE, related_name="+")
    audience = models.CharField(max_length=10, choices=FeedAudience.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "event", "audience"], name="one_feed_entry"
            )
        ]
        indexes = [models.Index(fields=["organisation", "id"], name="feed_org_position")]

    def __str__(self):
        return f"{self.organisation_id}#{self.pk}: event {self.event_id}"


class WebhookEndpoint(models.Model):
    """Where a partner wants events pushed. `secret` (`whsec_…`) signs every delivery with
    the Standard Webhooks scheme; `event_kinds` empty means every event the partner may see.

    The secret is shown once (creation, rotation) and afterwards only as `secret_fingerprint`;
    it is kept in the database because the server must sign with it. After a rotation the
    previous secret signs too until `previous_secret_expires_at` (an overlap for the receiver).
    """

    organisation = models.ForeignKey(
        PartnerOrganisation, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    event_kinds = models.JSONField(_("events"), default=list, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        ordering = ["organisation", "id"]

    def __str__(self):
        return self.url

    def wants(self, kind: str) -> bool:
        return not self.event_kinds or kind in self.event_kinds

    @property
    def secret_fingerprint(self) -> str:
        """What list and detail show of the secret: enough to tell two apart, nothing to
        sign with (the first 8 hex digits of its SHA-256)."""
        return "whsec_…" + hashlib.sha256(self.secret.encode()).hexdigest()[:8]

    def signing_secrets(self, now) -> list[str]:
        """The secrets a delivery at `now` is signed with: the current one, and the previous
        one while its overlap lasts."""
        secrets = [self.secret]
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires and now < expires:
            secrets.append(self.previous_secret)
        return secrets


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed (retries exhausted)")


class WebhookDelivery(models.Model):
    """One event sent to one endpoint; `webhook-id` is `msg_<id>`, the same on every attempt
    and re-send, so the receiver can drop duplicates."""

    event = models.ForeignKey(DomainEvent, on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # When the next attempt may run (also the claim of an attempt in flight, see webhooks).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="one_delivery_per_event")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_delivery_due",
            ),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint"),
        ]

    def __str__(self):
        return f"{self.message_id} → {self.endpoint_id} ({self.status})"

    @property
    def message_id(self) -> str:
        return f"msg_{self.pk}"
