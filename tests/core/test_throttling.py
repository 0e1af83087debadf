"""core.throttling: an exact sliding window, the same on the embedded cache and on Redis, and
open (logged) while Redis is unreachable. The API-level test is in
tests/brokerage/test_partner_throttle.py."""

import datetime
import logging
import socket
import threading
import uuid

import pytest
import time_machine
from django.conf import settings as django_settings

from core import throttling

T0 = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_cache(location: str) -> dict:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",  # nothing left by another test
            "OPTIONS": django_settings.REDIS_CACHE_OPTIONS,  # production's
        }
    }


@pytest.fixture(params=["locmem", pytest.param("redis", marks=pytest.mark.integration)])
def store(request, settings):
    """The embedded default's cache, then (second pass) the real Redis of REDIS_URL."""
    if request.param == "redis":
        settings.CACHES = redis_cache(django_settings.REDIS_URL)
    else:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": f"test-{uuid.uuid4().hex}",
            }
        }
    return request.param


def hammer(key: str, *, limit: int, threads: int = 30, each: int = 5) -> list[bool]:
    """`threads` clients released at once, each sending `each` requests against one key."""
    start = threading.Barrier(threads)
    results: list[bool] = []
    lock = threading.Lock()

    def client():
        start.wait()
        for _ in range(each):
            verdict = throttling.hit(key, limit=limit, window=3600)
            with lock:
                results.append(verdict.allowed)

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def test_thirty_concurrent_clients_get_exactly_the_limit(store):
    results = hammer("partner:abc", limit=60)

    assert len(results) == 150
    assert results.count(True) == 60


def test_the_window_slides_and_refusals_are_not_counted(store):
    with time_machine.travel(T0, tick=False) as clock:
        assert throttling.hit("k", limit=2, window=60).allowed
        clock.shift(10)
        assert throttling.hit("k", limit=2, window=60).allowed
        clock.shift(10)
        refused = throttling.hit("k", limit=2, window=60)
        assert refused == throttling.Verdict(allowed=False, retry_after=pytest.approx(40))
        # Hammering while refused does not push the free slot further away.
        for _ in range(5):
            assert not throttling.hit("k", limit=2, window=60).allowed
        clock.shift(40)  # the first request has left the window: one slot
        assert throttling.hit("k", limit=2, window=60).allowed
        refused = throttling.hit("k", limit=2, window=60)
        assert refused == throttling.Verdict(allowed=False, retry_after=pytest.approx(10))
        # Keys are counted apart.
        assert throttling.hit("other", limit=2, window=60).allowed


def test_redis_unreachable_lets_requests_through_and_warns(settings, caplog):
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens

    with caplog.at_level(logging.WARNING, logger="core.throttling"):
        verdicts = [throttling.hit("k", limit=1, window=60) for _ in range(3)]

    assert verdicts == [throttling.Verdict(allowed=True)] * 3
    assert [r.getMessage() for r in caplog.records] == [
        "Throttle store unreachable (ConnectionError); request for k allowed"
    ] * 3


def test_a_hung_redis_times_out_and_lets_requests_through(settings, caplog):
    """A server that accepts connections and never answers: the socket timeout ends the
    wait and the request goes through."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)  # the kernel completes the handshake; nobody ever reads
        settings.CACHES = redis_cache(f"redis://127.0.0.1:{hung.getsockname()[1]}/0")

        with caplog.at_level(logging.WARNING, logger="core.throttling"):
            verdict = throttling.hit("k", limit=1, window=60)

    assert verdict == throttling.Verdict(allowed=True)
    assert "TimeoutError" in caplog.records[0].getMessage()
