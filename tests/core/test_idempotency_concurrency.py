"""On PostgreSQL, two requests with one `Idempotency-Key` at the same time: the second is
answered 409 at once while the first runs (it does not wait on the first's transaction),
422 if its body differs, and the first's inquiry once it is done."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from core.models import IdempotencyRecord
from orders import services
from orders.models import Inquiry
from tests.orders.test_inquiry_api import body

URL = "/api/v1/inquiries/"

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _client(user):
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def test_a_second_request_while_the_first_runs_is_a_409_then_the_first_result(
    network, buyer_user, buff, stainless, monkeypatch
):
    started, release = threading.Event(), threading.Event()
    validate = services._validate_inquiry

    def held(*args, **kwargs):  # the first request stops inside its work until released
        if threading.current_thread().name == "first":
            started.set()
            assert release.wait(timeout=60)
        return validate(*args, **kwargs)

    monkeypatch.setattr(services, "_validate_inquiry", held)
    answers = {}

    def first():
        try:
            answers["first"] = _client(buyer_user).post(
                URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
            )
        finally:
            connection.close()

    thread = threading.Thread(target=first, name="first")
    thread.start()
    try:
        assert started.wait(timeout=60)
        running = _client(buyer_user).post(
            URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
        )
        changed = _client(buyer_user).post(
            URL, body(network, quantity=9), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
        )
        assert Inquiry.objects.count() == 0  # the first is still at work
    finally:
        release.set()
        thread.join(timeout=60)

    assert (running.status_code, running.json()["errors"][0]["code"]) == (
        409,
        "request_in_progress",
    )
    assert (changed.status_code, changed.json()["errors"][0]["code"]) == (
        422,
        "idempotency_key_reused",
    )
    assert answers["first"].status_code == 201
    again = _client(buyer_user).post(URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (again.status_code, again.json()["id"]) == (200, answers["first"].json()["id"])
    assert Inquiry.objects.count() == 1
    assert IdempotencyRecord.objects.get().status == "done"
