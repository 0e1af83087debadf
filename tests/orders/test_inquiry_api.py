import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from orders import services
from orders.models import Inquiry, InquiryAttachment
from tests.orders.conftest import pass_deadline

URL = "/api/v1/inquiries/"


def body(network, **overrides):
    data = {
        "network": network.id,
        "title": "チタン部品の電解研磨",
        "description": "半導体装置部品",
        "material": "stainless",
        "processes": ["buff"],
        "finish_kind": "mirror",
        "quantity": 200,
        "length_mm": 300,
        "width_mm": 100,
        "height_mm": 50,
        "weight_kg": "1.5",
        "desired_delivery_date": (timezone.localdate() + datetime.timedelta(days=45)).isoformat(),
        "delivery_prefecture": "15",
    }
    data.update(overrides)
    return data


def test_buyer_creates_with_idempotency_key(api, network, buyer_user, buff, stainless):
    client = api.as_(buyer_user)
    first = client.post(URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert first.status_code == 201, first.json()
    again = client.post(URL, body(network), format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Inquiry.objects.count() == 1
    assert first.json()["buyer_name"] == str(buyer_user.buyer)


@pytest.mark.parametrize(
    ("overrides", "attr", "code"),
    [
        ({"desired_delivery_date": "2020-01-01"}, "desired_delivery_date", None),
        ({"processes": ["laser"]}, "processes", "does_not_exist"),
        ({"material": "gold"}, "material", "does_not_exist"),
        ({"quantity": 0}, "quantity", "min_value"),
        ({"title": ""}, "title", "blank"),
        ({"delivery_prefecture": "99"}, "delivery_prefecture", "invalid_choice"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    api, network, buyer_user, buff, stainless, overrides, attr, code
):
    response = api.as_(buyer_user).post(URL, body(network, **overrides), format="json")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["attr"].split(".")[0] == attr
    if code:
        assert error["code"] == code
    assert not Inquiry.objects.exists()


def test_missing_fields_are_each_named(api, network, buyer_user):
    response = api.as_(buyer_user).post(URL, {"network": network.id}, format="json")
    assert response.status_code == 400
    attrs = {e["attr"] for e in response.json()["errors"]}
    assert {"title", "material", "processes", "quantity", "desired_delivery_date"} <= attrs


def test_who_sees_which_inquiry(
    api,
    submitted,
    open_inquiry,
    buyer_user,
    secretariat_user,
    other_secretariat_user,
    lead_user,
    member_user,
    other_member_user,
):
    # `open_inquiry` is `submitted`, published.
    url = f"{URL}{submitted.id}/"
    assert api.as_(buyer_user).get(url).status_code == 200
    assert api.as_(secretariat_user).get(url).status_code == 200
    lead_view = api.as_(lead_user).get(url)
    assert lead_view.status_code == 200
    assert lead_view.json()["buyer_name"] is None  # leads do not learn the buyer
    for outsider in (other_secretariat_user, member_user, other_member_user):
        assert api.as_(outsider).get(url).status_code == 404


def test_lead_does_not_see_unpublished_inquiries(api, submitted, lead_user):
    assert api.as_(lead_user).get(f"{URL}{submitted.id}/").status_code == 404
    assert api.as_(lead_user).get(URL).json()["results"] == []


def test_screening_actions_and_illegal_moves(api, submitted, secretariat_user, buyer_user):
    client = api.as_(secretariat_user)
    url = f"{URL}{submitted.id}/"
    response = client.post(url + "ask/", {"question": "図面をください"}, format="json")
    assert response.json()["status"] == "question"
    response = client.post(url + "publish/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "invalid_transition"
    response = api.as_(buyer_user).post(url + "answer/", {"answer": "添付します"}, format="json")
    assert response.json()["status"] == "submitted"
    response = api.as_(buyer_user).post(url + "publish/", {}, format="json")
    assert response.status_code == 403
    response = client.post(
        url + "publish/", {"deadline": "2020-01-01T00:00:00+09:00"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "deadline"
    response = client.post(url + "publish/", {}, format="json")
    assert response.json()["status"] == "open"
    timeline = api.as_(buyer_user).get(url + "timeline/").json()
    assert [e["kind"] for e in timeline] == [
        "status",
        "status",
        "question",
        "answer",
        "status",
        "status",
    ] or [e["status"] for e in timeline if e["kind"] == "status"][-1]


def test_sealed_prices_stay_sealed_until_opened(
    api, open_inquiry, make_lead, secretariat_user, buyer_user
):
    a, b = make_lead(), make_lead()
    client_a, client_b = api.as_(a), api.as_(b)
    response = client_a.post(
        "/api/v1/applications/",
        {"inquiry": open_inquiry.id, "price_yen": 123457, "lead_time_days": 12},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["price_yen"] == 123457  # its own price
    app_id = response.json()["id"]
    client_b.post(
        "/api/v1/applications/",
        {"inquiry": open_inquiry.id, "price_yen": 99999, "lead_time_days": 30},
        format="json",
    )
    # Another lead: not listed, not fetchable.
    assert [x["price_yen"] for x in client_b.get("/api/v1/applications/").json()["results"]] == [
        99999
    ]
    assert client_b.get(f"/api/v1/applications/{app_id}/").status_code == 404
    # The secretariat's API: listed, price sealed.
    staff = api.as_(secretariat_user).get("/api/v1/applications/").json()["results"]
    assert {x["price_yen"] for x in staff} == {None}
    # The buyer sees no applications at all.
    assert api.as_(buyer_user).get("/api/v1/applications/").json()["results"] == []
    for client in (api.as_(secretariat_user), api.as_(buyer_user), client_b):
        text = client.get(f"{URL}{open_inquiry.id}/").content.decode()
        assert "123457" not in text
    # After the deadline the staff see prices; the other lead still does not.
    pass_deadline(open_inquiry)
    services.inquiries_close_due()
    staff = api.as_(secretariat_user).get("/api/v1/applications/").json()["results"]
    assert sorted(x["price_yen"] for x in staff) == [99999, 123457]
    assert client_b.get(f"/api/v1/applications/{app_id}/").status_code == 404


def test_application_errors(api, open_inquiry, make_lead, member_user):
    lead = make_lead()
    payload = {"inquiry": open_inquiry.id, "price_yen": 1000, "lead_time_days": 5}
    assert api.as_(lead).post("/api/v1/applications/", payload, format="json").status_code == 201
    second = api.as_(lead).post("/api/v1/applications/", payload, format="json")
    assert second.status_code == 409
    assert second.json()["errors"][0]["attr"] == "inquiry"
    # A member (not a lead) cannot see the call at all.
    assert (
        api.as_(member_user).post("/api/v1/applications/", payload, format="json").status_code
        == 404
    )
    pass_deadline(open_inquiry)
    late = api.as_(make_lead()).post("/api/v1/applications/", payload, format="json")
    assert late.status_code == 409
    bad = api.as_(lead).post("/api/v1/applications/", {**payload, "price_yen": -5}, format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "price_yen"


def test_award_through_the_api_and_who_sees_what(
    api, open_inquiry, make_lead, secretariat_user, buyer_user
):
    winner, loser = make_lead(), make_lead()
    for user, price in ((winner, 100_000), (loser, 150_000)):
        api.as_(user).post(
            "/api/v1/applications/",
            {"inquiry": open_inquiry.id, "price_yen": price, "lead_time_days": 10},
            format="json",
        )
    pass_deadline(open_inquiry)
    services.inquiries_close_due()
    url = f"{URL}{open_inquiry.id}/"
    assert api.as_(buyer_user).get(url).json()["award"] is None  # proposed, not confirmed
    response = api.as_(buyer_user).post(url + "confirm-award/")
    assert response.status_code == 403
    response = api.as_(secretariat_user).post(url + "confirm-award/")
    assert response.status_code == 200
    assert response.json()["status"] == "awarded"
    assert len(response.json()["award"]["score_breakdown"]) == 2
    again = api.as_(secretariat_user).post(url + "confirm-award/")
    assert again.status_code == 409
    buyer_award = api.as_(buyer_user).get(url).json()["award"]
    assert (buyer_award["company"], buyer_award["price_yen"]) == (winner.company.id, 100_000)
    assert "score_breakdown" not in buyer_award
    loser_view = api.as_(loser).get(url).json()
    assert loser_view["award"] == {
        "company": winner.company.id,
        "company_name": winner.company.legal_name,
    }
    assert api.as_(winner).get(url).json()["buyer_name"] == str(buyer_user.buyer)


def test_attachments_checked_by_content(api, submitted, buyer_user, member_user):
    url = f"{URL}{submitted.id}/attachments/"
    client = api.as_(buyer_user)
    pdf = SimpleUploadedFile("drawing.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    response = client.post(url, {"file": pdf}, format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == "application/pdf"
    step = SimpleUploadedFile("part.step", b"ISO-10303-21;\nHEADER;\n")
    assert (
        client.post(url, {"file": step}, format="multipart").json()["content_type"] == "model/step"
    )
    fake = SimpleUploadedFile("virus.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100)
    response = client.post(url, {"file": fake}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "file"
    stored = InquiryAttachment.objects.get(content_type="application/pdf")
    assert stored.original_name == "drawing.pdf"
    assert "drawing" not in stored.file.name  # random stored name
    assert InquiryAttachment.objects.count() == 2


def test_attachment_too_large(api, submitted, buyer_user, monkeypatch):
    monkeypatch.setattr("orders.uploads.MAX_ATTACHMENT_BYTES", 100)
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * 200)
    response = api.as_(buyer_user).post(
        f"{URL}{submitted.id}/attachments/", {"file": big}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "file_too_large"


def test_matches_are_for_staff(api, submitted, secretariat_user, buyer_user, make_lead):
    make_lead()
    response = api.as_(secretariat_user).get(f"{URL}{submitted.id}/matches/")
    assert response.status_code == 200
    assert response.json()["matches"][0]["is_candidate"] is True
    assert api.as_(buyer_user).get(f"{URL}{submitted.id}/matches/").status_code == 403


@pytest.mark.parametrize("count", [3, 25])
def test_inquiry_list_query_count_does_not_grow(
    api, network, buyer_user, secretariat_user, inquiry_data, count, django_assert_max_num_queries
):
    for _ in range(count):
        services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    with django_assert_max_num_queries(10):
        response = api.as_(secretariat_user).get(URL)
    assert len(response.json()["results"]) == count


def _list_and_details(client):
    """The viewer's list rows, each with the detail of the same inquiry."""
    rows = client.get(URL).json()["results"]
    return [(row, client.get(f"{URL}{row['id']}/").json()) for row in rows]


def _assert_list_agrees_with_detail(client):
    pairs = _list_and_details(client)
    for row, detail in pairs:
        # The list is a summary of the detail: no field of its own but the award's status.
        assert set(row) <= set(detail)
        for field in set(row) - {"award"}:
            assert row[field] == detail[field], field
        # The award: shown in both or neither, and the same where both show a value.
        assert (row["award"] is None) == (detail["award"] is None)
        if row["award"] is not None:
            shared = set(row["award"]) & set(detail["award"])
            assert {"company", "company_name"} <= shared
            assert {k: row["award"][k] for k in shared} == {k: detail["award"][k] for k in shared}
            # Prices and the scoring stay in the detail, for whom the detail shows them.
            assert not {"price_yen", "lead_time_days", "score_breakdown"} & set(row["award"])
    return {row["id"]: row for row, _ in pairs}


def test_list_and_detail_agree_on_fields_and_visibility(
    api, network, open_inquiry, make_lead, secretariat_user, buyer_user, inquiry_data
):
    winner, loser = make_lead(), make_lead()
    unpublished = services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    for user, price in ((winner, 100_000), (loser, 150_000)):
        services.application_place(
            actor=user, inquiry=open_inquiry, price_yen=price, lead_time_days=10
        )
    clients = {
        "secretariat": api.as_(secretariat_user),
        "buyer": api.as_(buyer_user),
        "winner": api.as_(winner),
        "loser": api.as_(loser),
    }
    # Sealed: no viewer's list holds another's price (nor any price: they are detail only).
    for client in clients.values():
        text = client.get(URL).content.decode()
        assert "100000" not in text
        assert "150000" not in text

    # Proposed: only the staff see the award; leads see neither the buyer nor the unpublished.
    pass_deadline(open_inquiry)
    services.inquiries_close_due()
    seen = {role: _assert_list_agrees_with_detail(c) for role, c in clients.items()}
    assert set(seen["secretariat"]) == set(seen["buyer"]) == {open_inquiry.id, unpublished.id}
    assert set(seen["winner"]) == set(seen["loser"]) == {open_inquiry.id}
    assert seen["secretariat"][open_inquiry.id]["award"] == {
        "company": winner.company.id,
        "company_name": winner.company.legal_name,
        "status": "proposed",
    }
    for role in ("buyer", "winner", "loser"):
        assert seen[role][open_inquiry.id]["award"] is None, role
    for role in ("winner", "loser"):
        assert seen[role][open_inquiry.id]["buyer_name"] is None, role
    assert seen["buyer"][open_inquiry.id]["buyer_name"] == str(buyer_user.buyer)

    # Confirmed: everyone who sees the inquiry sees who won; the winner learns the buyer.
    services.award_confirm(actor=secretariat_user, inquiry=open_inquiry)
    seen = {role: _assert_list_agrees_with_detail(c) for role, c in clients.items()}
    for role in clients:
        award = seen[role][open_inquiry.id]["award"]
        assert (award["company"], award["status"]) == (winner.company.id, "confirmed"), role
    assert seen["winner"][open_inquiry.id]["buyer_name"] == str(buyer_user.buyer)
    assert seen["loser"][open_inquiry.id]["buyer_name"] is None


def test_list_shows_codes_and_no_detail_only_fields(api, network, secretariat_user, submitted):
    row = api.as_(secretariat_user).get(URL).json()["results"][0]
    assert row["material"] == "stainless"
    assert row["processes"] == ["buff"]
    assert "attachments" not in row
    assert "stages" not in row
    client = api.as_(secretariat_user)
    for params in ({"process": "buff"}, {"search": submitted.reference}, {"ordering": "-id"}):
        assert [r["id"] for r in client.get(URL, params).json()["results"]] == [submitted.id]
    assert client.get(URL, {"process": "pressing"}).json()["results"] == []
