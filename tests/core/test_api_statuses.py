"""API statuses (issue 13, point 8): missing or wrong credentials are 401 with a challenge,
403 only for a known caller who may not; conflicts are typed as conflicts; an
`Idempotency-Key` replays the first result only for the same request (422 for another body,
409 while the first still runs), per caller."""

# ruff: noqa: F811  (fixtures imported by name are used as test arguments)

import base64
import datetime

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from core.idempotency import IN_PROGRESS_TIMEOUT
from core.models import DomainEvent, IdempotencyRecord
from orders.models import Inquiry
from tests.brokerage.partner_fixtures import (  # noqa: F401
    key_client,
    make_key,
    partner,
    partner_api,
    submit_payload,
)
from tests.factories import BuyerFactory, UserFactory
from tests.orders.test_inquiry_api import body

URL = "/api/v1/inquiries/"
PARTNER_URL = "/api/v1/partner/inquiries/"


def _basic(username, password):
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


# --- 401 with a challenge, 403 for a known caller ----------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "basic-wrong", "basic-unknown", "Basic !!!notbase64", "Bearer abc"],
)
def test_missing_or_wrong_credentials_are_a_401_with_a_challenge(
    api, db, buyer_user, authorization, settings
):
    settings.AXES_ENABLED = False
    buyer_user.set_password("right-pass-2026")
    buyer_user.save()
    headers = {
        None: {},
        "basic-wrong": {"HTTP_AUTHORIZATION": _basic(buyer_user.username, "wrong")},
        "basic-unknown": {"HTTP_AUTHORIZATION": _basic("nobody", "x")},
    }.get(authorization, {"HTTP_AUTHORIZATION": authorization})
    for method, path in (("get", URL), ("post", URL), ("get", "/api/v1/documents/")):
        response = getattr(api, method)(path, **headers)
        assert response.status_code == 401, (path, response.content)
        assert response["WWW-Authenticate"] == 'Basic realm="api"'
        assert response.json()["type"] == "client_error"
        assert response.json()["errors"][0]["code"] in (
            "not_authenticated",
            "authentication_failed",
        )
    assert Inquiry.objects.count() == 0


def test_right_credentials_pass_and_a_caller_who_may_not_gets_403(
    api, db, buyer_user, network, submitted, settings
):
    settings.AXES_ENABLED = False
    buyer_user.set_password("right-pass-2026")
    buyer_user.save()
    auth = {"HTTP_AUTHORIZATION": _basic(buyer_user.username, "right-pass-2026")}
    assert api.get(URL, **auth).status_code == 200
    # Known, but not the secretariat: 403, and no challenge (new credentials would not help).
    response = api.post(f"{URL}{submitted.pk}/publish/", {}, format="json", **auth)
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


def test_a_signed_in_browser_session_still_reads_the_api(client, buyer_user, submitted):
    client.force_login(buyer_user)
    assert client.get(URL).json()["results"][0]["id"] == submitted.pk


def test_partner_endpoints_challenge_with_api_key(db, partner, make_key):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Api-Key nope.nope"}):
        response = APIClient().get(PARTNER_URL, **headers)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Api-Key"
    # A valid key without the scope: a known caller who may not, 403 without a challenge.
    _key, raw = make_key(partner, scopes=["catalogue:read"])
    response = key_client(raw).get(PARTNER_URL)
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response


# --- 409 typed as a conflict --------------------------------------------------------------


def test_a_conflict_is_a_409_typed_as_a_conflict(api, submitted, buyer_user, secretariat_user):
    withdraw = {"reason": "社内で対応"}
    withdrawn = api.as_(buyer_user).post(f"{URL}{submitted.pk}/withdraw/", withdraw, format="json")
    assert withdrawn.status_code == 200
    response = api.as_(secretariat_user).post(f"{URL}{submitted.pk}/publish/", {}, format="json")
    assert response.status_code == 409
    error = response.json()
    assert error["type"] == "client_error"
    assert [e["code"] for e in error["errors"]] == ["invalid_transition"]


def test_the_schema_types_409_and_422_as_client_errors(api, secretariat_user):
    schema = api.as_(secretariat_user).get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    for name in ("ConflictErrorResponse", "UnprocessableErrorResponse"):
        type_ref = components[name]["properties"]["type"]["$ref"].rsplit("/", 1)[1]
        assert components[type_ref]["enum"] == ["client_error"], name
    create = schema["paths"][URL]["post"]["responses"]
    assert {"200", "201", "409", "422"} <= set(create)
    assert "422" not in schema["paths"][f"{URL}{{id}}/publish/"]["post"]["responses"]


# --- Idempotency-Key ----------------------------------------------------------------------


@pytest.fixture
def buyer_client(api, buyer_user, buff, stainless):
    return api.as_(buyer_user)


