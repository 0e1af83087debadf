"""Partners through the API: organisations, keys, webhooks (services, for the secretariat);
inquiries submitted and followed on a buyer's behalf (services, for the partner); the fan-out
of dispatched events to the partners' feeds and webhooks; and the reads behind the pages.

A partner is admitted by one network's secretariat and acts only in that network.
"""

import secrets

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import BrokerageError, Conflict, NotAllowed
from core.models import DomainEvent
from members.locks import lock_one
from members.models import (
    Buyer,
    Capability,
    Membership,
    MembershipClass,
    MembershipStatus,
    Network,
    User,
)
from members.permissions import roles_of
from orders import selectors as order_selectors
from orders import services as order_services
from orders.models import Inquiry

from . import feed, referral, webhooks
from .models import (
    ApiKeyUsage,
    ApiScope,
    DeliveryStatus,
    FeedAudience,
    OfferStatus,
    PartnerApiKey,
    PartnerBuyer,
    PartnerInquiry,
    PartnerKind,
    PartnerOrganisation,
    ReferralOffer,
    WebhookDelivery,
    WebhookEndpoint,
)


def _account(prefix: str, *, last_name: str, first_name: str = "") -> User:
    """An account that cannot sign in: no usable password, inactive."""
    return User.objects.create(
        username=f"{prefix}-{secrets.token_hex(6)}",
        password=make_password(None),
        is_active=False,
        last_name=last_name[:150],
        first_name=first_name[:150],
    )


# ---------------------------------------------------------------------------------------
# Organisations, keys and endpoints (the secretariat)


def partner_create(
    *,
    actor,
    network: Network,
    name: str,
    kind: str = PartnerKind.NETWORK,
    linked_network: Network | None = None,
    contact_email: str = "",
) -> PartnerOrganisation:
    """Admit a partner network or a buyer's purchasing system to `network`. Creates its
    service account (the actor of everything it does through the API)."""
    roles_of(actor).require_secretariat(
        network.pk, _("Only the network's secretariat manages its partners.")
    )
    if linked_network is not None and linked_network.pk == network.pk:
        raise BrokerageError(_("A network is not its own partner."), field="linked_network")
    if kind != PartnerKind.NETWORK and linked_network is not None:
        raise BrokerageError(
            _("Only a partner network runs on this platform."), field="linked_network"
        )
    organisation = PartnerOrganisation(
        network=network,
        kind=kind,
        name=name.strip(),
        linked_network=linked_network,
        contact_email=contact_email,
        created_by=actor,
    )
    organisation.full_clean(exclude=["service_user"])
    try:
        with transaction.atomic():
            organisation.service_user = _account("partner", last_name=organisation.name)
            organisation.save()
    except IntegrityError as exc:
        raise Conflict(_("This partner already exists."), field="name") from exc
    return organisation


def partner_set_active(*, actor, organisation: PartnerOrganisation, active: bool):
    """Suspend (all its keys stop working at once) or reinstate a partner."""
    roles_of(actor).require_secretariat(
        organisation.network_id, _("Only the network's secretariat manages its partners.")
    )
    if organisation.is_active != active:
        organisation.is_active = active
        organisation.save(update_fields=["is_active"])
    return organisation


def _clean_scopes(scopes) -> list[str]:
    allowed = set(ApiScope.values)
    chosen = sorted(set(scopes))
    if not chosen:
        raise BrokerageError(_("Choose at least one scope."), field="scopes")
    if not set(chosen) <= allowed:
        raise BrokerageError(_("Unknown scope."), field="scopes")
    return chosen


def api_key_create(
    *, actor, organisation: PartnerOrganisation, name: str, scopes, expires_at=None
) -> tuple[PartnerApiKey, str]:
    """Issue a key. Returns the stored key (its hash and prefix only) and the full key, which
    is never stored nor shown again."""
    roles_of(actor).require_secretariat(
        organisation.network_id, _("Only the network's secretariat manages its partners.")
    )
    if not name.strip():
        raise BrokerageError(_("Name the key (e.g. the system that uses it)."), field="name")
    if expires_at is not None and expires_at <= timezone.now():
        raise BrokerageError(_("The expiry must be in the future."), field="expires_at")
    return PartnerApiKey.objects.create_key(
        organisation=organisation,
        name=name.strip()[:50],
        scopes=_clean_scopes(scopes),
        expiry_date=expires_at,
        created_by=actor,
    )


