"""Guest inquiries: a visitor without an account asks through the public form.

The form's content is saved as a `GuestInquiryRequest` (limited per hour per visitor's
address and per e-mail address, by the network's `guest_inquiries_per_hour`) and a
confirmation link is e-mailed through the row's own outbox: queued after commit, sent by
`brokerage.guest_inquiry_email_task`, queued again by the relay job if the broker was down,
and sent once under a row lock. Nothing reaches the secretariat until the visitor confirms
by the link; confirming creates the buyer's account (no password) and the inquiry, once.

The subject of the e-mail is fixed text with the request's reference: the visitor's words
appear only in the body, on one line, as plain text.
"""

import datetime
import logging
import re
import unicodedata
from enum import StrEnum

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.errors import BrokerageError, TooManyRequests
from core.mail import outbox_mail_send
from core.queueing import enqueue_each
from core.transitions import record_creation, transition
from members.locks import lock_one
from members.models import Buyer, Material, Network, Process

from . import services
from .models import GuestInquiryRequest, Inquiry

logger = logging.getLogger(__name__)

R = GuestInquiryRequest
TOKEN_SALT = "orders.guest_inquiry_request"  # noqa: S105 (a signing salt, not a secret)
LINK_MAX_AGE = datetime.timedelta(days=2)
# The e-mail task lives in brokerage (a higher layer): queued by name, not imported.
EMAIL_TASK = "brokerage.guest_inquiry_email_task"
RELAY_GRACE_SECONDS = 30  # the after-commit enqueue goes first
RELAY_BATCH = 500
MAX_EMAIL_ATTEMPTS = 8
TITLE_IN_EMAIL = 100  # characters of the visitor's title quoted in the body


class GuestErrorCode(StrEnum):
    # 429: the network's hourly limit per visitor's address or per e-mail address is used up.
    TOO_MANY_REQUESTS = "guest_inquiries_per_hour"
    # 400: the link was changed, cut short or names no request.
    LINK_INVALID = "guest_link_invalid"
    # 400: the link is older than LINK_MAX_AGE and was not confirmed.
    LINK_EXPIRED = "guest_link_expired"
    # 400: the address belongs to an account that is not a buyer's: log in instead.
    HAS_ACCOUNT = "guest_has_account"


class GuestLinkError(BrokerageError):
    """A confirmation link that is not ours, was changed, or is too old."""

    code = GuestErrorCode.LINK_INVALID


# ---------------------------------------------------------------------------------------
# The request


def _sent_in_last_hour(network: Network, now: datetime.datetime, **match) -> int:
    return R.objects.filter(
        network=network, created_at__gt=now - datetime.timedelta(hours=1), **match
    ).count()


def guest_inquiry_request(
    *,
    network: Network,
    inquiry_data: dict,
    buyer_data: dict,
    ip_address: str | None,
    language: str = "ja",
) -> GuestInquiryRequest:
    """Save a guest's inquiry request and queue its confirmation e-mail (after commit).

    `inquiry_data`: the inquiry fields, JSON-ready (material and processes as ids);
    `buyer_data`: kind, name, organisation, email, phone. Refused with `TooManyRequests`
    when the visitor's address or the e-mail address has sent the network's
    `guest_inquiries_per_hour` requests in the last hour: nothing is saved or sent then.
    The network's row is locked while counting, so concurrent requests count exactly.
    Enqueues `brokerage.guest_inquiry_email_task`; the relay job covers a broker outage.
    """
    email = buyer_data["email"].strip().lower()
    with transaction.atomic():
        network = lock_one(Network, network.pk)
        if not network.is_active:
            raise BrokerageError(_("This network does not take inquiries."), field="network")
        limit = network.guest_inquiries_per_hour
        now = timezone.now()
        if _sent_in_last_hour(network, now, email=email) >= limit or (
            ip_address and _sent_in_last_hour(network, now, ip_address=ip_address) >= limit
        ):
            raise TooManyRequests(
                _(
                    "Too many inquiries were sent from this address or to this e-mail address "
                    "in the last hour. Please try again in an hour, or call the secretariat."
                ),
                code=GuestErrorCode.TOO_MANY_REQUESTS,
            )
        guest = R.objects.create(
            network=network,
            email=email,
            ip_address=ip_address or None,
            payload={"inquiry": inquiry_data, "buyer": {**buyer_data, "email": email}},
            language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
        )
        record_creation(guest, reason="guest form")
        pk = guest.pk
        transaction.on_commit(lambda: enqueue_guest_emails([pk]))
    return guest


