"""The secretariat's partner pages: admit a partner, issue a key (shown once) and revoke it,
add a webhook endpoint, read the delivery log and re-send; other networks get 404."""

# ruff: noqa: F811  (fixtures imported by name are used as test arguments)

import pytest
from django.urls import reverse

from brokerage import webhooks
from brokerage.models import (
    DeliveryStatus,
    PartnerApiKey,
    PartnerOrganisation,
    WebhookDelivery,
    WebhookEndpoint,
)
from core.models import DomainEvent
from tests.brokerage.partner_fixtures import (  # noqa: F401
    key_client,
    make_key,
    other_partner,
    partner,
    partner_api,
    submit_payload,
)


@pytest.fixture
def staff_client(client, secretariat_user):
    client.force_login(secretariat_user)
    return client


def test_the_secretariat_admits_a_partner(staff_client, network, other_network):
    response = staff_client.post(
        reverse("partner_list"),
        {
            "network": network.pk,
            "name": "プロシアムネット",
            "kind": "network",
            "linked_network": other_network.pk,
            "contact_email": "jimu@prosium.jp",
        },
    )

    organisation = PartnerOrganisation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("partner_detail", args=[organisation.pk])
    assert (organisation.network, organisation.linked_network) == (network, other_network)
    assert not organisation.service_user.is_active
    assert "プロシアムネット" in staff_client.get(reverse("partner_list")).content.decode()


def test_a_key_is_shown_once_then_only_its_prefix(staff_client, partner):
    response = staff_client.post(
        reverse("partner_key_create", args=[partner.pk]),
        {"name": "受発注システム", "scopes": ["catalogue:read", "inquiries:write"]},
    )

    assert response.status_code == 201
    raw = response.context["new_key"]["raw"]
    assert raw in response.content.decode()
    key = PartnerApiKey.objects.get()
    assert key.scopes == ["catalogue:read", "inquiries:write"]
    assert key_client(raw).get("/api/v1/partner/catalogue/").status_code == 200
    page = staff_client.get(reverse("partner_detail", args=[partner.pk])).content.decode()
    assert key.prefix in page
    assert raw not in page


def test_a_key_needs_a_scope(staff_client, partner):
    response = staff_client.post(
        reverse("partner_key_create", args=[partner.pk]), {"name": "x", "scopes": []}
    )
    assert response.status_code == 400
    assert not PartnerApiKey.objects.exists()


def test_the_secretariat_revokes_a_key(staff_client, partner, make_key):
    key, raw = make_key(partner)
    response = staff_client.post(reverse("partner_key_revoke", args=[partner.pk, key.prefix]))
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked and key.revoked_at is not None
    assert key_client(raw).get("/api/v1/partner/catalogue/").status_code == 401


def test_the_secretariat_adds_a_webhook_endpoint(staff_client, partner):
    response = staff_client.post(
        reverse("partner_endpoint_create", args=[partner.pk]),
        {"url": "https://hooks.example.jp/brokerage", "event_kinds": ["award.confirmed"]},
    )
    assert response.status_code == 201
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_kinds == ["award.confirmed"]
    assert endpoint.secret.startswith("whsec_")
    # Shown on the answer to the creation, never again: later only its fingerprint.
    assert endpoint.secret in response.content.decode()
    page = staff_client.get(reverse("partner_detail", args=[partner.pk])).content.decode()
    assert endpoint.secret not in page
    assert endpoint.secret_fingerprint in page


def test_the_secretariat_rotates_a_webhook_secret_shown_once(staff_client, partner):
    staff_client.post(
        reverse("partner_endpoint_create", args=[partner.pk]),
        {"url": "https://hooks.example.jp/brokerage"},
    )
    endpoint = WebhookEndpoint.objects.get()
    old = endpoint.secret

    response = staff_client.post(reverse("partner_endpoint_rotate", args=[partner.pk, endpoint.pk]))

    endpoint.refresh_from_db()
    assert response.status_code == 200
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.secret in response.content.decode()
    page = staff_client.get(reverse("partner_detail", args=[partner.pk])).content.decode()
    assert endpoint.secret not in page and old not in page


@pytest.fixture
def failed_delivery(partner, secretariat_user):
    endpoint = WebhookEndpoint.objects.create(
        organisation=partner, url="https://hooks.example.jp/x", secret=webhooks.new_secret()
    )
    event = DomainEvent.objects.create(
        kind="inquiry.submitted", aggregate="inquiry", aggregate_id=1
    )
    return WebhookDelivery.objects.create(
        event=event,
        endpoint=endpoint,
        status=DeliveryStatus.FAILED,
        attempts=8,
        last_status_code=503,
        last_error="receiver error",
    )


def test_delivery_log_and_resend(
    staff_client, partner, failed_delivery, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(webhooks, "enqueue_deliveries", lambda ids: queued.extend(ids))
    log = staff_client.get(reverse("partner_deliveries", args=[partner.pk]) + "?status=failed")
    text = log.content.decode()
    assert log.status_code == 200
    assert failed_delivery.message_id in text and "HTTP 503" in text

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("partner_delivery_resend", args=[partner.pk, failed_delivery.pk])
        )

    assert response.status_code == 302
    failed_delivery.refresh_from_db()
    assert (failed_delivery.status, failed_delivery.attempts) == ("pending", 0)
    assert queued == [failed_delivery.pk]


@pytest.mark.parametrize("who", ["other_secretariat_user", "member_user", "buyer_user"])
def test_other_networks_and_non_staff_get_404_and_change_nothing(
    client, request, who, partner, make_key, failed_delivery
):
    key, _raw = make_key(partner)
    client.force_login(request.getfixturevalue(who))
    gets = [
        reverse("partner_list"),
        reverse("partner_detail", args=[partner.pk]),
        reverse("partner_deliveries", args=[partner.pk]),
    ]
    posts = [
        reverse("partner_key_create", args=[partner.pk]),
        reverse("partner_key_revoke", args=[partner.pk, key.prefix]),
        reverse("partner_endpoint_create", args=[partner.pk]),
        reverse("partner_delivery_resend", args=[partner.pk, failed_delivery.pk]),
        reverse("partner_toggle", args=[partner.pk]),
        reverse("partner_endpoint_rotate", args=[partner.pk, failed_delivery.endpoint_id]),
    ]
    secret = failed_delivery.endpoint.secret
    statuses = [client.get(url).status_code for url in gets]
    statuses += [
        client.post(
            url, {"name": "x", "scopes": ["catalogue:read"], "url": "https://a.jp"}
        ).status_code
        for url in posts
    ]
    if who == "other_secretariat_user":
        statuses = statuses[1:]  # its own (empty) partner list is fine
    assert set(statuses) == {404}
    assert PartnerApiKey.objects.count() == 1 and not PartnerApiKey.objects.get().revoked
    assert not WebhookEndpoint.objects.exclude(pk=failed_delivery.endpoint_id).exists()
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == DeliveryStatus.FAILED
    assert failed_delivery.endpoint.secret == secret
    partner.refresh_from_db()
    assert partner.is_active


def test_anonymous_users_are_sent_to_login(client, partner):
    response = client.get(reverse("partner_detail", args=[partner.pk]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
