"""Sign-in pages: the login with its second step, password reset, two-factor enrolment.

Login: the password is checked by Django's LoginView (django-axes counts failures); a user
with an authenticator is not signed in yet but sent to the code page, which signs in only
with a right code. A wrong code counts toward the same lockout as a wrong password.
"""

import time

import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout, user_login_failed
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from core.errors import BrokerageError, NotAllowed
from core.lockout import client_ip

from . import accounts
from .forms import apply_service_error
from .pages import PUBLIC, SIGNED_IN, Page, page

PENDING_KEY = "_two_factor_pending"
PENDING_SECONDS = 300


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
        help_text=gettext_lazy(
            "The 6 digits your authenticator app shows, or one of your backup codes."
        ),
    )


class LoginView(Page, auth_views.LoginView):
    """Django's login; a user with an authenticator continues on the code page."""

    access = PUBLIC

    def form_valid(self, form):
        user = form.get_user()
        if not accounts.has_two_factor(user):
            return super().form_valid(form)
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "at": int(time.time()),
            "next": self.get_success_url(),
        }
        return redirect("two_factor_verify")


def _safe_next(request, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse_lazy("home")


@sensitive_post_parameters("code")
@never_cache
@page(PUBLIC)  # the second step of signing in: no one is signed in yet
def two_factor_verify(request):
    """The second step: after the password (pending in the session), or for a session
    signed in before its user enrolled."""
    user_model = get_user_model()
    pending = None
    if request.user.is_authenticated:
        user = request.user
        if user.is_verified() or not accounts.has_two_factor(user):
            return redirect(_safe_next(request, request.GET.get("next")))
        next_url = _safe_next(request, request.GET.get("next"))
    else:
        pending = request.session.get(PENDING_KEY)
        user = None
        if pending and time.time() - pending["at"] < PENDING_SECONDS:
            user = user_model.objects.filter(pk=pending["user"], is_active=True).first()
        if user is None:
            request.session.pop(PENDING_KEY, None)
            messages.info(request, _("Please log in again."))
            return redirect("login")
        next_url = _safe_next(request, pending.get("next"))

    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        credentials = {user_model.USERNAME_FIELD: user.get_username()}
        if not AxesProxyHandler.is_allowed(request, credentials):
            return _locked_out(request, credentials)
        device = accounts.two_factor_verify(user=user, code=form.cleaned_data["code"])
        if device is None:
            # Counts toward the lockout like a wrong password (django-axes listens).
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            if getattr(request, "axes_locked_out", False):
                return _locked_out(request, credentials)
            form.add_error("code", _("That code is not right."))
        else:
            if pending is not None:
                request.session.pop(PENDING_KEY, None)
                login(request, user, backend=pending["backend"])
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(
                    request,
                    _("You used a backup code; %(left)d are left.") % {"left": left},
                )
            return redirect(next_url)
    return render(request, "registration/two_factor_verify.html", {"form": form})


def _locked_out(request, credentials):
    """Drop the half-finished sign-in and show the lockout page (429)."""
    request.session.pop(PENDING_KEY, None)
    if request.user.is_authenticated:
        logout(request)
    request.axes_locked_out = False  # answered here; AxesMiddleware need not answer again
    return get_lockout_response(request, None, credentials)


def _qr_svg(device) -> str:
    return segno.make(device.config_url, error="m").svg_inline(scale=4, light="#fff")


def _secret_text(device) -> str:
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@page(SIGNED_IN)
def two_factor(request):
    """The user's two-factor settings: on or off, required or not."""
    return render(
        request,
        "registration/two_factor.html",
        {
            "enrolled": accounts.has_two_factor(request.user),
            "required": accounts.two_factor_required(request.user),
            "backup_codes_left": sum(
                d.token_set.count()
                for d in StaticDevice.objects.devices_for_user(request.user, confirmed=True)
            ),
            "disable_form": CodeForm(),
        },
    )


@sensitive_post_parameters("code")
@never_cache
@page(SIGNED_IN)
def two_factor_setup(request):
    """Enrolment: the secret as a QR code and as text; confirmed with a code, which also
    verifies this session; the backup codes are shown once, on the answer."""
    if accounts.has_two_factor(request.user):
        return redirect("two_factor")
    device = accounts.totp_enrolment_start(user=request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = accounts.totp_enrolment_confirm(
                user=request.user, code=form.cleaned_data["code"]
            )
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except BrokerageError as exc:
            apply_service_error(form, exc)
        else:
            otp_login(request, device)
            return _backup_codes_page(request, codes, request.GET.get("next"))
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": _qr_svg(device),
            "secret": _secret_text(device),
            "required": accounts.two_factor_required(request.user),
        },
    )


def _backup_codes_page(request, codes, next_url=None):
    return render(
        request,
        "registration/two_factor_backup_codes.html",
        {"codes": codes, "next": _safe_next(request, next_url)},
    )


@never_cache
@page(SIGNED_IN)
def two_factor_backup_codes(request):
    """New backup codes (POST); the old ones stop working."""
    if request.method != "POST":
        return redirect("two_factor")
    codes = accounts.backup_codes_regenerate(user=request.user)  # NotAllowed: 403
    return _backup_codes_page(request, codes)


@sensitive_post_parameters("code")
@page(SIGNED_IN)
def two_factor_disable(request):
    if request.method != "POST":
        return redirect("two_factor")
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            accounts.two_factor_disable(user=request.user, code=form.cleaned_data["code"])
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except BrokerageError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Two-factor sign-in is off."))
    return redirect("two_factor")


# ---------------------------------------------------------------------------------------
# Password reset: Django's views; the request goes through the outbox (members.accounts).


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail"), max_length=254)


class PasswordResetView(Page, auth_views.PasswordResetView):
    """Same page and status for a known and an unknown address; the e-mail, if any, is
    sent by the notifications worker. Over the hourly limit: the form again, with 429."""

    access = PUBLIC

    form_class = PasswordResetRequestForm

    def form_valid(self, form):
        try:
            accounts.password_reset_request(
                email=form.cleaned_data["email"], ip_address=client_ip(self.request)
            )
        except accounts.LimitReached as exc:
            apply_service_error(form, exc)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return redirect(self.get_success_url())


# Django's own steps of the reset and the logout, declared as pages like every other.


class PasswordResetDoneView(Page, auth_views.PasswordResetDoneView):
    access = PUBLIC


class PasswordResetConfirmView(Page, auth_views.PasswordResetConfirmView):
    access = PUBLIC  # the signed token in the link names the user


class PasswordResetCompleteView(Page, auth_views.PasswordResetCompleteView):
    access = PUBLIC


class LogoutView(Page, auth_views.LogoutView):
    access = PUBLIC  # signing out when already out is harmless
