"""Sign-in services: password reset requests and two-factor sign-in (TOTP with backup codes).

Password reset: a request writes a `PasswordResetRequest` row and a `user.password_reset`
event whatever the address, so a known and an unknown address get the same answer for the
same work; the brokerage dispatcher looks the address up and writes the notification, and
the e-mail's link (Django's token: an HMAC over the password hash and last login, so it
stops working once used) is made only when the e-mail is sent (`password_reset_path`).

Two-factor sign-in (django-otp): one TOTP device per user, confirmed with a code at
enrolment, and a static device holding ten backup codes shown once. A network may require
it of its secretariat and committee (`Network.two_factor_required_for_staff`); Django staff
accounts, which reach every network through the admin, need it as soon as any active
network requires it.
"""

import unicodedata

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_otp import verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import events
from core.errors import BrokerageError, NotAllowed

from .error_codes import AccountErrorCode
from .models import Network, NetworkStaff, PasswordResetRequest

BACKUP_CODE_COUNT = 10


class LimitReached(BrokerageError):
    """Too many requests from one address or for one e-mail in the last hour (429)."""

    status_code = 429
    code = "too_many_requests"


# ---------------------------------------------------------------------------------------
# Password reset


def password_reset_request(*, email: str, ip_address: str | None) -> PasswordResetRequest:
    """Record a request to reset the password of the account(s) with `email`, known or not.

    At most `PASSWORD_RESET_PER_HOUR_PER_EMAIL` requests per address typed and
    `PASSWORD_RESET_PER_HOUR_PER_ADDRESS` per visitor's address in an hour (counted on the
    rows, for known and unknown addresses alike): beyond, LimitReached. Records the
    `user.password_reset` event; its dispatch (brokerage) writes the notification whose
    e-mail carries the link.
    """
    email = email.strip().lower()
    since = timezone.now() - timezone.timedelta(hours=1)
    with transaction.atomic():
        recent = PasswordResetRequest.objects.filter(created_at__gte=since)
        if recent.filter(email=email).count() >= settings.PASSWORD_RESET_PER_HOUR_PER_EMAIL or (
            ip_address is not None
            and recent.filter(ip_address=ip_address).count()
            >= settings.PASSWORD_RESET_PER_HOUR_PER_ADDRESS
        ):
            raise LimitReached(
                _("Too many password reset requests. Please try again in an hour."),
                field="email",
            )
        reset = PasswordResetRequest.objects.create(email=email, ip_address=ip_address)
        events.record(kind=events.EventKind.USER_PASSWORD_RESET, subject=reset)
    return reset


def password_reset_recipients(reset: PasswordResetRequest):
    """The active accounts with the request's address that sign in with a password
    (Django's PasswordResetForm.get_users)."""
    from .models import User

    users = User.objects.filter(email__iexact=reset.email, is_active=True)
    return [user for user in users if user.has_usable_password()]


def password_reset_path(user) -> str:
    """The path of a fresh reset link for `user`. Called when the e-mail is sent, so the
    token exists only in the e-mail; it expires after PASSWORD_RESET_TIMEOUT and stops
    working once the password changes."""
    return reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


# ---------------------------------------------------------------------------------------
# Two-factor sign-in


def two_factor_required(user) -> bool:
    """True if a network requires a second factor of this user: a secretariat or committee
    seat in a network that asks for it, or a Django staff account while any network does."""
    if not user.is_authenticated:
        return False
    required = Network.objects.filter(is_active=True, two_factor_required_for_staff=True)
    if user.is_staff or user.is_superuser:
        return required.exists()
    return NetworkStaff.objects.filter(user=user, network__in=required).exists()


def totp_device(user) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if enrolled."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def has_two_factor(user) -> bool:
    return user.is_authenticated and totp_device(user) is not None


def _normalise(code: str) -> str:
    # Full-width digits and the spaces or hyphens people type between groups.
    code = unicodedata.normalize("NFKC", code or "")
    return "".join(ch for ch in code if ch not in " -").lower()


def totp_enrolment_start(*, user) -> TOTPDevice:
    """The unconfirmed authenticator the setup page shows (kept across reloads, so the QR
    code the user scanned stays valid). Refused while a confirmed one exists."""
    if has_two_factor(user):
        raise NotAllowed(_("Two-factor sign-in is already set up."))
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def totp_enrolment_confirm(*, user, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator with a code it shows; returns it and fresh backup codes
    (shown once). A wrong code: BrokerageError on `code`."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.devices_for_user(user, confirmed=False).select_for_update().first()
        )
        if device is None or has_two_factor(user):
            raise NotAllowed(_("Start the setup again."))
        if not device.verify_token(_normalise(code)):
            raise BrokerageError(
                _("That code is not right. Check the time on your phone and try the new code."),
                field="code",
                code=AccountErrorCode.OTP_INVALID,
            )
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _backup_codes_replace(user)
    return device, codes


def _backup_codes_replace(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="backup")
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def backup_codes_regenerate(*, user) -> list[str]:
    """New backup codes; the old ones stop working. Only for an enrolled user."""
    if not has_two_factor(user):
        raise NotAllowed(_("Set up two-factor sign-in first."))
    with transaction.atomic():
        return _backup_codes_replace(user)


def two_factor_verify(*, user, code: str):
    """The device that accepts `code` (the authenticator's six digits, or a backup code,
    which is then used up), or None. django-otp's throttling slows repeated failures."""
    code = _normalise(code)
    if not code:
        return None
    if code.isdigit():
        device = totp_device(user)
    else:
        device = StaticDevice.objects.devices_for_user(user, confirmed=True).first()
    if device is None:
        return None
    return verify_token(user, device.persistent_id, code)


def two_factor_disable(*, user, code: str) -> None:
    """Remove the user's second factor, confirmed with a current code. Refused when a
    network requires it of the user."""
    if two_factor_required(user):
        raise NotAllowed(_("Your network requires two-factor sign-in for your role."))
    if two_factor_verify(user=user, code=code) is None:
        raise BrokerageError(
            _("That code is not right."), field="code", code=AccountErrorCode.OTP_INVALID
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
