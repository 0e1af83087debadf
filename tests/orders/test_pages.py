"""The inquiry-flow pages: who may open what (per role), the forms and the services behind
them, sealed prices and the buyer's name, the award as the buyer sees it, the guest flow and
the query budgets of the lists."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import DomainEvent
from members.models import Buyer, MembershipClass, User
from orders import guests, services
from orders.models import (
    Application,
    ApplicationStatus,
    AwardStatus,
    GuestInquiryRequest,
    Inquiry,
    InquiryAttachment,
    InquiryStatus,
)
from tests import scenarios
from tests.factories import (
    BuyerFactory,
    MembershipFactory,
    NetworkFactory,
    NetworkStaffFactory,
)
from tests.helpers import pass_deadline

S = InquiryStatus
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def other_buyer_user(db):
    return BuyerFactory().user


@pytest.fixture
def other_lead_user(other_network):
    """A lead company of another network."""
    return scenarios.company_user(other_network, membership_class=MembershipClass.LEAD)


def form_data(buff, stainless, **changes) -> dict:
    data = {
        "title": "ステンレス製タンブラーの鏡面研磨",
        "description": "SUS304 タンブラー、外側を鏡面に",
        "material": str(stainless.pk),
        "processes": [str(buff.pk)],
        "finish_kind": "grit",
        "finish_grit": "400",
        "finish_ra_input": "",
        "quantity": "500",
        "lot_pattern": "one_off",
        "length_mm": "90",
        "width_mm": "90",
        "height_mm": "150",
        "weight_kg": "0.3",
        "desired_delivery_date": (timezone.localdate() + datetime.timedelta(days=60)).isoformat(),
        "delivery_prefecture": "13",
        "delivery_city": "大田区",
        "budget_yen": "",
        "idempotency_key": "",
    }
    data.update(changes)
    return data


def apply(user, inquiry, price=100_000, days=20):
    return services.application_place(
        actor=user, inquiry=inquiry, price_yen=price, lead_time_days=days
    )


def body(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------------------------------
# Sign-in


PAGES = [
    ("inquiry_create", {}),
    ("my_inquiries", {}),
    ("inquiry_detail", {"pk": 1}),
    ("attachment_download", {"pk": 1, "attachment_pk": 1}),
    ("inquiry_queue", {}),
    ("committee_list", {}),
    ("call_board", {}),
    ("call_detail", {"pk": 1}),
    ("my_applications", {}),
]
POSTS = [
    ("inquiry_answer", {"pk": 1}),
    ("inquiry_withdraw", {"pk": 1}),
    ("attachment_upload", {"pk": 1}),
    ("inquiry_publish", {"pk": 1}),
    ("inquiry_confirm", {"pk": 1}),
    ("application_withdraw", {"pk": 1}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kwargs"), PAGES + POSTS)
def test_anonymous_is_sent_to_login(client, name, kwargs):
    url = reverse(name, kwargs=kwargs)

    response = client.get(url) if (name, kwargs) in PAGES else client.post(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


# ---------------------------------------------------------------------------------------
# Who sees which inquiry


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status", "template"),
    [
        ("buyer_user", 200, "orders/inquiry_buyer.html"),
        ("secretariat_user", 200, "orders/inquiry_staff.html"),
        ("committee_user", 200, "orders/inquiry_staff.html"),
        ("other_buyer_user", 404, None),
        ("lead_user", 404, None),  # not published yet
        ("member_user", 404, None),
        ("other_member_user", 404, None),
        ("other_secretariat_user", 404, None),
    ],
)
def test_inquiry_page_per_role(as_user, client, submitted, role, status, template):
    as_user(role)

    response = client.get(reverse("inquiry_detail", args=[submitted.pk]))

    assert response.status_code == status
    if template:
        assert template in [t.name for t in response.templates]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("lead_user", 200),
        ("member_user", 404),
        ("other_member_user", 404),
        ("other_lead_user", 404),
        ("other_buyer_user", 404),
        ("other_secretariat_user", 404),
    ],
)
def test_call_page_per_role(as_user, client, open_inquiry, role, status):
    as_user(role)

    response = client.get(reverse("call_detail", args=[open_inquiry.pk]))

    assert response.status_code == status


@pytest.mark.django_db
def test_published_inquiry_sends_a_lead_to_the_call(client, lead_user, open_inquiry):
    client.force_login(lead_user)

    response = client.get(reverse("inquiry_detail", args=[open_inquiry.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("call_detail", args=[open_inquiry.pk])


@pytest.mark.django_db
def test_buyer_lists_only_own_inquiries(
    client, buyer_user, other_buyer_user, network, inquiry_data
):
    mine = services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    services.inquiry_submit(
        actor=other_buyer_user, network=network, data=inquiry_data(title="よその引き合い")
    )
    client.force_login(buyer_user)

    response = client.get(reverse("my_inquiries"))

    assert [i.pk for i in response.context["page"].object_list] == [mine.pk]
    assert "よその引き合い" not in body(response)


@pytest.mark.django_db
def test_queue_shows_only_the_secretariats_networks(
    client, secretariat_user, submitted, other_network, other_buyer_user, inquiry_data
):
    services.inquiry_submit(
        actor=other_buyer_user, network=other_network, data=inquiry_data(title="他ネットワーク案件")
    )
    client.force_login(secretariat_user)

    response = client.get(reverse("inquiry_queue"))

    assert [row["inquiry"].pk for row in response.context["rows"]] == [submitted.pk]
    assert "他ネットワーク案件" not in body(response)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["buyer_user", "lead_user", "member_user"])
def test_queue_is_for_staff_only(as_user, client, role):
    as_user(role)

    assert client.get(reverse("inquiry_queue")).status_code == 403


@pytest.mark.django_db
def test_queue_filters_by_status_and_marks_risk_and_passed_deadlines(
    client, secretariat_user, network, buyer_user, inquiry_data
):
    def submit(title):
        return services.inquiry_submit(
            actor=buyer_user, network=network, data=inquiry_data(title=title)
        )

    received = submit("受付中")
    network.min_application_window_hours = 1
    network.save(update_fields=["min_application_window_hours"])
    soon = services.inquiry_publish(
        actor=secretariat_user,
        inquiry=submit("締切間近"),
        deadline=timezone.now() + datetime.timedelta(hours=5),
    )
    passed = pass_deadline(
        services.inquiry_publish(actor=secretariat_user, inquiry=submit("期限切れ"))
    )
    client.force_login(secretariat_user)

    open_tab = client.get(reverse("inquiry_queue"), {"status": "open"})
    received_tab = client.get(reverse("inquiry_queue"), {"status": "submitted"})

    rows = {row["inquiry"].pk: row for row in open_tab.context["rows"]}
    assert set(rows) == {soon.pk, passed.pk}
    assert (rows[soon.pk]["at_risk"], rows[soon.pk]["deadline_passed"]) == (True, False)
    assert (rows[passed.pk]["at_risk"], rows[passed.pk]["deadline_passed"]) == (True, True)
    assert [row["inquiry"].pk for row in received_tab.context["rows"]] == [received.pk]
    counts = {tab["key"]: tab["count"] for tab in open_tab.context["tabs"]}
    assert counts == {
        "active": 3,
        "submitted": 1,
        "question": 0,
        "committee": 0,
        "open": 2,
        "evaluation": 0,
        "staged": 0,
        "done": 0,
    }
    assert "期限切れ" in body(open_tab)


@pytest.mark.django_db
def test_board_lists_open_calls_of_the_leads_networks_only(
    client, lead_user, open_inquiry, other_network, other_buyer_user, inquiry_data, make_lead
):
    other_secretariat = NetworkStaffFactory(network=other_network).user
    foreign = services.inquiry_submit(
        actor=other_buyer_user, network=other_network, data=inquiry_data(title="他の募集")
    )
    services.inquiry_publish(actor=other_secretariat, inquiry=foreign)
    apply(lead_user, open_inquiry)
    client.force_login(lead_user)

    response = client.get(reverse("call_board"))

    calls = list(response.context["calls"])
    assert [c.pk for c in calls] == [open_inquiry.pk]
    assert calls[0].applied is True
    assert "他の募集" not in body(response)
    assert "応募済み" in body(response)


@pytest.mark.django_db
def test_board_explains_that_only_leads_apply(client, member_user, open_inquiry):
    client.force_login(member_user)

    response = client.get(reverse("call_board"))

    assert response.context["calls"] == []
    assert "受注幹事企業のみ" in body(response)


# ---------------------------------------------------------------------------------------
# The buyer's form


@pytest.mark.django_db
def test_buyer_submits_an_inquiry_with_drawings(client, buyer_user, network, buff, stainless):
    client.force_login(buyer_user)
    files = [
        SimpleUploadedFile("図面.pdf", PDF, content_type="application/pdf"),
        SimpleUploadedFile("photo2.pdf", PDF, content_type="application/pdf"),
    ]

    response = client.post(
        reverse("inquiry_create"), {**form_data(buff, stainless), "files": files}
    )

    inquiry = Inquiry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("inquiry_detail", args=[inquiry.pk])
    assert (inquiry.network, inquiry.buyer.user, inquiry.status) == (
        network,
        buyer_user,
        S.SUBMITTED,
    )
    assert list(inquiry.processes.all()) == [buff]
    assert sorted(a.original_name for a in inquiry.attachments.all()) == ["photo2.pdf", "図面.pdf"]
    page = body(client.get(response["Location"]))
    assert inquiry.reference in page
    assert "図面.pdf" in page


@pytest.mark.django_db
def test_same_form_posted_twice_makes_one_inquiry(client, buyer_user, network, buff, stainless):
    client.force_login(buyer_user)
    data = form_data(buff, stainless, idempotency_key="form-1234")

    first = client.post(
        reverse("inquiry_create"), {**data, "files": [SimpleUploadedFile("a.pdf", PDF)]}
    )
    second = client.post(
        reverse("inquiry_create"), {**data, "files": [SimpleUploadedFile("a.pdf", PDF)]}
    )

    assert first["Location"] == second["Location"]
    assert Inquiry.objects.count() == 1
    assert InquiryAttachment.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {
                "desired_delivery_date": (
                    timezone.localdate() - datetime.timedelta(days=1)
                ).isoformat()
            },
            "desired_delivery_date",
            "納期は未来の日付にしてください。",
        ),
        ({"processes": []}, "processes", "この項目は必須です。"),
        ({"finish_grit": ""}, "finish_grit", "番手を入力してください（例：400）。"),
    ],
)
def test_inquiry_form_errors_save_nothing(
    client, buyer_user, network, buff, stainless, changes, field, message
):
    client.force_login(buyer_user)

    response = client.post(reverse("inquiry_create"), form_data(buff, stainless, **changes))

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert not Inquiry.objects.exists()


@pytest.mark.django_db
def test_exe_renamed_pdf_is_refused_and_nothing_is_saved(
    client, buyer_user, network, buff, stainless
):
    client.force_login(buyer_user)
    files = [
        SimpleUploadedFile("good.pdf", PDF, content_type="application/pdf"),
        SimpleUploadedFile("drawing.pdf", EXE, content_type="application/pdf"),
    ]

    response = client.post(
        reverse("inquiry_create"), {**form_data(buff, stainless), "files": files}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["files"] == [
        "drawing.pdf: 受け付けるのは PDF、JPEG、PNG、WebP、GIF、DXF、STEP のファイルだけです。"
    ]
    assert not Inquiry.objects.exists()
    assert not InquiryAttachment.objects.exists()
    assert not DomainEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["secretariat_user", "lead_user", "member_user"])
def test_only_buyers_open_the_inquiry_form(as_user, client, role):
    as_user(role)

    assert client.get(reverse("inquiry_create")).status_code == 403


@pytest.mark.django_db
def test_network_is_chosen_only_when_there_are_several(
    client, buyer_user, network, buff, stainless
):
    client.force_login(buyer_user)
    single = client.get(reverse("inquiry_create")).context["form"]
    NetworkFactory(name="アドック神戸", slug="adock")

    several = client.get(reverse("inquiry_create")).context["form"]

    assert single.fields["network"].widget.input_type == "hidden"
    assert several.fields["network"].widget.input_type == "select"
    assert len(several.fields["network"].queryset) == 2


# ---------------------------------------------------------------------------------------
# Screening by the secretariat


@pytest.mark.django_db
def test_staff_page_shows_matches_and_uncovered_processes(
    client, secretariat_user, network, buyer_user, inquiry_data, make_lead, buff
):
    from tests.factories import ProcessFactory

    plating = ProcessFactory(code="plating", name_ja="めっき", name_en="Plating")
    lead = make_lead()
    inquiry = services.inquiry_submit(
        actor=buyer_user, network=network, data=inquiry_data(processes=[buff, plating])
    )
    client.force_login(secretariat_user)

    response = client.get(reverse("inquiry_detail", args=[inquiry.pk]))

    matches = response.context["matches"]
    assert [(m.company_id, m.is_candidate) for m in matches] == [(lead.company_id, True)]
    assert response.context["uncovered"] == [plating]
    page = body(response)
    assert "対応できない加工" in page
    assert "めっき" in page
    assert lead.company.legal_name in page


@pytest.mark.django_db
def test_secretariat_publishes_with_a_deadline(client, secretariat_user, submitted):
    client.force_login(secretariat_user)
    deadline = (timezone.localtime() + datetime.timedelta(days=3)).replace(second=0, microsecond=0)

    response = client.post(
        reverse("inquiry_publish", args=[submitted.pk]),
        {"publish-deadline": deadline.strftime("%Y-%m-%dT%H:%M"), "publish-award_mode": "bid"},
    )

    submitted.refresh_from_db()
    assert response.status_code == 302
    assert (submitted.status, submitted.application_deadline, submitted.award_mode) == (
        S.OPEN,
        deadline,
        "bid",
    )


@pytest.mark.django_db
def test_deadline_in_the_past_is_a_form_error(client, secretariat_user, submitted):
    client.force_login(secretariat_user)

    response = client.post(
        reverse("inquiry_publish", args=[submitted.pk]),
        {"publish-deadline": "2020-01-01T10:00", "publish-award_mode": ""},
    )

    submitted.refresh_from_db()
    assert response.status_code == 200
    assert response.context["forms"]["publish"].errors["deadline"] == [
        "締切は未来の日時にしてください。"
    ]
    assert submitted.status == S.SUBMITTED


@pytest.mark.django_db
def test_decline_needs_a_reason(client, secretariat_user, submitted):
    client.force_login(secretariat_user)

    response = client.post(reverse("inquiry_reject", args=[submitted.pk]), {"reject-reason": " "})

    submitted.refresh_from_db()
    assert response.context["forms"]["reject"].errors["reason"] == ["この項目は必須です。"]
    assert submitted.status == S.SUBMITTED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("buyer_user", 403),
        ("committee_user", 403),
        ("lead_user", 404),
        ("other_secretariat_user", 404),
    ],
)
def test_only_the_networks_secretariat_screens(as_user, client, submitted, role, status):
    as_user(role)

    response = client.post(reverse("inquiry_publish", args=[submitted.pk]), {})

    submitted.refresh_from_db()
    assert response.status_code == status
    assert submitted.status == S.SUBMITTED


@pytest.mark.django_db
def test_question_and_answer_through_the_pages(client, secretariat_user, buyer_user, submitted):
    client.force_login(secretariat_user)
    client.post(
        reverse("inquiry_ask", args=[submitted.pk]),
        {"ask-question": "材質の板厚を教えてください。"},
    )
    client.force_login(buyer_user)
    buyer_page = body(client.get(reverse("inquiry_detail", args=[submitted.pk])))

    response = client.post(
        reverse("inquiry_answer", args=[submitted.pk]), {"answer-answer": "板厚は 1.2 mm です。"}
    )

    submitted.refresh_from_db()
    assert "材質の板厚を教えてください。" in buyer_page
    assert response.status_code == 302
    assert submitted.status == S.SUBMITTED
    assert [m.kind for m in submitted.messages.all()] == ["question", "answer"]
    assert "板厚は 1.2 mm です。" in body(
        client.get(reverse("inquiry_detail", args=[submitted.pk]))
    )


@pytest.mark.django_db
def test_buyer_withdraws(client, buyer_user, submitted):
    client.force_login(buyer_user)

    client.post(reverse("inquiry_withdraw", args=[submitted.pk]), {"withdraw-reason": "社内で対応"})

    submitted.refresh_from_db()
    assert (submitted.status, submitted.outcome_reason) == (S.WITHDRAWN, "社内で対応")


@pytest.mark.django_db
def test_secretariat_may_not_withdraw_for_the_buyer(client, secretariat_user, submitted):
    client.force_login(secretariat_user)

    response = client.post(reverse("inquiry_withdraw", args=[submitted.pk]), {})

    submitted.refresh_from_db()
    assert response.status_code == 403
    assert submitted.status == S.SUBMITTED


@pytest.mark.django_db
def test_committee_decides_an_escalated_inquiry(
    client, secretariat_user, committee_user, submitted
):
    client.force_login(secretariat_user)
    client.post(
        reverse("inquiry_escalate", args=[submitted.pk]), {"escalate-reason": "4.5万個の大量案件"}
    )
    client.force_login(committee_user)
    listed = client.get(reverse("committee_list")).context["escalated"]

    response = client.post(
        reverse("inquiry_decide", args=[submitted.pk]),
        {
            "decide-accept": "1",
            "decide-votes_for": "5",
            "decide-votes_against": "1",
            "decide-votes_abstained": "0",
            "decide-reason": "会員の空き能力で対応可能",
            "decide-deadline": "",
            "decide-award_mode": "",
        },
    )

    submitted.refresh_from_db()
    assert [i.pk for i in listed] == [submitted.pk]
    assert response.status_code == 302
    assert submitted.status == S.OPEN
    assert submitted.committee_decision.votes_for == 5


@pytest.mark.django_db
def test_committee_accepting_without_majority_is_a_form_error(
    client, secretariat_user, committee_user, submitted
):
    services.inquiry_escalate(actor=secretariat_user, inquiry=submitted, reason="特殊案件")
    client.force_login(committee_user)

    response = client.post(
        reverse("inquiry_decide", args=[submitted.pk]),
        {
            "decide-accept": "1",
            "decide-votes_for": "2",
            "decide-votes_against": "3",
            "decide-votes_abstained": "0",
            "decide-reason": "賛成少数",
        },
    )

    submitted.refresh_from_db()
    assert response.context["forms"]["decide"].errors["votes_for"] == [
        "受注するには、賛成票が反対票を上回る必要があります。"
    ]
    assert submitted.status == S.COMMITTEE


@pytest.mark.django_db
def test_committee_opens_the_applications_together(
    client, network, committee_user, open_inquiry, make_lead
):
    network.applications_opened_by_committee = True
    network.save()
    apply(make_lead(), open_inquiry, price=120_000)
    pass_deadline(open_inquiry)
    services.inquiries_close_due()
    client.force_login(committee_user)
    assert [i.pk for i in client.get(reverse("committee_list")).context["to_open"]] == [
        open_inquiry.pk
    ]

    client.post(reverse("inquiry_open_applications", args=[open_inquiry.pk]))

    open_inquiry.refresh_from_db()
    assert open_inquiry.applications_opened_at is not None
    assert open_inquiry.award.status == AwardStatus.PROPOSED


# ---------------------------------------------------------------------------------------
# Applications, sealed prices and the award


@pytest.mark.django_db
def test_lead_applies_revises_and_withdraws_through_the_call_page(
    client, lead_user, network, open_inquiry
):
    teammate = MembershipFactory(network=network).company
    client.force_login(lead_user)
    url = reverse("call_detail", args=[open_inquiry.pk])

    client.post(
        url,
        {"price_yen": "¥１,２００,０００", "lead_time_days": "30", "proposed_team": [teammate.pk]},
    )
    application = Application.objects.get()
    form = client.get(url).context["form"]
    client.post(
        url,
        {
            "application": application.pk,
            "price_yen": "1100000",
            "lead_time_days": "25",
            "notes": "改訂",
        },
    )
    application.refresh_from_db()
    revised = (application.price_yen, application.lead_time_days, application.revision)
    client.post(reverse("application_withdraw", args=[application.pk]))

    application.refresh_from_db()
    assert form.initial["application"] == application.pk
    assert revised == (1_100_000, 25, 2)
    assert application.status == ApplicationStatus.WITHDRAWN


@pytest.mark.django_db
def test_second_application_is_refused(client, lead_user, open_inquiry):
    apply(lead_user, open_inquiry, price=150_000)
    client.force_login(lead_user)

    # A colleague's blank form, opened before the first application was placed.
    response = client.post(
        reverse("call_detail", args=[open_inquiry.pk]),
        {"price_yen": "90000", "lead_time_days": "9"},
    )

    assert response.context["form"].non_field_errors() == [
        "貴社はすでに応募しています。その応募を修正してください。"
    ]
    assert list(Application.objects.values_list("price_yen", flat=True)) == [150_000]


@pytest.mark.django_db
def test_application_after_the_deadline_is_refused(client, lead_user, open_inquiry):
    pass_deadline(open_inquiry)
    client.force_login(lead_user)

    response = client.post(
        reverse("call_detail", args=[open_inquiry.pk]),
        {"price_yen": "90000", "lead_time_days": "9"},
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["応募期間は終了しました。"]
    assert not Application.objects.exists()
    # Without a refused form to explain, the closed call offers no form at all.
    assert client.get(reverse("call_detail", args=[open_inquiry.pk])).context["form"] is None


@pytest.mark.django_db
def test_team_outside_the_joint_order_members_is_refused(
    client, lead_user, open_inquiry, other_network
):
    outsider = MembershipFactory(network=other_network).company
    client.force_login(lead_user)

    response = client.post(
        reverse("call_detail", args=[open_inquiry.pk]),
        {"price_yen": "90000", "lead_time_days": "9", "proposed_team": [outsider.pk]},
    )

    assert "proposed_team" in response.context["form"].errors
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_prices_stay_sealed_until_the_window_closes(
    client, secretariat_user, open_inquiry, make_lead
):
    first, second = make_lead(), make_lead()
    apply(first, open_inquiry, price=123_457)
    apply(second, open_inquiry, price=987_653)

    client.force_login(first)
    lead_page = body(client.get(reverse("call_detail", args=[open_inquiry.pk])))
    client.force_login(secretariat_user)
    staff_page = body(client.get(reverse("inquiry_detail", args=[open_inquiry.pk])))

    assert "123,457" in lead_page  # its own price
    for digits in ("987,653", "987653"):
        assert digits not in lead_page
    for digits in ("987,653", "987653", "123,457", "123457"):
        assert digits not in staff_page
    assert staff_page.count("封印中") == 2

    pass_deadline(open_inquiry)
    services.inquiries_close_due()
    opened = body(client.get(reverse("inquiry_detail", args=[open_inquiry.pk])))
    assert "¥123,457" in opened
    assert "¥987,653" in opened
    assert "封印中" not in opened


@pytest.mark.django_db
def test_buyer_name_is_hidden_from_leads_until_they_win(
    client, secretariat_user, buyer_user, open_inquiry, make_lead
):
    winner, loser = make_lead(), make_lead()
    apply(winner, open_inquiry, price=100_000)
    apply(loser, open_inquiry, price=200_000)
    buyer = open_inquiry.buyer
    client.force_login(winner)
    before = body(client.get(reverse("call_detail", args=[open_inquiry.pk])))
    pass_deadline(open_inquiry)
    services.inquiries_close_due()
    services.award_confirm(actor=secretariat_user, inquiry=open_inquiry)

    after = body(client.get(reverse("call_detail", args=[open_inquiry.pk])))
    client.force_login(loser)
    lost = body(client.get(reverse("call_detail", args=[open_inquiry.pk])))

    assert buyer.name not in before and buyer.organisation not in before
    assert buyer.organisation in after
    assert "貴社が選ばれました" in after
    assert buyer.name not in lost and buyer.organisation not in lost
    assert "今回は選ばれませんでした" in lost
    assert winner.company.legal_name in lost


@pytest.mark.django_db
def test_award_breakdown_confirm_and_the_buyers_page(
    client, secretariat_user, buyer_user, open_inquiry, make_lead
):
    cheap, dear = make_lead(), make_lead()
    apply(cheap, open_inquiry, price=100_000, days=20)
    apply(dear, open_inquiry, price=200_000, days=10)
    pass_deadline(open_inquiry)
    services.inquiries_close_due()
    client.force_login(buyer_user)
    before = body(client.get(reverse("inquiry_detail", args=[open_inquiry.pk])))
    client.force_login(secretariat_user)
    staff = client.get(reverse("inquiry_detail", args=[open_inquiry.pk]))

    client.post(reverse("inquiry_confirm", args=[open_inquiry.pk]))

    client.force_login(buyer_user)
    after = client.get(reverse("inquiry_detail", args=[open_inquiry.pk]))
    breakdown = staff.context["breakdown"]
    assert [(row["rank"], row["company_name"], row["total"]) for row in breakdown] == [
        (1, cheap.company.legal_name, 80.0),
        (2, dear.company.legal_name, 60.0),
    ]
    assert [key for key, _label in staff.context["terms"]] == [
        "price",
        "lead_time",
        "track_record",
        "fairness",
    ]
    assert "confirm" in staff.context["actions"]
    assert cheap.company.legal_name not in before
    assert "¥100,000" not in before
    open_inquiry.refresh_from_db()
    assert open_inquiry.status == S.AWARDED
    page = body(after)
    assert cheap.company.legal_name in page
    assert "¥100,000" in page
    assert "20日" in page
    assert "¥200,000" not in page
    assert dear.company.legal_name not in page


@pytest.mark.django_db
def test_secretariat_chooses_by_coordination(client, secretariat_user, open_inquiry, make_lead):
    cheap, dear = make_lead(), make_lead()
    apply(cheap, open_inquiry, price=100_000)
    chosen = apply(dear, open_inquiry, price=200_000)
    pass_deadline(open_inquiry)
    services.inquiries_close_due()
    client.force_login(secretariat_user)
    empty = client.post(
        reverse("inquiry_choose", args=[open_inquiry.pk]),
        {"choose-application": chosen.pk, "choose-reason": ""},
    )

    client.post(
        reverse("inquiry_choose", args=[open_inquiry.pk]),
        {"choose-application": chosen.pk, "choose-reason": "チタン加工の実績"},
    )

    open_inquiry.refresh_from_db()
    assert empty.context["forms"]["choose"].errors["reason"] == ["この項目は必須です。"]
    assert (open_inquiry.award.application_id, open_inquiry.award.mode) == (
        chosen.pk,
        "coordination",
    )


# ---------------------------------------------------------------------------------------
# Drawings


@pytest.fixture
def drawing(submitted, buyer_user):
    return services.attachment_add(
        actor=buyer_user, inquiry=submitted, upload=SimpleUploadedFile("図面.pdf", PDF)
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("buyer_user", 200),
        ("secretariat_user", 200),
        ("lead_user", 404),  # not published yet
        ("other_secretariat_user", 404),
        ("other_buyer_user", 404),
    ],
)
def test_drawing_download_per_role(as_user, client, submitted, drawing, role, status):
    as_user(role)

    response = client.get(reverse("attachment_download", args=[submitted.pk, drawing.pk]))

    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert "attachment;" in response["Content-Disposition"]


@pytest.mark.django_db
@pytest.mark.parametrize(("nda", "status"), [(False, 200), (True, 403)])
def test_lead_downloads_drawings_unless_an_nda_is_needed(
    client, secretariat_user, lead_user, submitted, drawing, nda, status
):
    Inquiry.objects.filter(pk=submitted.pk).update(nda_required=nda)
    services.inquiry_publish(actor=secretariat_user, inquiry=submitted)
    client.force_login(lead_user)

    call = body(client.get(reverse("call_detail", args=[submitted.pk])))
    response = client.get(reverse("attachment_download", args=[submitted.pk, drawing.pk]))

    assert response.status_code == status
    assert ("図面.pdf" in call) is not nda


@pytest.mark.django_db
def test_buyer_adds_a_drawing_later(client, buyer_user, submitted):
    client.force_login(buyer_user)

    client.post(
        reverse("attachment_upload", args=[submitted.pk]),
        {"attach-files": [SimpleUploadedFile("追加.pdf", PDF)]},
    )

    assert [a.original_name for a in submitted.attachments.all()] == ["追加.pdf"]


# ---------------------------------------------------------------------------------------
# Query budgets


def _inquiries(network, buyer, secretariat, inquiry_data, count, publish):
    for n in range(count):
        inquiry = services.inquiry_submit(
            actor=buyer, network=network, data=inquiry_data(title=f"案件{n}")
        )
        if publish:
            services.inquiry_publish(actor=secretariat, inquiry=inquiry)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("page", "role", "publish"),
    [("inquiry_queue", "secretariat_user", False), ("call_board", "lead_user", True)],
)
def test_list_query_count_does_not_grow(
    client, request, network, buyer_user, secretariat_user, inquiry_data, page, role, publish
):
    user = request.getfixturevalue(role)
    client.force_login(user)
    url = reverse(page)
    _inquiries(network, buyer_user, secretariat_user, inquiry_data, 3, publish)
    client.get(url)  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as three:
        assert body(client.get(url)).count("案件") >= 3

    _inquiries(network, buyer_user, secretariat_user, inquiry_data, 17, publish)
    with CaptureQueriesContext(connection) as twenty:
        response = client.get(url)

    listed = response.context["rows"] if page == "inquiry_queue" else response.context["calls"]
    assert len(list(listed)) == 20
    assert len(twenty) == len(three)
    assert len(three) <= 14


# ---------------------------------------------------------------------------------------
# Guests


def guest_data(buff, stainless, **changes):
    data = {
        **form_data(buff, stainless),
        "buyer-kind": "individual",
        "buyer-name": "燕 花子",
        "buyer-organisation": "",
        "buyer-email": "Hanako@example.jp",
        "buyer-phone": "",
    }
    data.update(changes)
    return data


def confirmation_link() -> str:
    """Send the pending confirmation e-mails (the task's work) and return the last link."""
    for pk in GuestInquiryRequest.objects.values_list("pk", flat=True):
        guests.guest_inquiry_email_send(request_id=pk)
    return re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[-1].body).group(1)


