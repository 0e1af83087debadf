"""The referral target's signed response link and its e-mail (the offer row is the outbox,
sent through core.mail)."""

import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from brokerage.models import EmailStatus, ReferralOffer
from core.mail import mail_render, outbox_mail_send
from core.queueing import enqueue_each

RESPONSE_SALT = "brokerage.referral.respond"
EMAIL_RELAY_GRACE_SECONDS = 30
MAX_EMAIL_ATTEMPTS = 8


def referral_response_token(offer: ReferralOffer) -> str:
    """The token of an offer's response link: signed, bound to the moment it was offered.

    The same offer always gives the same link (the notification, the e-mail and the page
    agree). A plain `Signer`, not `signing.dumps`: that one's `TimestampSigner` adds the
    second of signing, which no reader checks (the offer's `expires_at` limits the link),
    so two renderings a second apart gave two different links."""
    payload = {"o": offer.pk, "t": int(offer.offered_at.timestamp())}
    return signing.Signer(salt=RESPONSE_SALT).sign_object(payload, compress=True)


def referral_response_url(offer: ReferralOffer) -> str:
    path = reverse("referral_respond", args=[referral_response_token(offer)])
    return f"{settings.SITE_URL}{path}"


def referral_offer_from_token(token: str) -> ReferralOffer:
    """The offer a response link names. Raises `signing.BadSignature` for a tampered or
    unknown link."""
    if token.count(":") == 2:
        # A link sent before links became stable (`signing.dumps`: value:timestamp:signature).
        data = signing.loads(token, salt=RESPONSE_SALT)
    else:
        data = signing.Signer(salt=RESPONSE_SALT).unsign_object(token)
    if not isinstance(data, dict):
        raise signing.BadSignature("unknown offer")
    offer = (
        ReferralOffer.objects.select_related(
            "company",
            "partner_network",
            "referral__inquiry__network",
            "referral__inquiry__buyer",
            "referral__inquiry__material",
        )
        .filter(pk=data.get("o"))
        .first()
    )
    if (
        offer is None
        or offer.offered_at is None
        or int(offer.offered_at.timestamp()) != data.get("t")
    ):
        raise signing.BadSignature("unknown offer")
    return offer


def enqueue_offer_emails(offer_ids) -> int:
    """Queue the target e-mails. A broker outage is logged, not raised: the relay retries."""
    return enqueue_each("brokerage.referral_offer_email_task", offer_ids)


def referral_offer_email_send(*, offer_id: int) -> bool:
    """E-mail the target its offer (in Japanese) with the signed response link, if still
    pending. The row stays locked while sending, so a repeat sends once. A failure is
    recorded and re-raised for the task's retry; after MAX_EMAIL_ATTEMPTS it is `failed`."""
    with transaction.atomic():
        offer = (
            ReferralOffer.objects.select_for_update(of=("self",))
            .select_related(
                "company",
                "partner_network",
                "referral__inquiry__network",
                "referral__inquiry__buyer",
                "referral__inquiry__material",
            )
            .filter(pk=offer_id)
            .first()
        )
        if offer is None or offer.email_status != EmailStatus.PENDING:
            return False
        # In Japanese: the target has no account, hence no language of its own.
        subject, body = mail_render(
            "brokerage/notifications/referral_offer_target.txt",
            {**offer_context(offer), "link": referral_response_url(offer)},
            language=settings.LANGUAGE_CODE,
        )
        error = outbox_mail_send(
            offer,
            subject=subject,
            body=body,
            to=offer.target_email,
            max_attempts=MAX_EMAIL_ATTEMPTS,
        )
    if error is not None:
        raise error
    return True


def referral_offer_email_failed(*, offer_id: int, error: str) -> None:
    """Retries exhausted: the secretariat sees `failed` on the referral screen."""
    ReferralOffer.objects.filter(pk=offer_id, email_status=EmailStatus.PENDING).update(
        email_status=EmailStatus.FAILED, email_error=error[:2000]
    )


def referral_emails_relay(*, now: datetime.datetime | None = None) -> int:
    """Queue target e-mails still pending after the grace period (a broker outage)."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=EMAIL_RELAY_GRACE_SECONDS)
    ids = list(
        ReferralOffer.objects.filter(email_status=EmailStatus.PENDING, offered_at__lt=cutoff)
        .order_by("offered_at")
        .values_list("pk", flat=True)[:500]
    )
    return enqueue_offer_emails(ids)


def offer_context(offer: ReferralOffer) -> dict:
    """What a target may see of the inquiry: never the buyer's identity nor the
    confidential description when the inquiry needs an NDA and the buyer did not agree."""
    inquiry = offer.referral.inquiry
    shared = offer.confidential_shared
    return {
        "offer": offer,
        "referral": offer.referral,
        "inquiry": inquiry,
        "network": inquiry.network,
        "shared": shared,
        "buyer": inquiry.buyer if shared else None,
        "description": inquiry.description if shared else "",
    }
