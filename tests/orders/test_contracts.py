"""Contracts: the agreement as a PDF, and the secretariat's contract templates (API, pages and
the services behind them)."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from core import pdf
from core.errors import BrokerageError, NotAllowed
from core.models import DomainEvent
from orders import contracts, projects
from orders.models import Agreement, ContractTemplate
from orders.projects import AGREEMENT_CONTEXT, DEFAULT_TEMPLATES
from tests.helpers import member

SOON = datetime.timedelta(days=20)
PAGE = re.compile(rb"/Type /Page\b(?!s)")
CUSTOM = (
    "共同作業合意書（{{ reference }}）\n\n"
    "{{ lead }}（甲）と {{ member }}（乙）は「{{ title }}」について合意する。\n"
    "{% for p in packages %}・{{ p.process }} {{ p.quantity }} 個 単価 {{ p.unit_price_yen }} 円\n"
    "{% endfor %}支払：{{ payment_terms }}\n"
)
BROKEN = {
    "unclosed tag": "{% for p in packages %}{{ p.process }}",
    "unknown tag": "{% frobnicate %}",
    "unknown name": "{{ lead }} と {{ leader }}",
    "empty": "  \n ",
    "load": "{% load static %}{{ lead }}",
    "include": '{% include "base.html" %}',
    "debug": "{% debug %}",
}


def pages(data: bytes) -> int:
    return len(PAGE.findall(data))


# --- Fixtures: a project whose package a member took, so a basic agreement exists ----


@pytest.fixture
def project(running_project):
    return running_project  # tests/conftest.py: the awarded lead's project


@pytest.fixture
def lead(awarded):
    return awarded[1]


def _package(project, lead, buff, stainless, *, unit_price_yen=1200):
    return projects.package_add(
        actor=lead,
        project=project,
        process=buff,
        material=stainless,
        quantity=300,
        unit_price_yen=unit_price_yen,
        due_date=timezone.localdate() + SOON,
    )


def _take(lead, package, user):
    invitation, _w = projects.invitation_send(actor=lead, package=package, company=user.company)
    projects.invitation_respond(actor=user, invitation=invitation, accept=True)


@pytest.fixture
def party(project, lead, network, buff, stainless):
    """The member that took the first package: the other party of the agreement."""
    user = member(network, buff, stainless)
    _take(lead, _package(project, lead, buff, stainless), user)
    return user


@pytest.fixture
def agreement(party):
    return Agreement.objects.get(kind="basic")


@pytest.fixture
def bystander(network, buff, stainless):
    """A joint-order member of the same network that is not a party."""
    return member(network, buff, stainless)


def _user(request, role):
    return None if role == "anonymous" else request.getfixturevalue(role)


# --- core.pdf ------------------------------------------------------------------------


def test_the_document_builder_makes_a_paged_pdf():
    document = pdf.Document(
        title="請求書 <draft> & co",
        footer="磨き屋シンジケート",
        blocks=[
            pdf.MetaBlock([("請求番号 / No.", "INV-0001"), ("発行日 / Date", "2026-05-01")]),
            pdf.Parties([pdf.Party("請求先 / Bill to", "株式会社 <燕> & 研磨", ["新潟県燕市"])]),
            pdf.Heading("明細 / Details"),
            pdf.Text("第1条 長い文章です。" * 400 + "\n  字下げ <b>太字ではない</b> 😀\x00"),
            pdf.Table(
                [pdf.Column("品目"), pdf.Column("数量", "number", 25), pdf.Column("金額", "yen")],
                rows=[["バフ研磨", 300, 360_000]] * 60,
                totals=[["合計", None, 396_000]],
            ),
            pdf.Signatures([pdf.Signature("甲", "株式会社 燕研磨", "2026-05-01 10:00", "山田")]),
        ],
    )

    data = pdf.render(document)

    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert pages(data) >= 3
    assert f"/Count {pages(data)}".encode() in data
    assert pdf.render(document) == data  # no timestamps: the same document, the same bytes


def test_formatting_helpers():
    assert (pdf.yen(1234), pdf.yen(-1_500_000), pdf.yen(0), pdf.yen(None)) == (
        "¥1,234",
        "-¥1,500,000",
        "¥0",
        "",
    )
    assert pdf.markup("<b>A & B</b>\n次") == "&lt;b&gt;A &amp; B&lt;/b&gt;<br/>次"


def test_download_is_an_ascii_attachment():
    response = pdf.download(b"%PDF-1.4", "契約 MIGAKIYA-2026-00001.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="---MIGAKIYA-2026-00001.pdf"'
    assert response["Cache-Control"] == "private, no-store"


# --- The agreement as a PDF ----------------------------------------------------------


def test_agreement_pdf_before_and_after_acceptance(agreement, party, lead):
    pending = contracts.agreement_pdf(agreement)
    assert pending.startswith(b"%PDF-") and pages(pending) == 1

    projects.agreement_accept(actor=party, agreement=agreement)
    projects.agreement_accept(actor=lead, agreement=agreement)
    agreement.refresh_from_db()
    accepted = contracts.agreement_pdf(agreement)

    assert accepted.startswith(b"%PDF-") and accepted != pending
    name = contracts.agreement_pdf_filename(agreement)
    assert name == f"agreement-{agreement.project.inquiry.reference}-BASIC-{agreement.pk}.pdf"
    assert name.isascii()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("lead", 200),
        ("party", 200),
        ("secretariat_user", 200),
        ("admin_user_", 200),
        ("bystander", 404),
        ("other_member_user", 404),
        ("buyer_user", 404),
        ("committee_user", 404),
        ("other_secretariat_user", 404),
        ("anonymous", 401),  # no credentials: 401 with a Basic challenge
    ],
)
def test_agreement_pdf_api_is_for_whoever_sees_the_agreement(
    api, request, agreement, role, expected
):
    user = _user(request, role)
    client = api.as_(user) if user else api

    response = client.get(f"/api/v1/agreements/{agreement.pk}/pdf/")

    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Type"] == "application/pdf"
        filename = contracts.agreement_pdf_filename(agreement)
        assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
        assert response.content.startswith(b"%PDF-")
    else:
        assert response["Content-Type"] == "application/json"


def test_agreement_pdf_api_honours_accept_pdf(api, agreement, lead, bystander):
    ok = api.as_(lead).get(f"/api/v1/agreements/{agreement.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    assert ok.status_code == 200 and ok.content.startswith(b"%PDF-")
    refused = api.as_(bystander).get(
        f"/api/v1/agreements/{agreement.pk}/pdf/", HTTP_ACCEPT="application/pdf"
    )
    assert refused.status_code == 404
    assert refused["Content-Type"] == "application/json"
    assert refused.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("lead", 200),
        ("party", 200),
        ("secretariat_user", 200),
        ("bystander", 404),
        ("other_member_user", 404),
        ("buyer_user", 404),
        ("committee_user", 404),
        ("other_secretariat_user", 404),
        ("anonymous", 302),
    ],
)
def test_agreement_pdf_page_is_for_whoever_sees_the_agreement(
    client, request, agreement, role, expected
):
    user = _user(request, role)
    if user:
        client.force_login(user)

    response = client.get(reverse("agreement_pdf", args=[agreement.pk]))

    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith('attachment; filename="agreement-')
        assert response.content.startswith(b"%PDF-")
    if expected == 302:
        assert response["Location"].startswith(reverse("login"))


# --- Template services -----------------------------------------------------------------


def test_the_standard_texts_pass_the_template_check(network):
    for kind, body in DEFAULT_TEMPLATES.items():
        text = contracts.template_preview(network, kind, body)
        assert "株式会社 見本製作所" in text and "{{" not in text
    assert [name for name, _help in contracts.usable_names()] == list(AGREEMENT_CONTEXT)
    assert all(help_text for _name, help_text in contracts.usable_names())


def test_saving_records_the_previous_text(network, secretariat_user):
    first = contracts.template_save(
        actor=secretariat_user,
        network=network,
        kind="basic",
        body="甲 {{ lead }}\r\n乙 {{ member }}",
    )
    assert first.body == "甲 {{ lead }}\n乙 {{ member }}"  # the browser's line ends, normalised
    second = contracts.template_save(
        actor=secretariat_user, network=network, kind="basic", body=CUSTOM
    )
    contracts.template_save(actor=secretariat_user, network=network, kind="basic", body=CUSTOM)

    assert second.pk == first.pk and ContractTemplate.objects.get().body == CUSTOM
    events = DomainEvent.objects.filter(kind="contract_template.saved").order_by("id")
    assert [e.payload["previous_body"] for e in events] == [None, first.body]  # no third
    assert {(e.aggregate, e.aggregate_id, e.actor_id) for e in events} == {
        ("contracttemplate", first.pk, secretariat_user.pk)
    }


@pytest.mark.parametrize("role", ["committee_user", "lead_user", "other_secretariat_user"])
def test_only_the_networks_secretariat_saves(request, network, role):
    with pytest.raises(NotAllowed):
        contracts.template_save(
            actor=request.getfixturevalue(role), network=network, kind="basic", body=CUSTOM
        )
    assert not ContractTemplate.objects.exists()
    assert not DomainEvent.objects.filter(kind="contract_template.saved").exists()


@pytest.mark.parametrize("body", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_template_is_refused_on_body(network, secretariat_user, body):
    with pytest.raises(BrokerageError) as exc:
        contracts.template_save(actor=secretariat_user, network=network, kind="basic", body=body)
    assert exc.value.field == "body" and exc.value.message
    with pytest.raises(BrokerageError):
        contracts.template_preview(network, "basic", body)
    assert not ContractTemplate.objects.exists()
    assert not DomainEvent.objects.filter(kind="contract_template.saved").exists()


def test_the_syntax_error_is_named(network, secretariat_user):
    with pytest.raises(BrokerageError) as exc:
        contracts.template_preview(network, "basic", BROKEN["unknown name"])
    assert "leader" in exc.value.message
    with pytest.raises(BrokerageError) as exc:
        contracts.template_preview(network, "basic", BROKEN["unknown tag"])
    assert "frobnicate" in exc.value.message
    with pytest.raises(BrokerageError) as exc:
        contracts.template_preview(network, "lease", CUSTOM)
    assert exc.value.field == "kind"


def test_a_saved_template_applies_to_agreements_generated_afterwards(
    agreement, project, lead, network, buff, stainless, secretariat_user
):
    before = agreement.body
    assert before.startswith("基本合意書")

    contracts.template_save(actor=secretariat_user, network=network, kind="basic", body=CUSTOM)
    newcomer = member(network, buff, stainless)
    _take(lead, _package(project, lead, buff, stainless, unit_price_yen=2500), newcomer)

    agreement.refresh_from_db()
    assert agreement.body == before  # generated earlier: keeps its text
    later = Agreement.objects.get(member=newcomer.company, kind="basic")
    assert later.body.startswith(f"共同作業合意書（{project.inquiry.reference}）")
    assert newcomer.company.legal_name in later.body and "2,500" in later.body
    assert contracts.agreement_pdf(later).startswith(b"%PDF-")


# --- Template API ------------------------------------------------------------------------


def test_secretariat_saves_through_the_api(api, network, secretariat_user, committee_user):
    client = api.as_(secretariat_user)
    data = {"network": network.pk, "kind": "basic", "body": CUSTOM}

    created = client.post("/api/v1/contract-templates/", data, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["body"] == CUSTOM
    again = client.post(
        "/api/v1/contract-templates/", {**data, "body": "{{ lead }}"}, format="json"
    )
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    put = client.put(
        f"/api/v1/contract-templates/{created.json()['id']}/", {"body": CUSTOM}, format="json"
    )
    assert put.status_code == 200 and put.json()["body"] == CUSTOM
    assert DomainEvent.objects.filter(kind="contract_template.saved").count() == 3

    # The network's staff read it; the committee does not write it.
    listed = api.as_(committee_user).get("/api/v1/contract-templates/").json()
    assert [t["kind"] for t in listed["results"]] == ["basic"]
    refused = api.as_(committee_user).put(
        f"/api/v1/contract-templates/{created.json()['id']}/", {"body": "x"}, format="json"
    )
    assert refused.status_code == 403
    assert ContractTemplate.objects.get().body == CUSTOM


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("lead_user", 403),
        ("member_user", 403),
        ("buyer_user", 403),
        ("committee_user", 403),
        ("other_secretariat_user", 403),
        ("anonymous", 401),  # no credentials: 401 with a Basic challenge
    ],
)
def test_only_the_secretariat_writes_through_the_api(api, request, network, role, expected):
    user = _user(request, role)
    client = api.as_(user) if user else api
    data = {"network": network.pk, "kind": "basic", "body": CUSTOM}

    assert client.post("/api/v1/contract-templates/", data, format="json").status_code == expected
    preview = client.post("/api/v1/contract-templates/preview/", data, format="json")
    assert preview.status_code == expected
    assert not ContractTemplate.objects.exists()
    assert not DomainEvent.objects.filter(kind="contract_template.saved").exists()


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("secretariat_user", True),
        ("committee_user", True),
        ("admin_user_", True),
        ("other_secretariat_user", False),
        ("lead_user", False),
        ("buyer_user", False),
    ],
)
def test_templates_are_read_by_the_networks_staff(
    api, request, network, secretariat_user, role, visible
):
    template = contracts.template_save(
        actor=secretariat_user, network=network, kind="nda", body="{{ lead }}"
    )
    client = api.as_(request.getfixturevalue(role))

    assert client.get("/api/v1/contract-templates/").json()["count"] == int(visible)
    detail = client.get(f"/api/v1/contract-templates/{template.pk}/")
    assert detail.status_code == (200 if visible else 404)
    put = client.put(f"/api/v1/contract-templates/{template.pk}/", {"body": "x"}, format="json")
    assert put.status_code in ((200, 403) if visible else (404,))


def test_template_list_query_budget(
    api, network, other_network, secretariat_user, admin_user_, django_assert_max_num_queries
):
    for kind in ("basic", "nda"):
        contracts.template_save(actor=admin_user_, network=network, kind=kind, body="{{ lead }}")
        contracts.template_save(
            actor=admin_user_, network=other_network, kind=kind, body="{{ member }}"
        )
    client = api.as_(secretariat_user)
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/contract-templates/")
    assert [(t["network"], t["kind"]) for t in response.json()["results"]] == [
        (network.pk, "basic"),
        (network.pk, "nda"),
    ]


@pytest.mark.parametrize("body", BROKEN.values(), ids=BROKEN.keys())
def test_api_names_body_for_a_broken_template(api, network, secretariat_user, body):
    client = api.as_(secretariat_user)
    data = {"network": network.pk, "kind": "basic", "body": body}
    for url in ("/api/v1/contract-templates/", "/api/v1/contract-templates/preview/"):
        response = client.post(url, data, format="json")
        assert response.status_code == 400
        assert [e["attr"] for e in response.json()["errors"]] == ["body"]
    assert not ContractTemplate.objects.exists()


def test_api_preview(api, network, secretariat_user):
    response = api.as_(secretariat_user).post(
        "/api/v1/contract-templates/preview/",
        {"network": network.pk, "kind": "basic", "body": CUSTOM},
        format="json",
    )
    assert response.status_code == 200
    assert "株式会社 見本製作所（甲）と 有限会社 見本研磨（乙）" in response.json()["text"]
    assert not ContractTemplate.objects.exists()


# --- Template pages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("secretariat_user", 200),
        ("admin_user_", 200),
        ("committee_user", 403),
        ("lead_user", 403),
        ("member_user", 403),
        ("buyer_user", 403),
        ("other_secretariat_user", 404),
        ("anonymous", 302),
    ],
)
def test_template_pages_are_the_secretariats(client, request, network, role, expected):
    user = _user(request, role)
    if user:
        client.force_login(user)
    edit = reverse("contract_template_edit", args=[network.pk, "basic"])

    assert client.get(reverse("contract_template_list", args=[network.pk])).status_code == expected
    assert client.get(edit).status_code == expected
    assert client.post(edit, {"body": CUSTOM, "save": "1"}).status_code == (
        302 if expected in (200, 302) else expected
    )
    saved = ContractTemplate.objects.filter(network=network).exists()
    assert saved == (expected == 200)


def test_editor_shows_the_current_text_names_and_a_preview(client, network, secretariat_user):
    client.force_login(secretariat_user)
    response = client.get(reverse("contract_template_edit", args=[network.pk, "basic"]))
    assert response.context["form"]["body"].value() == DEFAULT_TEMPLATES["basic"]
    assert [name for name, _h in response.context["names"]] == list(AGREEMENT_CONTEXT)
    assert "株式会社 見本製作所" in response.context["preview"]
    html = response.content.decode()
    assert "{{ payment_terms }}" in html and 'name="preview"' in html
    assert client.get(
        reverse("contract_template_edit", args=[network.pk, "lease"])
    ).status_code == (404)


def test_editor_saves_and_previews(client, network, secretariat_user):
    client.force_login(secretariat_user)
    url = reverse("contract_template_edit", args=[network.pk, "nda"])

    preview = client.post(url, {"body": CUSTOM, "preview": "1"})
    assert preview.status_code == 200 and "有限会社 見本研磨" in preview.context["preview"]
    assert not ContractTemplate.objects.exists()

    saved = client.post(url, {"body": CUSTOM, "save": "1"}, follow=True)
    assert saved.redirect_chain == [(url, 302)]
    assert ContractTemplate.objects.get(network=network, kind="nda").body == CUSTOM
    assert saved.context["form"]["body"].value() == CUSTOM
    listing = client.get(reverse("contract_template_list", args=[network.pk]))
    assert [bool(row["template"]) for row in listing.context["rows"]] == [False, True]


@pytest.mark.parametrize("action", ["save", "preview"])
@pytest.mark.parametrize("body", BROKEN.values(), ids=BROKEN.keys())
def test_editor_shows_a_broken_template_on_body(client, network, secretariat_user, body, action):
    client.force_login(secretariat_user)
    response = client.post(
        reverse("contract_template_edit", args=[network.pk, "basic"]), {"body": body, action: "1"}
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["body"]
    assert response.context["preview"] is None
    assert not ContractTemplate.objects.exists()
    assert not DomainEvent.objects.filter(kind="contract_template.saved").exists()


def test_home_links_the_editor(client, network, secretariat_user):
    client.force_login(secretariat_user)
    html = client.get(reverse("home")).content.decode()
    assert reverse("contract_template_list", args=[network.pk]) in html
