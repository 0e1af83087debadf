"""The project pages (issue 5): who may open each page (per role), the forms and the services
behind them, errors on the named field with nothing saved, and the happy path of each form."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders import execution, projects, sampling
from orders.models import (
    Agreement,
    Claim,
    Delivery,
    EvidencePhoto,
    Inspection,
    Invitation,
    InvitationStatus,
    MemberCharge,
    PackageStatus,
    Project,
    ProjectStatus,
    Shipment,
    WorkPackage,
    WorkStandard,
)
from orders.project_forms import payment_terms_plain
from tests.factories import BuyerFactory
from tests.helpers import member

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def photo(name="defect.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def body(response) -> str:
    return response.content.decode()


def has_error(response, field: str) -> bool:
    """The field's block on the page carries the error (see orders/_fields.html)."""
    return f"field-{field} has-error" in body(response)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


# --- the people around a project --------------------------------------------------------


@pytest.fixture
def project_lead(awarded):
    return awarded[1]


@pytest.fixture
def team_member(team_package):
    return team_package[1]


@pytest.fixture
def other_lead_user(make_lead):
    """A lead company of the same network, not of this project."""
    return make_lead()


@pytest.fixture
def stranger_member(network, buff, stainless):
    """A joint-order member of the network with no part in the project."""
    return member(network, buff, stainless)


@pytest.fixture
def other_buyer_user(db):
    return BuyerFactory().user


@pytest.fixture
def open_package(running_project, project_lead, buff, stainless):
    return projects.package_add(
        actor=project_lead,
        project=running_project,
        process=buff,
        material=stainless,
        quantity=100,
        unit_price_yen=800,
        due_date=timezone.localdate() + datetime.timedelta(days=15),
    )


@pytest.fixture
def delivered(team_package):
    package, worker, _lead = team_package
    return execution.delivery_record(actor=worker, package=package, quantity=200)


@pytest.fixture
def inspected(delivered, project_lead):
    execution.inspection_record(
        actor=project_lead, delivery=delivered, quantity_received=200, quantity_passed=200
    )
    return delivered


@pytest.fixture
def shipment(inspected, running_project, project_lead):
    return execution.shipment_send(
        actor=project_lead,
        project=running_project,
        quantity=200,
        carrier="ヤマト運輸",
        tracking_number="4321-5678-9012",
    )


# --- sign-in ------------------------------------------------------------------------------

GETS = [
    ("project_list", {}),
    ("buyer_projects", {}),
    ("my_work", {}),
    ("project_open", {"pk": 1}),
    ("project_board", {"pk": 1}),
    ("project_delivery", {"pk": 1}),
    ("work_package", {"pk": 1}),
    ("delivery_inspect", {"pk": 1}),
    ("evidence_photo", {"pk": 1}),
    ("standard_file", {"pk": 1}),
]
POSTS = [
    ("package_add", {"pk": 1}),
    ("package_invite", {"pk": 1}),
    ("package_self_perform", {"pk": 1}),
    ("agreement_accept", {"pk": 1}),
    ("standard_attach", {"pk": 1}),
    ("standard_confirm", {"pk": 1}),
    ("package_start", {"pk": 1}),
    ("delivery_record", {"pk": 1}),
    ("package_charge_late", {"pk": 1}),
    ("shipment_send", {"pk": 1}),
    ("shipment_accept", {"pk": 1}),
    ("shipment_claim", {"pk": 1}),
    ("claim_trace", {"pk": 1}),
    ("claim_resolve", {"pk": 1}),
    ("invitation_respond", {"pk": 1}),
]


@pytest.mark.parametrize(("name", "kwargs"), GETS + POSTS)
def test_anonymous_is_sent_to_login(client, name, kwargs):
    url = reverse(name, kwargs=kwargs)

    response = client.get(url) if (name, kwargs) in GETS else client.post(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(("name", "kwargs"), POSTS)
def test_the_forms_take_post_only(client, secretariat_user, name, kwargs):
    client.force_login(secretariat_user)

    assert client.get(reverse(name, kwargs=kwargs)).status_code == 405


# --- opening the project ------------------------------------------------------------------


def test_the_winner_sees_start_the_project_on_its_awarded_call(client, awarded):
    inquiry, lead = awarded
    client.force_login(lead)

    response = client.get(reverse("call_detail", args=[inquiry.pk]))

    assert reverse("project_open", args=[inquiry.pk]) in body(response)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("project_lead", 200),
        ("other_lead_user", 403),  # sees the awarded call, did not win it
        ("secretariat_user", 403),
        ("buyer_user", 403),
        ("stranger_member", 404),
        ("other_secretariat_user", 404),
    ],
)
def test_only_the_winner_opens_the_project(as_user, client, awarded, role, status):
    as_user(role)

    response = client.get(reverse("project_open", args=[awarded[0].pk]))

    assert response.status_code == status
    assert client.post(reverse("project_open", args=[awarded[0].pk])).status_code == status
    assert not Project.objects.exists()


