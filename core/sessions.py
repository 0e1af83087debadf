"""Sessions: Django's cached_db (read from the cache, written through to the database) whose
cache copy lives at most SESSION_CACHE_MAX_AGE seconds.

While Redis is unreachable, django-redis ignores the failed calls (IGNORE_EXCEPTIONS) and
sessions are read from and written to the database alone. A session deleted meanwhile — a
sign-out — is still in a Redis that kept its data (production's append-only file) and would
be read from there again once Redis is back, until the copy expires. The cap bounds that
window; it costs one session query per signed-in user per cap, not per request.
"""

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.core.cache.backends.base import DEFAULT_TIMEOUT


class _CappedCache:
    """The session cache, with every timeout cut to `cap` seconds."""

    def __init__(self, cache, cap: int):
        self._cache, self._cap = cache, cap

    def _timeout(self, timeout):
        if timeout is DEFAULT_TIMEOUT or timeout is None:
            return self._cap
        return min(timeout, self._cap)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, **kwargs):
        return self._cache.set(key, value, self._timeout(timeout), **kwargs)

    async def aset(self, key, value, timeout=DEFAULT_TIMEOUT, **kwargs):
        return await self._cache.aset(key, value, self._timeout(timeout), **kwargs)

    def __contains__(self, key):
        return key in self._cache

    def __getattr__(self, name):
        return getattr(self._cache, name)


class SessionStore(cached_db.SessionStore):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._cache = _CappedCache(self._cache, settings.SESSION_CACHE_MAX_AGE)
