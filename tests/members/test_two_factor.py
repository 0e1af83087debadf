"""Two-factor sign-in (members.accounts, members.middleware, members.auth): enrolment,
the code after the password, backup codes, a network's requirement, the API and the admin."""

import base64
import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from members import accounts
from members.models import StaffRole
from tests.factories import CompanyUserFactory, NetworkStaffFactory, UserFactory

PASSWORD = "pass-for-tests-1"


def code_for(device) -> str:
    device.refresh_from_db()
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def next_window():
    """Half a minute on: a TOTP code is accepted once, so the next use needs the next one."""
    return time_machine.travel(timezone.now().timestamp() + 31)


def enrolled(user):
    device = accounts.totp_enrolment_start(user=user)
    with time_machine.travel(timezone.now().timestamp() - 60):
        device, codes = accounts.totp_enrolment_confirm(user=user, code=code_for(device))
    return device, codes


def password_step(client, user):
    return client.post("/login/", {"username": user.username, "password": PASSWORD})


def basic(user, password=PASSWORD):
    token = base64.b64encode(f"{user.username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


@pytest.fixture
def member(db):
    return CompanyUserFactory()


@pytest.fixture
def secretariat(network):
    return NetworkStaffFactory(network=network, role=StaffRole.SECRETARIAT).user


@pytest.fixture
def required(network):
    network.two_factor_required_for_staff = True
    network.save(update_fields=["two_factor_required_for_staff"])
    return network


def test_enrol_with_the_qr_code_and_a_confirming_code(member):
    client = Client()
    client.force_login(member)
    page = client.get("/account/two-factor/setup/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body
    device = TOTPDevice.objects.get(user=member, confirmed=False)
    secret = base64.b32encode(device.bin_key).decode()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in body
    assert "<script" not in body and "onclick" not in body  # CSP: no inline script
    # A wrong code leaves it off.
    wrong = client.post("/account/two-factor/setup/", {"code": "000000"})
    assert wrong.status_code == 200 and wrong.context["form"].errors["code"]
    assert not accounts.has_two_factor(member)
    with next_window():
        done = client.post("/account/two-factor/setup/", {"code": code_for(device)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and all(code in done.content.decode() for code in codes)
    assert accounts.has_two_factor(member)
    # This session was verified by the confirming code; the codes are never shown again.
    assert client.get("/").status_code == 200
    settings_page = client.get("/account/two-factor/").content.decode()
    assert not any(code in settings_page for code in codes)


def test_sign_in_asks_for_the_code_after_the_password(member):
    device, _codes = enrolled(member)
    client = Client()
    response = password_step(client, member)
    assert response.status_code == 302 and response["Location"] == "/login/code/"
    assert "_auth_user_id" not in client.session  # not signed in yet
    assert client.get("/").status_code == 302  # still anonymous: to the login
    with next_window():
        response = client.post("/login/code/", {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(member.pk)
    assert client.get("/").status_code == 200


def test_full_width_digits_are_accepted(member):
    device, _codes = enrolled(member)
    client = Client()
    password_step(client, member)
    with next_window():
        wide = code_for(device).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        assert client.post("/login/code/", {"code": wide}).status_code == 302
    assert client.session["_auth_user_id"] == str(member.pk)


def test_a_wrong_code_is_refused_and_counts_toward_the_lockout(member):
    enrolled(member)
    client = Client()
    password_step(client, member)
    for _ in range(4):
        refused = client.post("/login/code/", {"code": "123456"})
        assert refused.status_code == 200 and refused.context["form"].errors["code"]
        assert "_auth_user_id" not in client.session
    locked = client.post("/login/code/", {"code": "123456"})
    assert locked.status_code == 429
    # Locked at this address, even with the right password and code.
    again = Client()
    assert password_step(again, member).status_code == 429
    # The half-finished sign-in is gone.
    assert client.get("/login/code/").status_code == 302


def test_the_code_step_expires(member):
    device, _codes = enrolled(member)
    client = Client()
    password_step(client, member)
    with time_machine.travel(timezone.now().timestamp() + 301):
        response = client.post("/login/code/", {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session


def test_a_backup_code_works_once(member):
    _device, codes = enrolled(member)
    client = Client()
    password_step(client, member)
    assert client.post("/login/code/", {"code": codes[0].upper()}).status_code == 302
    assert client.session["_auth_user_id"] == str(member.pk)
    assert StaticToken.objects.filter(token=codes[0]).count() == 0
    client.post("/logout/")
    second = Client()
    password_step(second, member)
    with next_window():  # past django-otp's throttle delay of a failure
        refused = second.post("/login/code/", {"code": codes[0]})
    assert refused.status_code == 200 and "_auth_user_id" not in second.session
    with time_machine.travel(timezone.now().timestamp() + 120):
        assert second.post("/login/code/", {"code": codes[1]}).status_code == 302


def test_required_but_not_enrolled_is_forced_to_enrol(secretariat, required, network):
    client = Client()
    assert password_step(client, secretariat).status_code == 302  # the password signs in
    home = client.get("/")
    assert home.status_code == 302 and home["Location"] == "/account/two-factor/setup/?next=%2F"
    inquiries = client.get(f"/networks/{network.pk}/members/")
    assert inquiries.status_code == 302
    assert inquiries["Location"].startswith("/account/two-factor/setup/")
    api = client.get("/api/v1/me/")
    assert api.status_code == 403
    assert api.json()["errors"][0]["code"] == "two_factor_required"
    # Enrolment itself and leaving work.
    setup = client.get("/account/two-factor/setup/")
    assert setup.status_code == 200
    assert "requires two-factor" in setup.content.decode() or "必須" in setup.content.decode()
    device = TOTPDevice.objects.get(user=secretariat)
    with next_window():
        assert client.post("/account/two-factor/setup/", {"code": code_for(device)}).status_code
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200
    # Required: it cannot be turned off.
    with time_machine.travel(timezone.now().timestamp() + 90):
        response = client.post("/account/two-factor/disable/", {"code": code_for(device)})
    assert response.status_code == 403
    assert accounts.has_two_factor(secretariat)


def test_http_basic_is_refused_for_a_required_account(secretariat, required):
    response = APIClient().get("/api/v1/me/", **basic(secretariat))
    assert response.status_code in (401, 403)
    error = response.json()["errors"][0]
    assert error["code"] == "two_factor_required"
    assert "API key" in error["detail"] or "APIキー" in error["detail"]


def test_http_basic_is_refused_for_an_enrolled_account(member):
    assert APIClient().get("/api/v1/me/", **basic(member)).status_code == 200
    enrolled(member)
    response = APIClient().get("/api/v1/me/", **basic(member))
    assert response.json()["errors"][0]["code"] == "two_factor_required"


def test_a_user_the_rule_does_not_cover_is_unaffected(member, required, network):
    # A member company's user in a network that requires it of its staff only.
    client = Client()
    assert password_step(client, member).status_code == 302
    assert client.get("/").status_code == 200
    assert APIClient().get("/api/v1/me/", **basic(member)).status_code == 200
    # Another network's secretariat is not covered by this network's rule.
    other = NetworkStaffFactory(role=StaffRole.SECRETARIAT).user
    client = Client()
    password_step(client, other)
    assert client.get("/").status_code == 200


def test_the_admin_requires_the_code_of_staff_when_a_network_requires_it(required):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/two-factor/setup/")
    device, _codes = enrolled(admin)
    client = Client()
    password_step(client, admin)
    assert client.get("/admin/").status_code == 302  # not signed in before the code
    with next_window():
        client.post("/login/code/", {"code": code_for(device)})
    assert client.get("/admin/").status_code == 200


def test_the_admin_needs_no_code_while_no_network_requires_it(db):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    password_step(client, admin)
    assert client.get("/admin/").status_code == 200


def test_a_session_signed_in_before_enrolment_must_give_the_code(member):
    old_session = Client()
    password_step(old_session, member)
    assert old_session.get("/").status_code == 200
    device, _codes = enrolled(member)  # in another browser
    with time_machine.travel(timezone.now().timestamp() + 301):
        response = old_session.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/login/code/")
        response = old_session.post("/login/code/?next=/", {"code": code_for(device)})
        assert response.status_code == 302
        assert old_session.get("/").status_code == 200


def test_an_optional_second_factor_can_be_turned_off_with_a_code(member):
    device, _codes = enrolled(member)
    client = Client()
    password_step(client, member)
    with next_window():
        client.post("/login/code/", {"code": code_for(device)})
    with time_machine.travel(timezone.now().timestamp() + 62):
        client.post("/account/two-factor/disable/", {"code": "000000"})
        assert accounts.has_two_factor(member)
    with time_machine.travel(timezone.now().timestamp() + 125):
        client.post("/account/two-factor/disable/", {"code": code_for(device)})
    assert not accounts.has_two_factor(member)


def test_new_backup_codes_replace_the_old(member):
    device, old_codes = enrolled(member)
    client = Client()
    password_step(client, member)
    with next_window():
        client.post("/login/code/", {"code": code_for(device)})
    page = client.post("/account/two-factor/backup-codes/")
    new_codes = page.context["codes"]
    assert set(new_codes).isdisjoint(old_codes)
    tokens = set(StaticToken.objects.filter(device__user=member).values_list("token", flat=True))
    assert tokens == set(new_codes)


def test_the_login_page_and_header_link_the_settings(member):
    client = Client()
    client.force_login(member)
    assert re.search(r'href="/account/two-factor/"', client.get("/").content.decode())


def test_the_admin_login_leads_to_the_one_login_with_the_code_step(db):
    admin = UserFactory(is_staff=True, is_superuser=True)
    enrolled(admin)
    client = Client()
    response = client.get("/admin/")
    assert response.status_code == 302
    login_page = client.get(response["Location"])
    assert login_page.status_code == 302
    assert login_page["Location"] == "/login/?next=/admin/"
    # Posting the password to the admin's old address signs nobody in.
    client.post("/admin/login/", {"username": admin.username, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
