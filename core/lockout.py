"""Login throttling (django-axes): who the client is behind the proxy, and the per-address
limit against password spraying.

Axes locks one username at one address (`AXES_FAILURE_LIMIT` failures). That alone lets one
address try a few passwords on every account (spraying), so `LockoutHandler` also locks an
address for everyone once `AXES_IP_FAILURE_LIMIT` failures across any usernames came from it
within the cool-off. Axes takes one limit for all its parameter sets, hence the handler.
"""

import ipaddress

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


def client_ip(request) -> str | None:
    """The client's address: with `PROXY_COUNT` trusted proxies in front, the entry that
    many places from the right of X-Forwarded-For (each proxy appends the address it saw;
    entries further left are whatever the client sent); else REMOTE_ADDR. DRF's NUM_PROXIES
    rule, so API throttles and lockouts agree. Used by axes (AXES_CLIENT_IP_CALLABLE) and
    every per-address limit."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not proxies or not forwarded:
        return remote
    entries = [entry.strip() for entry in forwarded.split(",")]
    candidate = entries[-min(proxies, len(entries))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with a second, higher limit per address across usernames.

    The (username, address) count stays axes' own (reset by a successful sign-in); an
    address past `AXES_IP_FAILURE_LIMIT` counts as locked for every username until its
    failures are older than the cool-off. `request.axes_address_locked` tells the lockout
    page which of the two it was."""

    def get_failures(self, request, credentials=None) -> int:
        failures = super().get_failures(request, credentials)
        from_address = (
            AccessAttempt.objects.filter(
                ip_address=request.axes_ip_address,
                attempt_time__gte=get_cool_off_threshold(request),
            ).aggregate(total=Sum("failures_since_start"))["total"]
            or 0
        )
        if from_address >= settings.AXES_IP_FAILURE_LIMIT:
            request.axes_address_locked = True
            return max(failures, get_failure_limit(request, credentials))
        return failures