def test_the_open_form_explains_the_payment_terms_and_opens_the_project(client, awarded):
    inquiry, lead = awarded
    client.force_login(lead)
    page = client.get(reverse("project_open", args=[inquiry.pk]))
    assert "1,000,000" in body(page)  # the offer as the default order value
    delivery = timezone.localdate() + datetime.timedelta(days=45)

    response = client.post(
        reverse("project_open", args=[inquiry.pk]),
        {
            "order_value_yen": "¥1,050,000",
            "delivery_date": delivery.isoformat(),
            "payment_closing_day": "20",
            "payment_month_offset": "1",
            "payment_day": "10",
            "share_order_value": "on",
            "invitation_hours": "48",
        },
    )

    project = Project.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("project_board", args=[project.pk]) + "#add-package"
    assert (project.order_value_yen, project.delivery_date) == (1_050_000, delivery)
    assert (project.payment_closing_day, project.payment_month_offset, project.payment_day) == (
        20,
        1,
        10,
    )
    assert project.share_order_value and not project.share_buyer_identity
    assert project.invitation_hours == 48
    # Opened once: the start page now leads to the board.
    again = client.get(reverse("project_open", args=[inquiry.pk]))
    assert again["Location"] == reverse("project_board", args=[project.pk])


def test_a_past_delivery_date_is_shown_on_its_field_and_nothing_is_opened(client, awarded):
    inquiry, lead = awarded
    client.force_login(lead)

    response = client.post(
        reverse("project_open", args=[inquiry.pk]),
        {
            "order_value_yen": "1000000",
            "delivery_date": timezone.localdate().isoformat(),
            "payment_closing_day": "31",
            "payment_month_offset": "1",
            "payment_day": "31",
            "invitation_hours": "72",
        },
    )

    assert response.status_code == 200
    assert has_error(response, "delivery_date")
    assert response.context["terms_chosen"] == payment_terms_plain(31, 1, 31)
    assert not Project.objects.exists()


# --- the lead's board ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status", "where"),
    [
        ("project_lead", 200, None),
        ("secretariat_user", 200, None),
        ("committee_user", 200, None),
        ("team_member", 302, "my_work"),
        ("buyer_user", 302, "project_delivery"),
        ("other_lead_user", 404, None),
        ("stranger_member", 404, None),
        ("other_buyer_user", 404, None),
        ("other_secretariat_user", 404, None),
        ("other_member_user", 404, None),
    ],
)
def test_board_per_role(as_user, client, team_package, running_project, role, status, where):
    as_user(role)

    response = client.get(reverse("project_board", args=[running_project.pk]))

    assert response.status_code == status
    if where == "my_work":
        assert response["Location"] == reverse("my_work")
    elif where:
        assert response["Location"] == reverse(where, args=[running_project.pk])


def test_board_shows_the_project_and_its_packages(client, team_package, running_project):
    _package, worker, lead = team_package
    client.force_login(lead)

    page = body(client.get(reverse("project_board", args=[running_project.pk])))

    inquiry = running_project.inquiry
    for text in (inquiry.reference, inquiry.title, str(inquiry.buyer), "¥1,000,000"):
        assert text in page
    assert worker.company.legal_name in page
    assert "¥1,200" in page  # unit price
    assert reverse("package_add", args=[running_project.pk]) in page
    # Nothing passed inspection yet: no shipment form.
    assert reverse("shipment_send", args=[running_project.pk]) not in page


def test_staff_read_the_board_without_the_lead_forms(client, secretariat_user, open_package):
    client.force_login(secretariat_user)
    project = open_package.project

    page = body(client.get(reverse("project_board", args=[project.pk])))

    assert project.inquiry.reference in page
    for name, pk in (
        ("package_add", project.pk),
        ("shipment_send", project.pk),
        ("package_invite", open_package.pk),
        ("package_self_perform", open_package.pk),
        ("standard_attach", open_package.pk),
    ):
        assert reverse(name, args=[pk]) not in page
    response = client.post(reverse("package_add", args=[project.pk]), {"package-quantity": "1"})
    assert response.status_code == 403
    assert WorkPackage.objects.count() == 1


