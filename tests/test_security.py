"""Cross-cutting security: login throttling, CSRF on forms, production settings."""

import base64

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import CompanyUserFactory


@pytest.fixture
def user(db):
    return CompanyUserFactory(username="tsubame", password="right-password-1")


def test_five_wrong_passwords_lock_the_login(user):
    client = Client()
    for _ in range(4):
        response = client.post("/login/", {"username": "tsubame", "password": "wrong"})
        assert response.status_code == 200  # the form again, with an error
    response = client.post("/login/", {"username": "tsubame", "password": "wrong"})
    assert response.status_code == 429
    response = client.post("/login/", {"username": "tsubame", "password": "right-password-1"})
    assert response.status_code == 429  # locked: even the right password is refused
    assert "_auth_user_id" not in client.session
    # Another username from the same address is not locked.
    CompanyUserFactory(username="sanjo", password="other-password-1")
    response = client.post("/login/", {"username": "sanjo", "password": "other-password-1"})
    assert response.status_code == 302


def test_a_success_before_the_limit_resets_the_count(user):
    for _ in range(4):
        Client().post("/login/", {"username": "tsubame", "password": "wrong"})
    response = Client().post("/login/", {"username": "tsubame", "password": "right-password-1"})
    assert response.status_code == 302
    for _ in range(4):
        Client().post("/login/", {"username": "tsubame", "password": "wrong"})
    response = Client().post("/login/", {"username": "tsubame", "password": "right-password-1"})
    assert response.status_code == 302


def basic(username, password):
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def test_basic_auth_on_the_api_is_throttled_too(user):
    client = APIClient()
    assert client.get("/api/v1/me/", **basic("tsubame", "right-password-1")).status_code == 200
    for _ in range(5):
        response = client.get("/api/v1/me/", **basic("tsubame", "wrong"))
        assert response.status_code in (401, 403, 429)
    response = client.get("/api/v1/me/", **basic("tsubame", "right-password-1"))
    assert response.status_code == 429
    assert response["Retry-After"] == "1800"


def test_forms_need_a_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/i18n/setlang/", {"language": "en"})
    assert response.status_code == 403


@pytest.mark.postgres
def test_the_audit_trail_cannot_be_rewritten_in_the_database(submitted):
    from django.db import DatabaseError, transaction

    from core.models import StatusChange

    with pytest.raises(DatabaseError), transaction.atomic():
        StatusChange.objects.update(reason="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        StatusChange.objects.all().delete()
    assert StatusChange.objects.filter(reason="rewritten").count() == 0
    assert StatusChange.objects.count() == 1


def test_status_changes_refuse_edits_in_code(submitted):
    from core.models import StatusChange

    change = StatusChange.objects.get()
    with pytest.raises(ValueError):
        change.save()
    with pytest.raises(ValueError):
        change.delete()
