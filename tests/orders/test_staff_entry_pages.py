"""The secretariat's own entries: a phoned-in inquiry, and an inquiry split into stages
across partner networks (who may, the happy path, a refused input that saves nothing)."""

import pytest
from django.urls import reverse

from members.models import Buyer
from orders import services
from orders.models import Inquiry, InquiryStage, InquiryStatus
from tests.factories import NetworkFactory, ProcessFactory
from tests.orders.test_pages import form_data

S = InquiryStatus


def body(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------------------------------
# A phoned-in inquiry


def buyer_fields(**changes) -> dict:
    data = {
        "buyer-kind": "company",
        "buyer-name": "山田 太郎",
        "buyer-organisation": "山田金物店",
        "buyer-email": "yamada@example.jp",
        "buyer-phone": "0256-00-0000",
    }
    data.update(changes)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("secretariat_user", 200),
        ("committee_user", 403),
        ("member_user", 403),
        ("buyer_user", 403),
        ("other_secretariat_user", 404),
    ],
)
def test_phone_page_per_role(as_user, client, network, role, expected):
    as_user(role)

    response = client.get(reverse("inquiry_phone", args=[network.pk]))

    assert response.status_code == expected


@pytest.mark.django_db
def test_phone_page_needs_a_login(client, network):
    response = client.get(reverse("inquiry_phone", args=[network.pk]))

    assert response.status_code == 302


@pytest.mark.django_db
def test_queue_links_to_the_phone_page(client, network, secretariat_user):
    client.force_login(secretariat_user)

    page = body(client.get(reverse("inquiry_queue")))

    assert reverse("inquiry_phone", args=[network.pk]) in page


@pytest.mark.django_db
def test_secretariat_enters_a_phoned_in_inquiry(client, network, secretariat_user, buff, stainless):
    client.force_login(secretariat_user)

    response = client.post(
        reverse("inquiry_phone", args=[network.pk]),
        {**form_data(buff, stainless), **buyer_fields()},
    )

    inquiry = Inquiry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("inquiry_detail", args=[inquiry.pk])
    assert inquiry.network == network
    assert inquiry.entered_by == secretariat_user
    assert inquiry.status == S.SUBMITTED
    assert list(inquiry.processes.all()) == [buff]
    assert inquiry.buyer.name == "山田 太郎"
    assert inquiry.buyer.organisation == "山田金物店"
    assert inquiry.buyer.email == "yamada@example.jp"
    assert inquiry.buyer.user is None
    staff_page = body(client.get(response["Location"]))
    assert "山田金物店" in staff_page


@pytest.mark.django_db
def test_phoned_in_inquiry_without_a_valid_buyer_saves_nothing(
    client, network, secretariat_user, buff, stainless
):
    client.force_login(secretariat_user)

    response = client.post(
        reverse("inquiry_phone", args=[network.pk]),
        {**form_data(buff, stainless), **buyer_fields(**{"buyer-email": "not-an-address"})},
    )

    assert response.status_code == 200
    assert response.context["buyer_form"].errors["email"]
    assert not Inquiry.objects.exists()
    assert not Buyer.objects.exists()


@pytest.mark.django_db
def test_phoned_in_inquiry_for_another_network_is_refused(
    client, network, other_secretariat_user, buff, stainless
):
    client.force_login(other_secretariat_user)

    response = client.post(
        reverse("inquiry_phone", args=[network.pk]),
        {**form_data(buff, stainless), **buyer_fields()},
    )

    assert response.status_code == 404
    assert not Inquiry.objects.exists()


# ---------------------------------------------------------------------------------------
# Splitting into stages


@pytest.fixture
def press(db):
    return ProcessFactory(code="press", name_ja="プレス加工", name_en="Pressing")


@pytest.fixture
def chain(network, other_network, buyer_user, inquiry_data, buff, press):
    """A received inquiry needing pressing then buffing; the other network is a partner."""
    network.partners.add(other_network)
    return services.inquiry_submit(
        actor=buyer_user, network=network, data=inquiry_data(processes=[press, buff])
    )


def split_data(first, second, press, buff) -> dict:
    return {
        "split-network_1": str(first.pk),
        "split-processes_1": [str(press.pk)],
        "split-network_2": str(second.pk),
        "split-processes_2": [str(buff.pk)],
        "split-network_3": "",
        "split-network_4": "",
    }


