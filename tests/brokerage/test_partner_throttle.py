"""The partner throttle is exact under concurrency (issue 13, point 10): 30 clients sharing
one key get exactly the key's rate, counted in the real Redis (second CI pass)."""

# ruff: noqa: F811  (fixtures imported by name are used as test arguments)

import threading
from collections import Counter

import pytest
from django.db import connection

from tests.brokerage.partner_fixtures import key_client, make_key, partner  # noqa: F401

CATALOGUE = "/api/v1/partner/catalogue/"


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_clients_on_one_key_get_exactly_its_rate(partner, make_key, settings):
    # An hour's window, so a slow machine cannot let early requests expire mid-test.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"partner": "60/hour"},
    }
    _key, raw = make_key(partner)
    start = threading.Barrier(30)
    statuses: Counter = Counter()
    retry_after: set = set()
    lock = threading.Lock()

    def client():
        api = key_client(raw)
        start.wait()
        try:
            for _ in range(5):
                response = api.get(CATALOGUE)
                with lock:
                    statuses[response.status_code] += 1
                    if response.status_code == 429:
                        retry_after.add(int(response["Retry-After"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == {200: 60, 429: 90}
    assert all(0 < seconds <= 3600 for seconds in retry_after)
    # Another key of the same partner is counted apart.
    _other, other_raw = make_key(partner)
    assert key_client(other_raw).get(CATALOGUE).status_code == 200