def test_same_key_same_body_answers_the_first_inquiry(buyer_client, network):
    first = buyer_client.post(URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    # The same body, its keys in another order: the same request.
    again = buyer_client.post(
        URL, dict(reversed(body(network).items())), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Inquiry.objects.count() == 1
    assert DomainEvent.objects.filter(kind="inquiry.submitted").count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.status, record.result_id) == ("done", first.json()["id"])


def test_same_key_another_body_is_a_422_never_the_first_result(buyer_client, network):
    first = buyer_client.post(URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other = buyer_client.post(
        URL, body(network, quantity=999), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 422
    assert other.json()["type"] == "client_error"
    assert other.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert other.json()["errors"][0]["attr"] == "Idempotency-Key"
    assert str(first.json()["id"]) not in other.content.decode()
    assert Inquiry.objects.count() == 1
    # The first request still replays.
    assert (
        buyer_client.post(URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="k-1").json()[
            "id"
        ]
        == first.json()["id"]
    )


def test_a_key_whose_first_request_is_running_is_a_409(buyer_client, buyer_user, network):
    # The first request claimed the key and is still at work (its record committed, its
    # inquiry not yet): what a second request sees meanwhile.
    fresh = buyer_client.post(URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="probe")
    probe = IdempotencyRecord.objects.get(key="probe")
    IdempotencyRecord.objects.create(
        user=buyer_user, scope="inquiry.create", key="k-1", body_hash=probe.body_hash
    )
    response = buyer_client.post(URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 409
    assert response.json()["type"] == "client_error"
    assert response.json()["errors"][0]["code"] == "request_in_progress"
    assert Inquiry.objects.count() == 1 == len([fresh])
    # Another body with the key of a running request: still 422 (checked first).
    other = buyer_client.post(
        URL, body(network, quantity=7), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 422


def test_a_request_that_died_is_taken_over_after_the_timeout(buyer_client, buyer_user, network):
    buyer_client.post(URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="probe")
    digest = IdempotencyRecord.objects.get(key="probe").body_hash
    IdempotencyRecord.objects.create(
        user=buyer_user, scope="inquiry.create", key="k-1", body_hash=digest
    )
    later = timezone.now() + IN_PROGRESS_TIMEOUT + datetime.timedelta(seconds=1)
    with time_machine.travel(later):
        response = buyer_client.post(URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 201
    assert IdempotencyRecord.objects.get(key="k-1").result_id == response.json()["id"]


def test_a_request_that_died_after_its_work_is_answered_with_its_inquiry(
    buyer_client, buyer_user, network
):
    first = buyer_client.post(URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    # As if the worker was killed between the inquiry's commit and marking the key done.
    IdempotencyRecord.objects.filter(key="k-1").update(status="in_progress", result_id=None)
    again = buyer_client.post(URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    assert Inquiry.objects.count() == 1


def test_a_refused_request_frees_its_key(buyer_client, network):
    network.is_active = False
    network.save(update_fields=["is_active"])
    refused = buyer_client.post(URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert refused.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    network.is_active = True
    network.save(update_fields=["is_active"])
    retry = buyer_client.post(URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert retry.status_code == 201


def test_keys_are_per_caller(api, buyer_client, network):
    other_buyer = BuyerFactory(user=UserFactory()).user
    mine = buyer_client.post(URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    theirs = api.as_(other_buyer).post(
        URL, body(network, quantity=3), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["quantity"] == 3


def test_an_overlong_key_is_refused_not_cut(buyer_client, network):
    response = buyer_client.post(URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="k" * 101)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "Idempotency-Key"
    assert Inquiry.objects.count() == 0


def test_a_partner_key_reused_with_another_body_is_a_422(partner_api, submit_payload):
    first = partner_api.post(
        PARTNER_URL, submit_payload(), format="json", HTTP_IDEMPOTENCY_KEY="order-1"
    )
    changed = submit_payload()
    changed["quantity"] = changed.get("quantity", 1) + 1
    other = partner_api.post(PARTNER_URL, changed, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    assert (first.status_code, other.status_code) == (201, 422)
    assert other.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert Inquiry.objects.count() == 1


def test_a_used_up_limit_raised_by_a_service_is_a_429_with_its_code(rf):
    from drf_standardized_errors.handler import exception_handler
    from rest_framework.request import Request

    from core.errors import TooManyRequests

    request = Request(rf.get("/api/v1/anything/"))
    response = exception_handler(
        TooManyRequests("Too many requests this hour.", code="guest_inquiries_per_hour"),
        {"request": request, "view": None},
    )
    assert response.status_code == 429
    assert response.data["errors"][0]["code"] == "guest_inquiries_per_hour"
