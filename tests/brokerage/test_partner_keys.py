"""Partner API keys: issued once and stored hashed, revocation, scopes, throttling, usage log."""

# ruff: noqa: F811  (fixtures imported by name are used as test arguments)

import datetime

import pytest
from django.utils import timezone

from brokerage import partners
from brokerage.models import ApiKeyUsage, ApiScope, PartnerApiKey
from core.errors import BrokerageError, NotAllowed
from tests.brokerage.partner_fixtures import (  # noqa: F401
    key_client,
    make_key,
    other_partner,
    partner,
    partner_api,
    submit_payload,
)

CATALOGUE = "/api/v1/partner/catalogue/"
INQUIRIES = "/api/v1/partner/inquiries/"
REFERRALS = "/api/v1/partner/referrals/"
FEED = "/api/v1/partner/feed/"


def test_key_is_returned_once_and_stored_hashed(partner, make_key):
    key, raw = make_key(partner, scopes=[ApiScope.CATALOGUE_READ])

    prefix, _dot, secret = raw.partition(".")
    stored = PartnerApiKey.objects.get(pk=key.pk)
    assert stored.prefix == prefix
    assert stored.hashed_key.startswith("sha512$$")
    # Neither the key nor its secret part is stored anywhere on the row.
    row = PartnerApiKey.objects.filter(pk=key.pk).values().get()
    assert not any(secret in str(value) for value in row.values())
    assert stored.scopes == ["catalogue:read"]
    assert key_client(raw).get(CATALOGUE).status_code == 200


def test_only_the_networks_secretariat_issues_and_revokes_keys(
    partner, other_secretariat_user, member_user, make_key
):
    for actor in (other_secretariat_user, member_user):
        with pytest.raises(NotAllowed):
            partners.api_key_create(
                actor=actor, organisation=partner, name="x", scopes=[ApiScope.CATALOGUE_READ]
            )
    assert not PartnerApiKey.objects.exists()
    key, _raw = make_key(partner)
    with pytest.raises(NotAllowed):
        partners.api_key_revoke(actor=other_secretariat_user, key=key)
    assert not PartnerApiKey.objects.get(pk=key.pk).revoked


@pytest.mark.parametrize("scopes", [[], ["admin:all"]])
def test_a_key_needs_known_scopes(partner, make_key, scopes):
    with pytest.raises(BrokerageError) as exc:
        make_key(partner, scopes=scopes)
    assert exc.value.field == "scopes"


def test_revoked_key_answers_401(partner, make_key, secretariat_user):
    key, raw = make_key(partner)
    client = key_client(raw)
    assert client.get(CATALOGUE).status_code == 200

    partners.api_key_revoke(actor=secretariat_user, key=key)

    response = client.get(CATALOGUE)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert response.json()["errors"][0]["code"] == "authentication_failed"


