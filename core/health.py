"""Liveness and readiness probes for load balancers and orchestrators."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def healthz(request):
    """The process is up and answering."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """The database and the broker answer: the process can do useful work."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.REDIS_URL:
        # Redis is the broker and the cache. Without it pages and the partner API still
        # answer (sessions from the database, throttles open) but tasks wait in the outbox:
        # not ready, and the answer says why.
        try:
            import redis

            with redis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
            ) as client:
                client.ping()
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"error: Redis unreachable ({exc.__class__.__name__})"
    else:
        checks["broker"] = "ok (embedded filesystem broker)"
    ready = all(v.startswith("ok") for v in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503
    )