@pytest.mark.django_db
def test_split_form_is_offered_to_the_secretariat_only(
    client, chain, secretariat_user, committee_user
):
    url = reverse("inquiry_split", args=[chain.pk])
    client.force_login(secretariat_user)
    assert url in body(client.get(reverse("inquiry_detail", args=[chain.pk])))
    client.force_login(committee_user)
    assert url not in body(client.get(reverse("inquiry_detail", args=[chain.pk])))


@pytest.mark.django_db
def test_no_split_form_for_a_single_process(client, submitted, secretariat_user):
    client.force_login(secretariat_user)

    page = body(client.get(reverse("inquiry_detail", args=[submitted.pk])))

    assert reverse("inquiry_split", args=[submitted.pk]) not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("committee_user", 403),
        ("buyer_user", 403),
        ("member_user", 404),
        ("other_secretariat_user", 404),
    ],
)
def test_split_per_role(
    as_user, client, chain, network, other_network, press, buff, role, expected
):
    as_user(role)

    response = client.post(
        reverse("inquiry_split", args=[chain.pk]), split_data(other_network, network, press, buff)
    )

    assert response.status_code == expected
    chain.refresh_from_db()
    assert chain.status == S.SUBMITTED
    assert not InquiryStage.objects.exists()


@pytest.mark.django_db
def test_secretariat_splits_into_stages(
    client, chain, network, other_network, secretariat_user, buyer_user, press, buff
):
    client.force_login(secretariat_user)

    response = client.post(
        reverse("inquiry_split", args=[chain.pk]), split_data(other_network, network, press, buff)
    )

    assert response.status_code == 302
    chain.refresh_from_db()
    assert chain.status == S.STAGED
    stages = list(chain.stages.order_by("sequence"))
    assert [s.network for s in stages] == [other_network, network]
    assert [list(s.processes.all()) for s in stages] == [[press], [buff]]
    staff_page = body(client.get(reverse("inquiry_detail", args=[chain.pk])))
    assert 'id="stages"' in staff_page
    for stage in stages:
        assert stage.inquiry.reference in staff_page
    # Only the stage in this network links to its page for this secretariat.
    assert reverse("inquiry_detail", args=[stages[1].inquiry.pk]) in staff_page
    assert reverse("inquiry_detail", args=[stages[0].inquiry.pk]) not in staff_page
    # The queue shows the staged inquiry, in its own tab and among those in progress.
    assert chain.reference in body(client.get(reverse("inquiry_queue") + "?status=staged"))
    assert chain.reference in body(client.get(reverse("inquiry_queue")))

    client.force_login(buyer_user)
    buyer_page = body(client.get(reverse("inquiry_detail", args=[chain.pk])))
    for stage in stages:
        assert reverse("inquiry_detail", args=[stage.inquiry.pk]) in buyer_page


@pytest.mark.django_db
def test_split_with_one_stage_shows_an_error_and_saves_nothing(
    client, chain, network, secretariat_user, press, buff
):
    client.force_login(secretariat_user)
    data = split_data(network, network, press, buff)
    data["split-processes_1"] = [str(press.pk), str(buff.pk)]
    data["split-network_2"] = ""
    data.pop("split-processes_2")

    response = client.post(reverse("inquiry_split", args=[chain.pk]), data)

    assert response.status_code == 200
    assert response.context["forms"]["split"].non_field_errors()
    chain.refresh_from_db()
    assert chain.status == S.SUBMITTED
    assert not InquiryStage.objects.exists()


@pytest.mark.django_db
def test_split_refuses_a_network_that_is_not_a_partner(
    client, chain, network, secretariat_user, press, buff
):
    stranger = NetworkFactory()
    client.force_login(secretariat_user)

    response = client.post(
        reverse("inquiry_split", args=[chain.pk]), split_data(stranger, network, press, buff)
    )

    assert response.status_code == 200
    assert response.context["forms"]["split"].errors["network_1"]
    assert not InquiryStage.objects.exists()


@pytest.mark.django_db
def test_split_that_misses_a_process_shows_the_services_reason(
    client, chain, network, other_network, secretariat_user, press, buff
):
    client.force_login(secretariat_user)
    data = split_data(other_network, network, press, buff)
    data["split-processes_2"] = [str(press.pk)]

    response = client.post(reverse("inquiry_split", args=[chain.pk]), data)

    assert response.status_code == 200
    assert response.context["forms"]["split"].non_field_errors()
    assert not InquiryStage.objects.exists()