def test_secretariat_lists_its_networks_projects_only(
    client, secretariat_user, other_secretariat_user, running_project
):
    client.force_login(secretariat_user)
    assert running_project.inquiry.reference in body(client.get(reverse("project_list")))

    client.force_login(other_secretariat_user)
    assert running_project.inquiry.reference not in body(client.get(reverse("project_list")))


def test_the_lead_lists_its_projects_and_the_awards_still_to_start(
    client, awarded, django_assert_max_num_queries
):
    inquiry, lead = awarded
    client.force_login(lead)
    page = body(client.get(reverse("project_list")))
    assert reverse("project_open", args=[inquiry.pk]) in page

    projects.project_open(
        actor=lead,
        inquiry=inquiry,
        order_value_yen=900_000,
        delivery_date=timezone.localdate() + datetime.timedelta(days=30),
    )
    with django_assert_max_num_queries(12):
        response = client.get(reverse("project_list"))
    assert reverse("project_board", args=[inquiry.project.pk]) in body(response)
    assert reverse("project_open", args=[inquiry.pk]) not in body(response)


def test_navigation_links_per_role(client, project_lead, buyer_user, secretariat_user):
    client.force_login(project_lead)
    page = body(client.get(reverse("home")))
    assert reverse("project_list") in page and reverse("my_work") in page

    client.force_login(buyer_user)
    page = body(client.get(reverse("home")))
    assert reverse("buyer_projects") in page and reverse("my_work") not in page

    client.force_login(secretariat_user)
    assert reverse("project_list") in body(client.get(reverse("home")))


def test_add_package_refuses_a_due_date_after_delivery_on_its_field(
    client, running_project, project_lead, buff, stainless
):
    client.force_login(project_lead)
    data = {
        "package-process": buff.pk,
        "package-material": stainless.pk,
        "package-quantity": "500",
        "package-unit_price_yen": "1,200",
        "package-due_date": (
            running_project.delivery_date + datetime.timedelta(days=1)
        ).isoformat(),
    }

    response = client.post(reverse("package_add", args=[running_project.pk]), data)

    assert response.status_code == 200
    assert has_error(response, "due_date")
    assert not WorkPackage.objects.exists()

    data["package-due_date"] = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    response = client.post(reverse("package_add", args=[running_project.pk]), data)

    package = WorkPackage.objects.get()
    assert response["Location"].endswith(f"#package-{package.pk}")
    assert (package.quantity, package.unit_price_yen) == (500, 1200)


def test_the_board_suggests_members_and_invites_with_the_capacity_warning(
    client, open_package, project_lead, network, buff, stainless
):
    busy = member(network, buff, stainless, spare=30)
    client.force_login(project_lead)
    page = body(client.get(reverse("project_board", args=[open_package.project_id])))
    assert busy.company.legal_name in page
    assert f'name="invite-{open_package.pk}-company" value="{busy.company.pk}"' in page

    response = client.post(
        reverse("package_invite", args=[open_package.pk]),
        {f"invite-{open_package.pk}-company": busy.company.pk},
        follow=True,
    )

    invitation = Invitation.objects.get()
    assert invitation.company == busy.company and invitation.status == InvitationStatus.INVITED
    shown = [str(m) for m in response.context["messages"]]
    assert any("30" in m and "100" in m for m in shown)  # capacity 30, package needs 100


def test_inviting_twice_is_shown_on_the_company_field(
    client, open_package, project_lead, network, buff, stainless
):
    worker = member(network, buff, stainless)
    projects.invitation_send(actor=project_lead, package=open_package, company=worker.company)
    client.force_login(project_lead)

    response = client.post(
        reverse("package_invite", args=[open_package.pk]),
        {f"invite-{open_package.pk}-company": worker.company.pk},
    )

    assert response.status_code == 200
    invite_form = next(r["invite_form"] for r in response.context["rows"] if "invite_form" in r)
    assert invite_form.errors["company"]
    assert Invitation.objects.count() == 1


def test_do_it_ourselves(client, open_package, project_lead):
    client.force_login(project_lead)

    client.post(reverse("package_self_perform", args=[open_package.pk]))

    open_package.refresh_from_db()
    assert open_package.self_performed and open_package.status == PackageStatus.READY


