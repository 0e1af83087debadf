"""Faults that must lose nothing and save nothing half-done (issue 7, second CI pass)."""

import psycopg2
import pytest
from django.db import connection
from rest_framework.test import APIClient

from core import events
from core.models import DomainEvent
from orders.models import Inquiry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _kill_own_connection():
    """Terminate this process's database session from another session, as a failover, a
    restarted server or a cut network would."""
    pid = connection.connection.get_backend_pid()
    settings = connection.settings_dict
    other = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        password=settings["PASSWORD"] or None,
    )
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()


def test_a_dropped_database_connection_mid_request_answers_an_error_and_saves_nothing(
    network, buyer_user, inquiry_data, monkeypatch
):
    real_record = events.record

    def record_then_lose_the_database(**kwargs):
        # The inquiry row is written; the connection dies before the event and the commit.
        _kill_own_connection()
        return real_record(**kwargs)

    monkeypatch.setattr(events, "record", record_then_lose_the_database)
    client = APIClient()
    client.raise_request_exception = False
    client.force_authenticate(buyer_user)
    data = inquiry_data()
    payload = {
        **{k: v for k, v in data.items() if k not in ("material", "processes")},
        "material": data["material"].code,
        "processes": [p.code for p in data["processes"]],
        "network": network.pk,
    }
    response = client.post("/api/v1/inquiries/", payload, format="json")
    assert response.status_code == 500
    assert response.json()["type"] == "server_error"

    monkeypatch.setattr(events, "record", real_record)
    connection.close()  # the next query reconnects, as the next request would
    assert not Inquiry.objects.exists()
    assert not DomainEvent.objects.exists()
    # And the service works again on a fresh connection.
    response = client.post("/api/v1/inquiries/", payload, format="json")
    assert response.status_code == 201, response.content
    assert Inquiry.objects.count() == 1
