"""Two-factor gate: a signed-in user who owes a second factor can do nothing else.

After django-otp's OTPMiddleware (which knows whether this session was verified with a
code). A session signed in with a password alone whose user has an authenticator (enrolled
since, in another browser) is sent to the code page; one whose network requires a second
factor and who has none is sent to enrolment. Pages redirect; the API answers 403 with the
code `two_factor_required`. The answer "nothing owed" is kept in the session for a few
minutes (set at sign-in), so an ordinary request pays no query for it, and a network that
starts requiring it reaches signed-in users within that time.
"""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import user_logged_in
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from . import accounts

CHECKED_KEY = "_two_factor_checked"
RECHECK_SECONDS = 300
VERIFY, ENROL = "two_factor_verify", "two_factor_setup"
# Reachable while a factor is owed: the pages that settle it, leaving, and the language.
ALLOWED_URL_NAMES = (VERIFY, ENROL, "logout", "set_language", "healthz", "readyz")


def owed(request, user) -> str | None:
    """VERIFY, ENROL or None for a signed-in, unverified session."""
    checked = request.session.get(CHECKED_KEY)
    if checked and time.time() - checked < RECHECK_SECONDS:
        return None
    if accounts.has_two_factor(user):
        return VERIFY
    if accounts.two_factor_required(user):
        return ENROL
    request.session[CHECKED_KEY] = int(time.time())
    return None


def stamp_on_login(sender, request, user, **kwargs):
    """At sign-in, note that nothing is owed (if so): the gate then costs no query for the
    next few minutes. A verified session is never checked."""
    if request is None or not hasattr(request, "session"):
        return
    request.session.pop(CHECKED_KEY, None)
    if not accounts.has_two_factor(user) and not accounts.two_factor_required(user):
        request.session[CHECKED_KEY] = int(time.time())


user_logged_in.connect(stamp_on_login, dispatch_uid="members.two_factor.stamp_on_login")


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._allowed = None

    def allowed(self, path: str) -> bool:
        if self._allowed is None:
            static = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/"
            self._allowed = (*(reverse(name) for name in ALLOWED_URL_NAMES), static)
        return path.startswith(self._allowed)

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not user.is_verified() and not self.allowed(request.path):
            target = owed(request, user)
            if target is not None:
                return self.refuse(request, target)
        return self.get_response(request)

    def refuse(self, request, target):
        if request.path.startswith("/api/"):
            detail = (
                _("Enter the code from your authenticator app in the browser first.")
                if target == VERIFY
                else _("Your network requires two-factor sign-in: set it up in the browser first.")
            )
            return JsonResponse(
                {
                    "type": "client_error",
                    "errors": [{"code": "two_factor_required", "detail": detail, "attr": None}],
                },
                status=403,
            )
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
