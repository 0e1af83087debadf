"""Exact request limits: a sliding window of the last `window` seconds per key, checked and
recorded in one atomic step.

DRF's SimpleRateThrottle reads a key's history from the cache, decides, and writes it back:
concurrent requests read the same history and all pass (30 clients against a 600/min key let
about 680 through). Here the check and the record are one step:

- on Redis (django-redis, production): a Lua script over a sorted set per key, one round
  trip; Redis runs a script alone, so no two requests can take the same last slot;
- on any other cache (the embedded default's LocMemCache, which lives in one process): the
  same log, read and written under a process-wide lock.

When Redis cannot be reached the request is allowed and a warning logged: a throttle guards
capacity, not data, and a Redis outage must not become an API outage.
"""

import logging
import secrets
import threading
import time
from dataclasses import dataclass

from django.core.cache import caches
from django_redis.cache import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)

# KEYS[1] the key's sorted set (score = time in ms); ARGV now_ms, window_ms, limit, member.
# Returns {1, 0} when the request is recorded, {0, ms until the oldest entry leaves} if not.
_SLIDING_LOG = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
"""

_local_lock = threading.Lock()


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: float | None = None  # seconds until a slot frees, when refused


def hit(key: str, *, limit: int, window: float, cache_alias: str = "default") -> Verdict:
    """Count one request against `key`: allowed while fewer than `limit` were allowed in the
    last `window` seconds. A refused request is not counted."""
    cache = caches[cache_alias]
    if isinstance(cache, RedisCache):
        return _hit_redis(cache, key, limit=limit, window=window, now=time.time())
    return _hit_local(cache, key, limit=limit, window=window)


def _hit_redis(cache: RedisCache, key: str, *, limit: int, window: float, now: float) -> Verdict:
    now_ms, window_ms = int(now * 1000), max(int(window * 1000), 1)
    try:
        client = cache.client.get_client(write=True)
        allowed, wait_ms = client.register_script(_SLIDING_LOG)(
            keys=[cache.make_key(key)],
            args=[now_ms, window_ms, limit, f"{now_ms}-{secrets.token_hex(6)}"],
        )
    except (RedisConnectionError, RedisTimeoutError) as exc:
        logger.warning(
            "Throttle store unreachable (%s); request for %s allowed", exc.__class__.__name__, key
        )
        return Verdict(allowed=True)
    if allowed:
        return Verdict(allowed=True)
    return Verdict(allowed=False, retry_after=max(int(wait_ms), 1) / 1000)


def _hit_local(cache, key: str, *, limit: int, window: float) -> Verdict:
    with _local_lock:
        now = time.time()  # taken under the lock, so the log stays in time order
        log = [t for t in cache.get(key, ()) if t > now - window]
        if len(log) >= limit:
            return Verdict(allowed=False, retry_after=max(log[0] + window - now, 0.001))
        log.append(now)
        cache.set(key, log, timeout=window)
    return Verdict(allowed=True)


class AtomicRateThrottle(SimpleRateThrottle):
    """SimpleRateThrottle's rates and cache keys, counted exactly by `hit`. Over the rate:
    429 with Retry-After (seconds until the oldest counted request leaves the window)."""

    # Not DRF's "throttle_%(scope)s_%(ident)s": a list left there by SimpleRateThrottle is
    # not a sorted set, and Redis would refuse the script on it (WRONGTYPE).
    cache_format = "throttle:%(scope)s:%(ident)s"

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        verdict = hit(self.key, limit=self.num_requests, window=self.duration)
        self.retry_after = verdict.retry_after
        return verdict.allowed

    def wait(self):
        return self.retry_after