def test_attach_a_standard_and_the_member_confirms_it(client, team_package):
    package, worker, lead = team_package
    client.force_login(lead)
    missing = client.post(
        reverse("standard_attach", args=[package.pk]), {f"standard-{package.pk}-title": "鏡面手順"}
    )
    assert has_error(missing, "file")
    assert not WorkStandard.objects.exists()

    client.post(
        reverse("standard_attach", args=[package.pk]),
        {
            f"standard-{package.pk}-title": "鏡面手順",
            f"standard-{package.pk}-file": photo("sample.png"),
        },
    )
    standard = WorkStandard.objects.get()
    assert standard.original_name == "sample.png"

    client.force_login(worker)
    page = body(client.get(reverse("work_package", args=[package.pk])))
    assert reverse("standard_confirm", args=[standard.pk]) in page
    assert client.get(reverse("standard_file", args=[standard.pk])).status_code == 200
    client.post(reverse("standard_confirm", args=[standard.pk]))
    standard.refresh_from_db()
    assert standard.confirmed_by == worker


# --- agreements ---------------------------------------------------------------------------


@pytest.fixture
def awaiting_agreement(open_package, project_lead, network, buff, stainless):
    worker = member(network, buff, stainless)
    invitation, _ = projects.invitation_send(
        actor=project_lead, package=open_package, company=worker.company
    )
    projects.invitation_respond(actor=worker, invitation=invitation, accept=True)
    return open_package, worker


def test_both_sides_accept_the_agreement_from_their_pages(client, awaiting_agreement, project_lead):
    package, worker = awaiting_agreement
    agreement = Agreement.objects.get(member=worker.company)
    client.force_login(project_lead)
    board = body(client.get(reverse("project_board", args=[package.project_id])))
    assert reverse("agreement_accept", args=[agreement.pk]) in board

    client.post(reverse("agreement_accept", args=[agreement.pk]))
    client.force_login(worker)
    work = body(client.get(reverse("my_work")))
    assert reverse("agreement_accept", args=[agreement.pk]) in work
    response = client.post(
        reverse("agreement_accept", args=[agreement.pk]),
        {"next": reverse("work_package", args=[package.pk])},
    )

    assert response["Location"] == reverse("work_package", args=[package.pk])
    agreement.refresh_from_db()
    package.refresh_from_db()
    assert agreement.is_accepted and package.status == PackageStatus.READY


@pytest.mark.parametrize(
    ("role", "status"),
    [("secretariat_user", 403), ("committee_user", 404), ("stranger_member", 404)],
)
def test_only_the_parties_accept_an_agreement(as_user, client, awaiting_agreement, role, status):
    agreement = Agreement.objects.get()
    as_user(role)

    assert client.post(reverse("agreement_accept", args=[agreement.pk])).status_code == status
    agreement.refresh_from_db()
    assert agreement.lead_accepted_at is None and agreement.member_accepted_at is None


def test_the_next_address_of_an_agreement_stays_on_this_site(
    client, awaiting_agreement, project_lead
):
    agreement = Agreement.objects.get()
    client.force_login(project_lead)

    response = client.post(
        reverse("agreement_accept", args=[agreement.pk]), {"next": "https://evil.example/"}
    )

    assert response["Location"].startswith(reverse("project_board", args=[agreement.project_id]))


# --- the member's work --------------------------------------------------------------------


@pytest.fixture
def invited(open_package, project_lead, network, buff, stainless):
    worker = member(network, buff, stainless)
    invitation, _ = projects.invitation_send(
        actor=project_lead, package=open_package, company=worker.company
    )
    return invitation, worker


def test_the_invitation_shows_the_work_and_hides_the_buyer_unless_shared(client, invited):
    invitation, worker = invited
    project = invitation.package.project
    client.force_login(worker)

    page = body(client.get(reverse("my_work")))

    assert "¥800" in page and "100" in page  # unit price and quantity
    assert project.lead.legal_name in page
    assert str(project.inquiry.buyer) not in page
    assert "¥1,000,000" not in page

    Project.objects.filter(pk=project.pk).update(share_buyer_identity=True, share_order_value=True)
    page = body(client.get(reverse("my_work")))
    assert str(project.inquiry.buyer) in page and "¥1,000,000" in page


def test_declining_without_a_reason_is_refused_on_the_reason(client, invited):
    invitation, worker = invited
    client.force_login(worker)
    url = reverse("invitation_respond", args=[invitation.pk])

    response = client.post(url, {f"respond-{invitation.pk}-decision": "decline"})

    assert response.status_code == 200
    assert has_error(response, "reason")
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.INVITED

    client.post(
        url,
        {f"respond-{invitation.pk}-decision": "decline", f"respond-{invitation.pk}-reason": "満杯"},
    )
    invitation.refresh_from_db()
    assert (invitation.status, invitation.reason) == (InvitationStatus.DECLINED, "満杯")


def test_accepting_takes_the_package(client, invited):
    invitation, worker = invited
    client.force_login(worker)

    response = client.post(
        reverse("invitation_respond", args=[invitation.pk]),
        {f"respond-{invitation.pk}-decision": "accept"},
    )

    assert response["Location"] == reverse("work_package", args=[invitation.package_id])
    package = WorkPackage.objects.get(pk=invitation.package_id)
    assert package.member == worker.company
    assert package.status == PackageStatus.AWAITING_AGREEMENT


