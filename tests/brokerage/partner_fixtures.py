"""Fixtures of the partner tests (imported by name into tests/brokerage/test_partner*.py,
test_feed*.py and test_webhook*.py): a partner of `network`, its keys and API clients, and a
way to dispatch the recorded events as the worker would."""

import pytest
from rest_framework.test import APIClient

from brokerage import partners
from brokerage.models import ApiScope, PartnerKind

ALL_SCOPES = list(ApiScope.values)
BUYER = {
    "kind": "company",
    "name": "山田 太郎",
    "organisation": "株式会社山田酒造",
    "email": "Yamada@Example.jp",
    "phone": "03-0000-0000",
}


@pytest.fixture
def partner(network, secretariat_user):
    return partners.partner_create(
        actor=secretariat_user,
        network=network,
        name="プロシアムネット",
        kind=PartnerKind.NETWORK,
        contact_email="info@prosium.example.jp",
    )


@pytest.fixture
def other_partner(network, secretariat_user):
    return partners.partner_create(
        actor=secretariat_user,
        network=network,
        name="販促シンジケート",
        kind=PartnerKind.NETWORK,
    )


@pytest.fixture
def make_key(secretariat_user):
    def make(organisation, scopes=ALL_SCOPES, name="system"):
        return partners.api_key_create(
            actor=secretariat_user, organisation=organisation, name=name, scopes=scopes
        )

    return make


def key_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client


@pytest.fixture
def partner_api(partner, make_key):
    """An API client holding a key of `partner` with every scope."""
    _key, raw = make_key(partner)
    return key_client(raw)


@pytest.fixture
def submit_payload(buff, stainless):
    def make(**overrides):
        payload = {
            "title": "ステンレス製タンブラーの鏡面研磨",
            "description": "SUS304 タンブラー 500個、鏡面仕上げ",
            "material": "stainless",
            "processes": ["buff"],
            "finish_kind": "grit",
            "finish_grit": 400,
            "quantity": 500,
            "length_mm": 90,
            "width_mm": 90,
            "height_mm": 150,
            "weight_kg": "0.30",
            "desired_delivery_date": "2099-12-31",
            "delivery_prefecture": "13",
            "buyer": dict(BUYER),
            "partner_reference": "PROSIUM-0042",
        }
        payload.update(overrides)
        return payload

    return make