# ---------------------------------------------------------------------------------------
# The confirmation e-mail (the row is its outbox)


def enqueue_guest_emails(request_ids) -> int:
    """Queue confirmation e-mails. A broker outage is logged, not raised: the relay retries."""
    return enqueue_each(EMAIL_TASK, request_ids)


def confirmation_token(guest: GuestInquiryRequest) -> str:
    """The link's token: the request's id, signed (its age is checked on the row)."""
    return signing.Signer(salt=TOKEN_SALT).sign_object({"r": guest.pk})


def confirmation_url(guest: GuestInquiryRequest) -> str:
    return settings.SITE_URL + reverse("guest_inquiry_confirm", args=[confirmation_token(guest)])


_CONTROL = re.compile(r"\s+")


def plain_line(text: str, limit: int) -> str:
    """Visitor's text as one line of plain text: control characters and line breaks become
    spaces, runs of blanks one space, at most `limit` characters."""
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text or ""
    )
    cleaned = _CONTROL.sub(" ", cleaned).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def email_subject(guest: GuestInquiryRequest) -> str:
    """Fixed text, the network's name and the reference: never anything the visitor typed."""
    from members.templatetags.members_tags import local_name

    return _("[%(network)s] Please confirm your inquiry (%(reference)s)") % {
        "network": local_name(guest.network),
        "reference": guest.reference,
    }


def email_message(guest: GuestInquiryRequest) -> tuple[str, str]:
    """(subject, body) in the visitor's language."""
    with translation.override(guest.language):
        body = render_to_string(
            "orders/guest_confirm_email.txt",
            {
                "reference": guest.reference,
                "title": plain_line(guest.payload["inquiry"].get("title", ""), TITLE_IN_EMAIL),
                "name": plain_line(guest.payload["buyer"].get("name", ""), 100),
                "link": confirmation_url(guest),
            },
        ).strip()
        return email_subject(guest), body


def guest_inquiry_email_send(*, request_id: int) -> bool:
    """Send a guest request's confirmation e-mail if still pending. Returns True if it sent.

    The row stays locked while sending, so a repeat (a redelivered task, the relay) waits and
    then finds it sent. A failure is recorded and re-raised for the task's retry; after
    MAX_EMAIL_ATTEMPTS the e-mail is marked failed and the relay leaves it alone.
    """
    with transaction.atomic():
        guest = (
            R.objects.select_for_update(of=("self",))
            .select_related("network")
            .filter(pk=request_id)
            .first()
        )
        if guest is None or guest.email_status != R.EmailStatus.PENDING:
            return False
        subject, body = email_message(guest)
        error = outbox_mail_send(
            guest, subject=subject, body=body, to=guest.email, max_attempts=MAX_EMAIL_ATTEMPTS
        )
    if error is not None:
        raise error
    return True


def guest_inquiry_email_failed(*, request_id: int, error: str) -> None:
    """Retries exhausted: the relay leaves it; the visitor can send the form again."""
    R.objects.filter(pk=request_id, email_status=R.EmailStatus.PENDING).update(
        email_status=R.EmailStatus.FAILED, email_error=error[:2000]
    )