@pytest.mark.parametrize(("role", "status"), [("project_lead", 403), ("stranger_member", 404)])
def test_only_the_invited_member_answers(as_user, client, invited, role, status):
    invitation, _ = invited
    as_user(role)

    response = client.post(
        reverse("invitation_respond", args=[invitation.pk]),
        {f"respond-{invitation.pk}-decision": "accept"},
    )

    assert response.status_code == status
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.INVITED


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("team_member", 200),
        ("project_lead", 302),  # to the board
        ("secretariat_user", 302),
        ("stranger_member", 404),
        ("buyer_user", 404),
        ("other_secretariat_user", 404),
    ],
)
def test_work_package_page_per_role(as_user, client, team_package, role, status):
    as_user(role)

    response = client.get(reverse("work_package", args=[team_package[0].pk]))

    assert response.status_code == status


def test_the_member_starts_after_accepting(client, awaiting_agreement, project_lead):
    package, worker = awaiting_agreement
    for agreement in Agreement.objects.filter(member=worker.company):
        projects.agreement_accept(actor=project_lead, agreement=agreement)
        projects.agreement_accept(actor=worker, agreement=agreement)
    client.force_login(worker)
    assert reverse("package_start", args=[package.pk]) in body(
        client.get(reverse("work_package", args=[package.pk]))
    )

    client.post(reverse("package_start", args=[package.pk]))

    package.refresh_from_db()
    assert package.status == PackageStatus.IN_PROGRESS
    assert Project.objects.get().status == ProjectStatus.IN_PROGRESS


def test_the_lead_cannot_start_a_members_package(client, awaiting_agreement, project_lead):
    package, _ = awaiting_agreement

    client.force_login(project_lead)

    assert client.post(reverse("package_start", args=[package.pk])).status_code == 403


def test_delivering_more_than_owed_is_refused_on_the_quantity(client, team_package):
    package, worker, _ = team_package
    client.force_login(worker)
    page = body(client.get(reverse("work_package", args=[package.pk])))
    assert "<strong>500</strong>" in page  # still to deliver

    response = client.post(
        reverse("delivery_record", args=[package.pk]), {"deliver-quantity": "501"}
    )

    assert response.status_code == 200
    assert has_error(response, "quantity")
    assert not Delivery.objects.exists()

    client.post(
        reverse("delivery_record", args=[package.pk]),
        {"deliver-quantity": "200", "deliver-note": "2箱"},
    )
    assert Delivery.objects.get().quantity == 200


def test_the_lead_cannot_deliver_for_the_member(client, team_package):
    package, _, lead = team_package
    client.force_login(lead)

    response = client.post(reverse("delivery_record", args=[package.pk]), {"deliver-quantity": "1"})

    assert response.status_code == 403
    assert not Delivery.objects.exists()


def test_the_member_sees_its_inspection_results_and_charges(
    client, delivered, project_lead, team_member
):
    execution.inspection_record(
        actor=project_lead,
        delivery=delivered,
        quantity_received=200,
        quantity_passed=190,
        defect_reason="縁に磨きむら",
        disposition="charge",
        charge_yen=12_000,
        photos=[photo()],
    )
    client.force_login(team_member)

    page = body(client.get(reverse("work_package", args=[delivered.package_id])))

    assert "縁に磨きむら" in page and "¥12,000" in page
    evidence = EvidencePhoto.objects.get()
    assert reverse("evidence_photo", args=[evidence.pk]) in page
    assert client.get(reverse("evidence_photo", args=[evidence.pk])).status_code == 200


# --- inspection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("project_lead", 200),
        ("secretariat_user", 200),
        ("team_member", 302),  # its results are on its package page
        ("stranger_member", 404),
        ("buyer_user", 404),
        ("other_secretariat_user", 404),
    ],
)
def test_inspection_page_per_role(as_user, client, delivered, role, status):
    as_user(role)

    response = client.get(reverse("delivery_inspect", args=[delivered.pk]))

    assert response.status_code == status


def test_the_inspection_form_shows_the_delivery_and_the_default_plan(
    client, delivered, project_lead
):
    client.force_login(project_lead)

    response = client.get(reverse("delivery_inspect", args=[delivered.pk]))

    plan = sampling.plan(200, "II", Decimal("1.0"))
    page = body(response)
    assert delivered.package.member.legal_name in page
    assert f"<strong>{plan.sample_size}</strong>" in page
    assert f"<strong>{plan.accept}</strong>" in page and f"<strong>{plan.reject}</strong>" in page
    assert '<option value="II" selected>' in page and '<option value="1.0" selected>' in page