def api_key_revoke(*, actor, key: PartnerApiKey) -> PartnerApiKey:
    """Revoke a key for good: its next request answers 401."""
    roles_of(actor).require_secretariat(
        key.organisation.network_id, _("Only the network's secretariat manages its partners.")
    )
    with transaction.atomic():
        key = PartnerApiKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked:
            return key
        key.revoked = True
        key.revoked_at = timezone.now()
        key.revoked_by = actor
        key.save(update_fields=["revoked", "revoked_at", "revoked_by"])
    return key


def api_key_usage_record(*, key: PartnerApiKey, method: str, path: str, status: int) -> None:
    """Log one request made with a key (one insert)."""
    ApiKeyUsage.objects.create(key=key, method=method[:8], path=path[:300], status=status)


def api_key_usage_prune(*, days: int) -> int:
    cutoff = timezone.now() - timezone.timedelta(days=days)
    deleted, _detail = ApiKeyUsage.objects.filter(at__lt=cutoff).delete()
    return deleted


def _clean_kinds(kinds) -> list[str]:
    chosen = sorted(set(kinds or []))
    unknown = set(chosen) - set(feed.PUBLIC_EVENTS)
    if unknown:
        raise BrokerageError(_("Unknown event: %s") % sorted(unknown)[0], field="event_kinds")
    return chosen