@pytest.mark.parametrize(
    "header",
    [
        "Api-Key unknown.key",
        "Api-Key nodot",
        "Api-Key ",
    ],
)
def test_unknown_key_answers_401(partner, make_key, api, header):
    make_key(partner)
    response = api.get(CATALOGUE, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


def test_tampered_secret_answers_401(partner, make_key):
    _key, raw = make_key(partner)
    assert key_client(raw[:-1] + ("A" if raw[-1] != "A" else "B")).get(CATALOGUE).status_code == 401


def test_no_key_answers_401_and_a_session_user_is_not_a_partner(api, secretariat_user):
    assert api.get(CATALOGUE).status_code == 401
    api.force_login(secretariat_user)  # a signed-in session is not a key
    assert api.get(CATALOGUE).status_code == 401


def test_expired_key_and_suspended_partner_answer_401(partner, make_key, secretariat_user):
    key, raw = make_key(partner)
    PartnerApiKey.objects.filter(pk=key.pk).update(
        expiry_date=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert key_client(raw).get(CATALOGUE).status_code == 401

    _key2, raw2 = make_key(partner)
    partners.partner_set_active(actor=secretariat_user, organisation=partner, active=False)
    assert key_client(raw2).get(CATALOGUE).status_code == 401


def test_a_key_is_not_accepted_outside_the_partner_api(partner_api):
    # The rest of the API authenticates people (session, Basic), never a partner key.
    assert partner_api.get("/api/v1/inquiries/").status_code in (401, 403)


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("get", CATALOGUE, ApiScope.CATALOGUE_READ),
        ("get", INQUIRIES, ApiScope.INQUIRIES_WRITE),
        ("post", INQUIRIES, ApiScope.INQUIRIES_WRITE),
        ("get", REFERRALS, ApiScope.REFERRALS_RECEIVE),
    ],
)
def test_a_key_without_the_scope_gets_403_and_changes_nothing(
    partner, make_key, method, path, scope, submit_payload
):
    from orders.models import Inquiry

    others = [s for s in ApiScope.values if s != scope]
    _key, raw = make_key(partner, scopes=others)
    client = key_client(raw)

    response = getattr(client, method)(path, submit_payload(), format="json")

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "missing_scope"
    assert scope in response.json()["errors"][0]["detail"]
    assert not Inquiry.objects.exists()

    _key, raw = make_key(partner, scopes=[scope])
    assert getattr(key_client(raw), method)(path, submit_payload(), format="json").status_code in (
        200,
        201,
    )


def test_the_feed_needs_inquiries_or_referrals_scope(partner, make_key):
    _key, raw = make_key(partner, scopes=[ApiScope.CATALOGUE_READ])
    assert key_client(raw).get(FEED).status_code == 403
    _key, raw = make_key(partner, scopes=[ApiScope.REFERRALS_RECEIVE])
    assert key_client(raw).get(FEED).status_code == 200


def test_throttled_per_key_with_retry_after(partner, make_key, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"partner": "2/min"},
    }
    _key, raw = make_key(partner)
    _key, other_raw = make_key(partner)
    client = key_client(raw)

    assert [client.get(CATALOGUE).status_code for _ in range(2)] == [200, 200]
    response = client.get(CATALOGUE)

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["errors"][0]["code"] == "throttled"
    # Counted per key: another key of the same partner is not held back.
    assert key_client(other_raw).get(CATALOGUE).status_code == 200


def test_every_use_of_a_key_is_logged(partner, make_key, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"partner": "3/min"},
    }
    key, raw = make_key(partner, scopes=[ApiScope.CATALOGUE_READ])
    client = key_client(raw)

    client.get(CATALOGUE)
    client.get(INQUIRIES)  # 403: no scope
    client.get(f"{INQUIRIES}999/")  # 403 too: the scope is checked before the lookup
    client.get(CATALOGUE)  # 429: requests beyond the scopes count towards the rate

    rows = list(
        ApiKeyUsage.objects.filter(key=key).order_by("id").values_list("method", "path", "status")
    )
    assert rows == [
        ("GET", CATALOGUE, 200),
        ("GET", INQUIRIES, 403),
        ("GET", f"{INQUIRIES}999/", 403),
        ("GET", CATALOGUE, 429),
    ]


def test_unknown_keys_are_not_logged_against_any_key(partner, make_key, api):
    make_key(partner)
    api.get(CATALOGUE, HTTP_AUTHORIZATION="Api-Key nope.nope")
    assert not ApiKeyUsage.objects.exists()


def test_usage_is_pruned_after_the_retention(partner, make_key, time_machine):
    _key, raw = make_key(partner)
    time_machine.move_to(timezone.now() - datetime.timedelta(days=100))
    key_client(raw).get(CATALOGUE)
    time_machine.move_to(timezone.now() + datetime.timedelta(days=100))
    key_client(raw).get(CATALOGUE)

    assert partners.api_key_usage_prune(days=90) == 1
    assert ApiKeyUsage.objects.count() == 1