@pytest.mark.django_db
def test_guest_inquiry_is_created_only_on_confirmation(client, network, buff, stainless):
    response = client.post(reverse("guest_inquiry"), guest_data(buff, stainless))

    assert response.status_code == 200
    assert mail.outbox == []  # sent by a task after commit, not inside the request
    assert not Inquiry.objects.exists() and not User.objects.exists()
    link = confirmation_link()
    assert mail.outbox[0].to == ["hanako@example.jp"]
    summary = client.get(link)
    assert "ステンレス製タンブラーの鏡面研磨" in body(summary)
    assert not Inquiry.objects.exists()

    first = client.post(link)
    second = client.post(link)  # a double click

    inquiry = Inquiry.objects.get()
    assert first["Location"] == second["Location"] == reverse("inquiry_detail", args=[inquiry.pk])
    buyer = Buyer.objects.get()
    assert (buyer.kind, buyer.name, buyer.email, buyer.user.username) == (
        "individual",
        "燕 花子",
        "hanako@example.jp",
        "hanako@example.jp",
    )
    assert not buyer.user.has_usable_password()
    page = client.get(first["Location"])
    assert page.context["password_link"].startswith("/password-reset/")


@pytest.mark.django_db
def test_guest_company_must_be_named(client, network, buff, stainless):
    response = client.post(
        reverse("guest_inquiry"), guest_data(buff, stainless, **{"buyer-kind": "company"})
    )

    assert response.context["buyer_form"].errors["organisation"] == ["会社名を入力してください。"]
    assert not GuestInquiryRequest.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_guest_link_tampered_or_expired_creates_nothing(client, network, buff, stainless):
    client.post(reverse("guest_inquiry"), guest_data(buff, stainless))
    link = confirmation_link()

    tampered = client.post(link[:-3] + "xx/")
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3)):
        expired = client.post(link)

    assert (tampered.status_code, expired.status_code) == (400, 400)
    assert "有効期限" in body(expired)
    assert not Inquiry.objects.exists() and not User.objects.exists()
    assert GuestInquiryRequest.objects.get().status == "pending"


@pytest.mark.django_db
def test_signed_in_buyer_is_sent_to_the_normal_form(client, buyer_user):
    client.force_login(buyer_user)

    response = client.get(reverse("guest_inquiry"))

    assert response["Location"] == reverse("inquiry_create")


@pytest.mark.django_db
def test_pages_switch_to_english(client, settings, secretariat_user, buyer_user, submitted):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(secretariat_user)
    staff = body(client.get(reverse("inquiry_detail", args=[submitted.pk])))
    client.force_login(buyer_user)
    form = body(client.get(reverse("inquiry_create")))

    assert "Match list" in staff
    assert "Publish to the lead companies" in staff
    assert "Received, being screened" in staff
    assert "inquiry title" in form.lower()
    assert "Send the inquiry" in form
    assert "引き合い" not in form.replace(submitted.title, "")