def test_a_get_with_level_aql_and_received_works_out_another_plan(client, delivered, project_lead):
    client.force_login(project_lead)

    response = client.get(
        reverse("delivery_inspect", args=[delivered.pk]),
        {"level": "III", "aql": "0.65", "received": "150"},
    )

    plan = sampling.plan(150, "III", Decimal("0.65"))
    assert response.context["plan"] == plan
    assert f"<strong>{plan.sample_size}</strong>" in body(response)
    assert 'value="150"' in body(response)
    assert not Inspection.objects.exists()


def test_the_work_out_button_saves_nothing(client, delivered, project_lead):
    client.force_login(project_lead)

    response = client.post(
        reverse("delivery_inspect", args=[delivered.pk]),
        {
            "work_out": "1",
            "method": "sample",
            "quantity_received": "200",
            "inspection_level": "S-2",
            "aql": "2.5",
        },
    )

    assert response.status_code == 200
    assert response.context["plan"] == sampling.plan(200, "S-2", Decimal("2.5"))
    assert not Inspection.objects.exists()


def test_receiving_more_than_delivered_is_refused_on_the_quantity_received(
    client, delivered, project_lead
):
    client.force_login(project_lead)

    response = client.post(
        reverse("delivery_inspect", args=[delivered.pk]),
        {"method": "all", "quantity_received": "201", "quantity_passed": "201"},
    )

    assert response.status_code == 200
    assert has_error(response, "quantity_received")
    assert not Inspection.objects.exists()
    delivered.package.refresh_from_db()
    assert delivered.package.status == PackageStatus.SHIPPED


def test_a_sampling_inspection_is_saved_and_its_result_shown(client, delivered, project_lead):
    client.force_login(project_lead)
    url = reverse("delivery_inspect", args=[delivered.pk])
    data = {
        "method": "sample",
        "quantity_received": "200",
        "inspection_level": "II",
        "aql": "1.0",
        "defects_found": "1",
        "disposition": "rework",
        "photos": [photo("a.png"), photo("b.png")],
    }

    refused = client.post(url, data)  # one defective found: say what is wrong
    assert has_error(refused, "defect_reason")
    assert not Inspection.objects.exists() and not EvidencePhoto.objects.exists()

    data.update(defect_reason="縁にキズ", photos=[photo("a.png"), photo("b.png")])
    response = client.post(url, data, follow=True)

    inspection = Inspection.objects.get()
    plan = sampling.plan(200, "II", Decimal("1.0"))
    assert inspection.sample_size == plan.sample_size
    assert (inspection.quantity_passed, inspection.quantity_rejected) == (199, 1)
    assert inspection.photos.count() == 2
    page = body(response)
    assert 'id="result"' in page and "縁にキズ" in page
    assert '<form method="post" enctype' not in page  # inspected once


def test_staff_see_the_inspection_form_page_without_the_form(client, delivered, secretariat_user):
    client.force_login(secretariat_user)

    response = client.get(reverse("delivery_inspect", args=[delivered.pk]))

    assert response.context["form"] is None
    response = client.post(
        reverse("delivery_inspect", args=[delivered.pk]),
        {"method": "all", "quantity_received": "200", "quantity_passed": "200"},
    )
    assert response.status_code == 403
    assert not Inspection.objects.exists()


# --- late penalty -------------------------------------------------------------------------


def test_a_late_package_can_be_charged_the_penalty(client, team_package):
    package, worker, lead = team_package
    with time_machine.travel(package.due_date + datetime.timedelta(days=3)):
        client.force_login(lead)
        page = body(client.get(reverse("project_board", args=[package.project_id])))
        assert reverse("package_charge_late", args=[package.pk]) in page
        url = reverse("package_charge_late", args=[package.pk])

        refused = client.post(url, {f"late-{package.pk}-amount_yen": "5,000"})
        assert has_error(refused, "reason")
        assert not MemberCharge.objects.exists()

        client.post(
            url,
            {f"late-{package.pk}-amount_yen": "5,000", f"late-{package.pk}-reason": "第3条 遅延"},
        )

    charge = MemberCharge.objects.get()
    assert (charge.kind, charge.amount_yen, charge.member) == ("late", 5000, worker.company)


def test_no_penalty_form_for_a_package_on_time(client, team_package):
    package, _, lead = team_package
    client.force_login(lead)

    page = body(client.get(reverse("project_board", args=[package.project_id])))

    assert reverse("package_charge_late", args=[package.pk]) not in page