def webhook_endpoint_create(
    *, actor, organisation: PartnerOrganisation, url: str, event_kinds=(), description=""
) -> WebhookEndpoint:
    """Register a partner's webhook URL with a new signing secret (the caller shows
    `endpoint.secret` once; afterwards only its fingerprint). No `event_kinds`: every event the
    partner may see. A URL whose host is, or resolves to, a non-public address is refused
    with the reason on `url` (checked again at every delivery: DNS may change)."""
    roles_of(actor).require_secretariat(
        organisation.network_id, _("Only the network's secretariat manages its partners.")
    )
    try:
        webhooks.check_target(url)
    except webhooks.UnsafeTarget as exc:
        raise BrokerageError(str(exc), field="url", code="unsafe_target") from exc
    endpoint = WebhookEndpoint(
        organisation=organisation,
        url=url,
        secret=webhooks.new_secret(),
        event_kinds=_clean_kinds(event_kinds),
        description=description,
        created_by=actor,
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def webhook_endpoint_rotate_secret(*, actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Give the endpoint a new signing secret (the caller shows it once). The old one keeps
    signing too for `PARTNER_WEBHOOK_SECRET_OVERLAP_HOURS`, so the receiver can switch
    without losing a delivery; a secret older than that (a second rotation within the
    overlap) stops at once."""
    roles_of(actor).require_secretariat(
        endpoint.organisation.network_id, _("Only the network's secretariat manages its partners.")
    )
    with transaction.atomic():
        endpoint = lock_one(WebhookEndpoint, endpoint.pk)
        now = timezone.now()
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + timezone.timedelta(
            hours=settings.PARTNER_WEBHOOK_SECRET_OVERLAP_HOURS
        )
        endpoint.secret = webhooks.new_secret()
        endpoint.secret_rotated_at = now
        endpoint.save(
            update_fields=[
                "secret",
                "previous_secret",
                "previous_secret_expires_at",
                "secret_rotated_at",
            ]
        )
    return endpoint


def webhook_endpoint_set_active(*, actor, endpoint: WebhookEndpoint, active: bool):
    roles_of(actor).require_secretariat(
        endpoint.organisation.network_id, _("Only the network's secretariat manages its partners.")
    )
    if endpoint.is_active != active:
        endpoint.is_active = active
        endpoint.save(update_fields=["is_active"])
    return endpoint


def webhook_delivery_resend(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again by hand (after the partner fixed its receiver): a fresh round of
    attempts, same `webhook-id`, so a receiver that had it already drops the repeat."""
    roles_of(actor).require_secretariat(
        delivery.endpoint.organisation.network_id,
        _("Only the network's secretariat manages its partners."),
    )
    with transaction.atomic():
        delivery = lock_one(WebhookDelivery, delivery.pk)
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = timezone.now()
        delivery.delivered_at = None
        delivery.save(update_fields=["status", "attempts", "next_attempt_at", "delivered_at"])
        transaction.on_commit(lambda: webhooks.enqueue_deliveries([delivery.pk]))
    return delivery


# ---------------------------------------------------------------------------------------
# Inquiries on a buyer's behalf (the partner)


def _buyer_for(organisation: PartnerOrganisation, buyer_data: dict) -> Buyer:
    """The partner's buyer with this e-mail, created on first use (with its account that
    acts as the buyer); name and contact details follow the latest submission."""
    email = buyer_data["email"].strip().lower()
    link = (
        PartnerBuyer.objects.select_related("buyer__user")
        .filter(organisation=organisation, email=email)
        .first()
    )
    fields = {k: buyer_data.get(k, "") for k in ("kind", "name", "organisation", "phone")}
    if link is not None:
        buyer = link.buyer
        changed = [k for k, v in fields.items() if v and getattr(buyer, k) != v]
        for k in changed:
            setattr(buyer, k, fields[k])
        if changed:
            buyer.full_clean()
            buyer.save(update_fields=changed)
        return buyer
    buyer = Buyer(email=email, **fields)
    buyer.full_clean(exclude=["user"])
    buyer.user = _account(
        "partner-buyer", last_name=buyer_data["name"], first_name=f"({organisation.name})"
    )
    buyer.save()
    PartnerBuyer.objects.create(organisation=organisation, buyer=buyer, email=email)
    return buyer


def partner_inquiry_submit(
    *,
    organisation: PartnerOrganisation,
    data: dict,
    buyer_data: dict,
    idempotency_key: str = "",
    partner_reference: str = "",
) -> tuple[Inquiry, bool]:
    """A partner submits an inquiry to its network for its buyer, through
    `orders.services.inquiry_submit` acting as that buyer.

    A retry with the same `idempotency_key` returns the first inquiry. Returns
    (inquiry, created). Records `inquiry.submitted` (the secretariat is notified).
    """
    with transaction.atomic():
        # One submission per partner at a time: a concurrent retry waits, then finds the first.
        lock_one(PartnerOrganisation, organisation.pk)
        if idempotency_key:
            existing = (
                PartnerInquiry.objects.select_related("inquiry")
                .filter(organisation=organisation, idempotency_key=idempotency_key)
                .first()
            )
            if existing is not None:
                return existing.inquiry, False
        buyer = _buyer_for(organisation, buyer_data)
        inquiry = order_services.inquiry_submit(
            actor=buyer.user,
            network=organisation.network,
            data=data,
            idempotency_key=idempotency_key,
        )
        PartnerInquiry.objects.create(
            organisation=organisation,
            inquiry=inquiry,
            idempotency_key=idempotency_key,
            partner_reference=partner_reference,
        )
    return inquiry, True


def _acting_buyer(organisation: PartnerOrganisation, inquiry: Inquiry):
    if not PartnerInquiry.objects.filter(organisation=organisation, inquiry=inquiry).exists():
        raise NotAllowed(_("This inquiry was not submitted by this partner."))
    return inquiry.buyer.user


def partner_inquiry_answer(*, organisation: PartnerOrganisation, inquiry: Inquiry, answer: str):
    """Answer the secretariat's question for the buyer."""
    actor = _acting_buyer(organisation, inquiry)
    return order_services.inquiry_answer(actor=actor, inquiry=inquiry, answer=answer)


def partner_inquiry_withdraw(*, organisation: PartnerOrganisation, inquiry: Inquiry, reason=""):
    """Withdraw the inquiry for the buyer."""
    actor = _acting_buyer(organisation, inquiry)
    return order_services.inquiry_withdraw(actor=actor, inquiry=inquiry, reason=reason)


def partner_inquiry_timeline(*, organisation: PartnerOrganisation, inquiry: Inquiry):
    """The timeline as the buyer sees it."""
    return order_selectors.timeline_entries(inquiry, viewer=_acting_buyer(organisation, inquiry))


# ---------------------------------------------------------------------------------------
# Referrals offered to a partner network (the partner)


def partner_offer_list(*, organisation: PartnerOrganisation) -> QuerySet[ReferralOffer]:
    """Offers of the admitting network's referrals made to this partner network (from the
    moment it was its turn)."""
    if organisation.linked_network_id is None:
        return ReferralOffer.objects.none()
    return (
        ReferralOffer.objects.filter(
            partner_network_id=organisation.linked_network_id,
            referral__inquiry__network_id=organisation.network_id,
        )
        .exclude(status=OfferStatus.PENDING)
        .select_related(
            "partner_network",
            "referral__inquiry__network",
            "referral__inquiry__buyer",
            "referral__inquiry__material",
        )
        .prefetch_related("referral__inquiry__processes")
        .order_by("-offered_at", "-id")
    )


def partner_offer_respond(
    *, organisation: PartnerOrganisation, offer: ReferralOffer, accept: bool, reason: str = ""
) -> ReferralOffer:
    """The partner network accepts or declines (with a reason) a referral offered to it,
    through `brokerage.referral.referral_respond`. Its key is the authority, as the signed
    link is for a company: the answer is recorded as given through the partner API."""
    if not partner_offer_list(organisation=organisation).filter(pk=offer.pk).exists():
        raise NotAllowed(_("This referral was not offered to this partner."))
    return referral.referral_respond(offer=offer, accept=accept, reason=reason, actor=None)


# ---------------------------------------------------------------------------------------
# Fan-out of dispatched events (called by brokerage.dispatch in its transaction)


def _audiences_for(event: DomainEvent) -> list[tuple[PartnerOrganisation, str]]:
    """Who may see the event: the partner that submitted the inquiry (its public events,
    and the acceptance of its referral), and the partner network a referral offer went to
    (the moves of that offer)."""
    if event.kind not in feed.PUBLIC_EVENTS:
        return []
    active = PartnerOrganisation.objects.filter(is_active=True).order_by("pk")
    audiences = []
    inquiry_id = feed.inquiry_id_of(event)
    if event.aggregate == "inquiry" or event.kind in feed.SUBMITTER_REFERRAL_EVENTS:
        audiences += [
            (org, FeedAudience.SUBMITTER) for org in active.filter(inquiries__inquiry_id=inquiry_id)
        ]
    target_network = event.payload.get("partner_network_id")
    if event.aggregate == "referral" and target_network and event.network_id:
        audiences += [
            (org, FeedAudience.TARGET)
            for org in active.filter(network_id=event.network_id, linked_network_id=target_network)
        ]
    return audiences


def partner_event_fan_out(*, event: DomainEvent) -> None:
    """Append the event to the feeds of the partners that may see it and create its webhook
    deliveries (sent after commit). The aggregate's earlier events that are not dispatched
    yet (lost to a broker outage) go first, so each partner's feed keeps their order."""
    earlier = list(
        DomainEvent.objects.filter(
            aggregate=event.aggregate,
            aggregate_id=event.aggregate_id,
            pk__lt=event.pk,
            dispatched_at__isnull=True,
        ).order_by("pk")
    )
    targets = [(e, _audiences_for(e)) for e in [*earlier, event]]
    feed.feed_append(targets=targets)
    for e, audiences in targets:
        organisations = list({org.pk: org for org, _audience in audiences}.values())
        webhooks.deliveries_create(event=e, organisations=organisations)


# ---------------------------------------------------------------------------------------
# Reads


def partner_list(*, viewer) -> QuerySet[PartnerOrganisation]:
    """Partners of the networks whose secretariat the viewer sits in."""
    roles = roles_of(viewer)
    qs = PartnerOrganisation.objects.select_related("network", "linked_network").annotate(
        active_keys=Count("api_keys", filter=Q(api_keys__revoked=False), distinct=True)
    )
    if roles.is_platform_admin:
        return qs
    return qs.filter(network_id__in=roles.secretariat_network_ids)


def webhook_endpoint_list(*, viewer) -> QuerySet[WebhookEndpoint]:
    """Webhook endpoints of the partners the viewer's secretariat manages."""
    return WebhookEndpoint.objects.filter(
        organisation__in=partner_list(viewer=viewer).values("pk")
    ).select_related("organisation")


def partner_inquiry_list(*, organisation: PartnerOrganisation) -> QuerySet[Inquiry]:
    return (
        Inquiry.objects.filter(partner_link__organisation=organisation)
        .select_related("network", "buyer", "material", "award__company", "partner_link")
        .prefetch_related("processes")
        .order_by("-submitted_at", "-id")
    )


def delivery_list(*, organisation: PartnerOrganisation) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(endpoint__organisation=organisation)
        .select_related("event", "endpoint")
        .order_by("-created_at", "-id")
    )


def catalogue(*, network: Network) -> list[dict]:
    """The network's public capability catalogue: per process and material, how many
    companies that take joint orders cover it, in which prefectures, and the aggregate limits.
    No company is named; no company's spare capacity is given."""
    takes_orders = Membership.objects.filter(
        company=OuterRef("company"),
        network=network,
        status=MembershipStatus.ACTIVE,
        membership_class__in=(MembershipClass.LEAD, MembershipClass.JOINT_ORDER),
    )
    capabilities = Capability.objects.filter(
        Exists(takes_orders), process__is_active=True, material__is_active=True
    )
    rows = (
        capabilities.values(
            "process_id",
            "process__code",
            "process__name_ja",
            "process__name_en",
            "process__category",
            "process__sort_order",
            "material_id",
            "material__code",
            "material__name_ja",
            "material__name_en",
            "material__sort_order",
        )
        .annotate(
            member_count=Count("company", distinct=True),
            max_length_mm=Max("max_length_mm"),
            max_width_mm=Max("max_width_mm"),
            max_height_mm=Max("max_height_mm"),
            max_weight_kg=Max("max_weight_kg"),
            finest_ra_um=Min("finish_ra_um"),
            lot_min=Min("lot_min"),
            lot_max=Max("lot_max"),
            shortest_lead_time_days=Min("lead_time_days"),
        )
        .order_by("process__sort_order", "process__code", "material__sort_order", "material__code")
    )
    prefectures: dict[tuple[int, int], set[str]] = {}
    companies: dict[int, set[int]] = {}
    for process_id, material_id, company_id, prefecture in capabilities.values_list(
        "process_id", "material_id", "company_id", "company__prefecture"
    ):
        prefectures.setdefault((process_id, material_id), set()).add(prefecture)
        companies.setdefault(process_id, set()).add(company_id)
    processes: dict[int, dict] = {}
    for row in rows:
        key = (row["process_id"], row["material_id"])
        process = processes.setdefault(
            row["process_id"],
            {
                "code": row["process__code"],
                "name_ja": row["process__name_ja"],
                "name_en": row["process__name_en"],
                "category": row["process__category"],
                "member_count": len(companies[row["process_id"]]),
                "prefectures": set(),
                "materials": [],
            },
        )
        process["prefectures"] |= prefectures[key]
        process["materials"].append(
            {
                "code": row["material__code"],
                "name_ja": row["material__name_ja"],
                "name_en": row["material__name_en"],
                "member_count": row["member_count"],
                "prefectures": sorted(prefectures[key]),
                "max_length_mm": row["max_length_mm"],
                "max_width_mm": row["max_width_mm"],
                "max_height_mm": row["max_height_mm"],
                "max_weight_kg": row["max_weight_kg"],
                "finest_ra_um": row["finest_ra_um"],
                "lot_min": row["lot_min"],
                "lot_max": row["lot_max"],
                "shortest_lead_time_days": row["shortest_lead_time_days"],
            }
        )
    result = list(processes.values())
    for process in result:
        process["prefectures"] = sorted(process["prefectures"])
    return result
