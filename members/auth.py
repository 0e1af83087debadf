"""HTTP Basic on the API for accounts that sign in with a password alone."""

from django.utils.translation import gettext as _
from rest_framework import exceptions

from core.auth import LockoutAwareBasicAuthentication

from . import accounts
from .error_codes import AccountErrorCode


class BasicAuthentication(LockoutAwareBasicAuthentication):
    """core.auth's lockout-aware Basic, refused (401, code `two_factor_required`) for an
    account with a second factor or whose network requires one: a password alone must not
    open what the browser guards with a code. Scripts use a partner API key instead. The
    password is checked first, so failures still count toward the lockout."""

    def authenticate_credentials(self, userid, password, request=None):
        user, auth = super().authenticate_credentials(userid, password, request)
        if accounts.has_two_factor(user) or accounts.two_factor_required(user):
            raise exceptions.AuthenticationFailed(
                _(
                    "This account signs in with two-factor authentication, which HTTP Basic "
                    "cannot do. Use an API key, or sign in with the browser."
                ),
                code=AccountErrorCode.TWO_FACTOR_REQUIRED,
            )
        return user, auth