# --- shipments to the buyer ---------------------------------------------------------------


def test_shipping_more_than_shippable_is_refused_on_the_quantity(client, inspected, project_lead):
    project = inspected.package.project
    client.force_login(project_lead)
    board = body(client.get(reverse("project_board", args=[project.pk])))
    assert "<strong>200</strong>" in board  # what can be shipped now

    response = client.post(reverse("shipment_send", args=[project.pk]), {"ship-quantity": "201"})

    assert response.status_code == 200
    assert has_error(response, "quantity")
    assert not Shipment.objects.exists()

    client.post(
        reverse("shipment_send", args=[project.pk]),
        {
            "ship-quantity": "200",
            "ship-carrier": "ヤマト運輸",
            "ship-tracking_number": "4321-5678-9012",
            "ship-packaging": "10個ずつ箱詰め",
        },
    )
    shipment = Shipment.objects.get()
    assert (shipment.quantity, shipment.tracking_number) == (200, "4321-5678-9012")


def test_the_lead_traces_and_resolves_a_claim(
    client, shipment, buyer_user, project_lead, team_package
):
    claim = execution.claim_raise(
        actor=buyer_user, shipment=shipment, quantity=3, description="キズ"
    )
    package = team_package[0]
    client.force_login(project_lead)
    board = body(client.get(reverse("project_board", args=[shipment.project_id])))
    assert "キズ" in board and reverse("claim_trace", args=[claim.pk]) in board

    client.post(
        reverse("claim_trace", args=[claim.pk]),
        {f"trace-{claim.pk}-package": package.pk, f"trace-{claim.pk}-charge_yen": "3,600"},
    )
    claim.refresh_from_db()
    assert claim.status == Claim.Status.TRACED and claim.charge.amount_yen == 3600

    refused = client.post(reverse("claim_resolve", args=[claim.pk]), {})
    assert has_error(refused, "resolution")
    client.post(
        reverse("claim_resolve", args=[claim.pk]), {f"resolve-{claim.pk}-resolution": "3個再送"}
    )
    claim.refresh_from_db()
    assert claim.status == Claim.Status.RESOLVED


# --- the buyer: deliveries and acceptance -------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("buyer_user", 200),
        ("secretariat_user", 200),
        ("committee_user", 200),
        ("project_lead", 302),  # its shipments are on the board
        ("team_member", 404),
        ("other_buyer_user", 404),
        ("other_secretariat_user", 404),
        ("stranger_member", 404),
    ],
)
def test_delivery_page_per_role(as_user, client, shipment, role, status):
    as_user(role)

    response = client.get(reverse("project_delivery", args=[shipment.project_id]))

    assert response.status_code == status


def test_the_buyer_reaches_the_delivery_page_from_its_inquiry(client, shipment, buyer_user):
    client.force_login(buyer_user)
    inquiry = shipment.project.inquiry

    page = body(client.get(reverse("inquiry_detail", args=[inquiry.pk])))

    assert reverse("project_delivery", args=[shipment.project_id]) in page
    delivery = body(client.get(reverse("project_delivery", args=[shipment.project_id])))
    assert "4321-5678-9012" in delivery and "ヤマト運輸" in delivery
    assert reverse("shipment_accept", args=[shipment.pk]) in delivery


def test_the_buyer_accepts_a_delivery(client, shipment, buyer_user):
    client.force_login(buyer_user)

    client.post(reverse("shipment_accept", args=[shipment.pk]))

    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.ACCEPTED and shipment.accepted_by == buyer_user
    page = body(client.get(reverse("project_delivery", args=[shipment.project_id])))
    assert reverse("shipment_accept", args=[shipment.pk]) not in page


def test_a_claim_without_saying_what_is_wrong_saves_nothing(client, shipment, buyer_user):
    client.force_login(buyer_user)
    url = reverse("shipment_claim", args=[shipment.pk])

    refused = client.post(url, {f"claim-{shipment.pk}-quantity": "5"})
    assert refused.status_code == 200 and has_error(refused, "description")
    too_many = client.post(
        url,
        {f"claim-{shipment.pk}-quantity": "201", f"claim-{shipment.pk}-description": "キズ"},
    )
    assert has_error(too_many, "quantity")
    assert not Claim.objects.exists() and not EvidencePhoto.objects.exists()

    client.post(
        url,
        {
            f"claim-{shipment.pk}-quantity": "5",
            f"claim-{shipment.pk}-description": "縁に細かいキズ",
            f"claim-{shipment.pk}-photos": [photo()],
        },
    )
    claim = Claim.objects.get()
    assert (claim.quantity, claim.raised_by) == (5, buyer_user)
    assert claim.photos.count() == 1


