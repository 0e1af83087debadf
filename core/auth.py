from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication


class LockoutAwareBasicAuthentication(BasicAuthentication):
    """HTTP Basic for scripts, with django-axes' lockout answered as 429 + Retry-After
    (plain BasicAuthentication would say 403 and give no hint when to retry)."""

    def authenticate_credentials(self, userid, password, request=None):
        try:
            return super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            if request is not None and getattr(request, "axes_locked_out", False):
                raise exceptions.Throttled(
                    wait=int(settings.AXES_COOLOFF_TIME * 3600),
                    detail="Too many failed logins; this account is locked for a while.",
                ) from None
            raise