def guest_inquiry_emails_relay(*, now: datetime.datetime | None = None) -> int:
    """Queue confirmation e-mails still pending after the grace period (a broker outage or a
    crash between commit and publish). Returns how many were queued."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=RELAY_GRACE_SECONDS)
    ids = list(
        R.objects.filter(
            email_status=R.EmailStatus.PENDING,
            created_at__lt=cutoff,
            created_at__gt=now - LINK_MAX_AGE,  # a link nobody can use any more is not sent
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:RELAY_BATCH]
    )
    return enqueue_guest_emails(ids)


# ---------------------------------------------------------------------------------------
# Confirmation


def guest_request_from_token(token: str) -> GuestInquiryRequest:
    """The guest request a link names. Raises GuestLinkError (field `token`, or `expired`)."""
    try:
        data = signing.Signer(salt=TOKEN_SALT).unsign_object(token)
        pk = int(data["r"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise GuestLinkError(
            _(
                "The confirmation link is incomplete or was changed. Please copy the whole "
                "link from the e-mail, or send the form again."
            ),
            field="token",
        ) from None
    guest = R.objects.select_related("network", "inquiry").filter(pk=pk).first()
    if guest is None:
        raise GuestLinkError(_("This confirmation link is not known."), field="token")
    if guest.status == R.Status.PENDING and _expired(guest):
        raise GuestLinkError(
            _(
                "The confirmation link has expired (it is valid for two days). "
                "Please send the form again."
            ),
            field="token",
            code=GuestErrorCode.LINK_EXPIRED,
        )
    return guest


def _expired(guest: GuestInquiryRequest) -> bool:
    return guest.created_at + LINK_MAX_AGE < timezone.now()


def guest_inquiry_data(guest: GuestInquiryRequest) -> dict:
    """The saved inquiry fields as `inquiry_submit` takes them (objects for the ids)."""
    from django import forms

    data = dict(guest.payload["inquiry"])
    data["material"] = Material.objects.filter(pk=data["material"]).first()
    data["processes"] = list(Process.objects.filter(pk__in=data["processes"]))
    data["desired_delivery_date"] = forms.DateField().to_python(data["desired_delivery_date"])
    return data


def _guest_user(buyer_data: dict):
    """The guest's account: created on the first confirmation, found again afterwards.
    (members has no service for buyer accounts; this is the smallest write that works.)"""
    User = get_user_model()
    email = buyer_data["email"].strip().lower()
    user = User.objects.filter(username=email).select_related("buyer").first()
    if user is None:
        try:
            with transaction.atomic():
                user = User(username=email, email=email, preferred_language="ja")
                user.set_unusable_password()
                user.save()
                Buyer.objects.create(
                    user=user,
                    kind=buyer_data["kind"],
                    name=buyer_data["name"],
                    organisation=buyer_data.get("organisation", ""),
                    email=email,
                    phone=buyer_data.get("phone", ""),
                )
        except IntegrityError:
            # Another request with the same address made the account at the same moment.
            user = User.objects.filter(username=email).first()
    if user is None or not hasattr(user, "buyer"):
        raise GuestLinkError(
            _("This e-mail address already has an account. Please log in."),
            field="email",
            code=GuestErrorCode.HAS_ACCOUNT,
        )
    return user


def guest_inquiry_confirm(*, guest_request: GuestInquiryRequest) -> Inquiry:
    """The visitor confirms by the link: create the buyer's account (if new) and submit the
    inquiry, once. A repeat (double click, the link opened again) returns the same inquiry.

    Raises GuestLinkError for an expired link or an address that belongs to another kind of
    account, and the inquiry's validation errors (e.g. the delivery date has passed since).
    Records `inquiry.submitted` (through `inquiry_submit`): the secretariat is told.
    """
    with transaction.atomic():
        guest = lock_one(R, guest_request.pk)
        if guest.status == R.Status.CONFIRMED:
            return guest.inquiry
        if _expired(guest):
            raise GuestLinkError(
                _(
                    "The confirmation link has expired (it is valid for two days). "
                    "Please send the form again."
                ),
                field="token",
                code=GuestErrorCode.LINK_EXPIRED,
            )
        user = _guest_user(guest.payload["buyer"])
        inquiry = services.inquiry_submit(
            actor=user,
            network=guest.network,
            data=guest_inquiry_data(guest),
            idempotency_key=f"guest-guest:{guest.pk}",
        )
        guest.inquiry = inquiry
        guest.confirmed_at = timezone.now()
        transition(
            guest,
            to=R.Status.CONFIRMED,
            allowed=R.TRANSITIONS,
            actor=user,
            reason=inquiry.reference,
            update_fields=("inquiry", "confirmed_at"),
        )
    return inquiry