def test_the_secretariat_records_acceptance_for_a_buyer_who_phoned(
    client, shipment, secretariat_user, committee_user
):
    client.force_login(committee_user)
    assert client.post(reverse("shipment_accept", args=[shipment.pk])).status_code == 403

    client.force_login(secretariat_user)
    page = body(client.get(reverse("project_delivery", args=[shipment.project_id])))
    assert reverse("shipment_accept", args=[shipment.pk]) in page
    client.post(reverse("shipment_accept", args=[shipment.pk]))

    shipment.refresh_from_db()
    assert shipment.accepted_by == secretariat_user


@pytest.mark.parametrize("role", ["project_lead", "team_member", "other_buyer_user"])
def test_others_cannot_accept_or_claim_for_the_buyer(as_user, client, shipment, role):
    as_user(role)

    accept = client.post(reverse("shipment_accept", args=[shipment.pk]))
    claim = client.post(
        reverse("shipment_claim", args=[shipment.pk]),
        {f"claim-{shipment.pk}-quantity": "1", f"claim-{shipment.pk}-description": "x"},
    )

    assert accept.status_code in (403, 404) and claim.status_code in (403, 404)
    if role != "project_lead":  # the lead sees the shipment; others do not
        assert accept.status_code == 404
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SHIPPED and not Claim.objects.exists()


def test_whole_order_accepted_shows_on_the_buyer_page(
    client, team_package, running_project, buyer_user
):
    package, worker, lead = team_package
    delivery = execution.delivery_record(actor=worker, package=package, quantity=500)
    execution.inspection_record(
        actor=lead, delivery=delivery, quantity_received=500, quantity_passed=500
    )
    sent = execution.shipment_send(actor=lead, project=running_project, quantity=500)
    client.force_login(buyer_user)

    client.post(reverse("shipment_accept", args=[sent.pk]))

    running_project.refresh_from_db()
    assert running_project.status == ProjectStatus.ACCEPTED
    response = client.get(reverse("project_delivery", args=[running_project.pk]))
    assert response.context["accepted"] == 500


def test_photos_are_served_only_to_who_sees_the_record(
    client, shipment, buyer_user, stranger_member, team_member
):
    claim = execution.claim_raise(
        actor=buyer_user, shipment=shipment, quantity=1, description="キズ", photos=[photo()]
    )
    evidence = claim.photos.get()
    url = reverse("evidence_photo", args=[evidence.pk])
    client.force_login(buyer_user)
    assert client.get(url).status_code == 200

    for outsider in (stranger_member, team_member):  # not traced to its package yet
        client.force_login(outsider)
        assert client.get(url).status_code == 404


def test_the_agreement_links_to_its_pdf(client, awaiting_agreement):
    _package, worker = awaiting_agreement
    agreement = Agreement.objects.get()
    client.force_login(worker)

    page = body(client.get(reverse("my_work")))

    pdf_url = reverse("agreement_pdf", args=[agreement.pk])
    assert pdf_url in page
    response = client.get(pdf_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def _started_package(project, lead, network, buff, stainless, quantity=100):
    worker = member(network, buff, stainless)
    package = projects.package_add(
        actor=lead,
        project=project,
        process=buff,
        material=stainless,
        quantity=quantity,
        unit_price_yen=500,
        due_date=timezone.localdate() + datetime.timedelta(days=10),
    )
    invitation, _ = projects.invitation_send(actor=lead, package=package, company=worker.company)
    projects.invitation_respond(actor=worker, invitation=invitation, accept=True)
    for agreement in project.agreements.filter(member=worker.company):
        projects.agreement_accept(actor=lead, agreement=agreement)
        projects.agreement_accept(actor=worker, agreement=agreement)
    package.refresh_from_db()
    package = projects.package_start(actor=worker, package=package)
    delivery = execution.delivery_record(actor=worker, package=package, quantity=quantity)
    execution.inspection_record(
        actor=lead, delivery=delivery, quantity_received=quantity, quantity_passed=quantity
    )
    return package


def test_the_board_reads_a_fixed_number_of_queries(
    client, running_project, project_lead, network, buff, stainless
):
    """Packages under way cost no query each (suggestions are read for open packages only)."""
    _started_package(running_project, project_lead, network, buff, stainless)
    client.force_login(project_lead)
    url = reverse("project_board", args=[running_project.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(3):
        _started_package(running_project, project_lead, network, buff, stainless)
    with CaptureQueriesContext(connection) as four:
        client.get(url)

    assert len(four) == len(one) <= 30
