"""The lead withdraws an invitation not yet answered, or cancels a package no member has
taken yet, with a reason the members are told."""

import pytest
from django.urls import reverse

from brokerage.dispatch import event_dispatch
from brokerage.models import Notification
from core.errors import BrokerageError, InvalidTransition, NotAllowed
from core.models import DomainEvent
from orders import execution, projects
from orders.models import InvitationStatus, PackageStatus
from tests.helpers import member
from tests.orders.test_projects import lead, package, project  # noqa: F401 (fixtures)


@pytest.fixture
def invited(package, lead, network, buff, stainless):  # noqa: F811
    worker = member(network, buff, stainless)
    invitation, _w = projects.invitation_send(actor=lead, package=package, company=worker.company)
    return invitation, worker


def test_the_lead_withdraws_and_the_member_is_told(invited, lead):  # noqa: F811
    invitation, worker = invited
    with pytest.raises(BrokerageError) as exc:
        projects.invitation_withdraw(actor=lead, invitation=invitation, reason="  ")
    assert exc.value.field == "reason"
    with pytest.raises(NotAllowed):
        projects.invitation_withdraw(actor=worker, invitation=invitation, reason="x")
    projects.invitation_withdraw(actor=lead, invitation=invitation, reason="数量が変わりました")
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.CANCELLED
    assert (invitation.responded_by, invitation.reason) == (lead, "数量が変わりました")
    with pytest.raises(InvalidTransition):
        projects.invitation_respond(actor=worker, invitation=invitation, accept=True)
    with pytest.raises(InvalidTransition):
        projects.invitation_withdraw(actor=lead, invitation=invitation, reason="again")
    event = DomainEvent.objects.get(kind="invitation.cancelled")
    event_dispatch(event_id=event.pk)
    told = Notification.objects.get(kind="invitation.cancelled")
    assert told.recipient == worker and "数量が変わりました" in told.body


def test_an_answered_invitation_cannot_be_withdrawn(invited, lead):  # noqa: F811
    invitation, worker = invited
    projects.invitation_respond(actor=worker, invitation=invitation, accept=True)
    with pytest.raises(InvalidTransition):
        projects.invitation_withdraw(actor=lead, invitation=invitation, reason="遅すぎ")


def test_withdraw_through_the_api(api, invited, lead, secretariat_user):  # noqa: F811
    invitation, worker = invited
    url = f"/api/v1/invitations/{invitation.pk}/withdraw/"
    assert api.as_(worker).post(url, {"reason": "x"}, format="json").status_code == 403
    assert api.as_(secretariat_user).post(url, {"reason": "x"}, format="json").status_code == 403
    blank = api.as_(lead).post(url, {}, format="json")
    assert blank.status_code == 400
    assert [e["attr"] for e in blank.json()["errors"]] == ["reason"]
    done = api.as_(lead).post(url, {"reason": "別の会員に依頼"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "cancelled"


def test_withdraw_on_the_board(client, invited, lead):  # noqa: F811
    invitation, _worker = invited
    client.force_login(lead)
    board = client.get(reverse("project_board", args=[invitation.package.project_id]))
    url = reverse("invitation_withdraw", args=[invitation.pk])
    assert url in board.content.decode()
    blank = client.post(url, {f"withdraw-{invitation.pk}-reason": ""})
    assert blank.status_code == 200
    assert "field-reason has-error" in blank.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.INVITED
    done = client.post(url, {f"withdraw-{invitation.pk}-reason": "数量変更"})
    assert done.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.CANCELLED


# --- cancelling a package ------------------------------------------------------------------


def test_the_lead_cancels_a_package_nobody_took(invited, lead, package, secretariat_user):  # noqa: F811
    invitation, worker = invited
    with pytest.raises(NotAllowed):
        projects.package_cancel(actor=secretariat_user, package=package, reason="x")
    with pytest.raises(BrokerageError) as exc:
        projects.package_cancel(actor=lead, package=package, reason="")
    assert exc.value.field == "reason"
    projects.package_cancel(actor=lead, package=package, reason="工程を見直しました")
    package.refresh_from_db()
    invitation.refresh_from_db()
    assert (package.status, package.cancel_reason) == (
        PackageStatus.CANCELLED,
        "工程を見直しました",
    )
    assert invitation.status == InvitationStatus.CANCELLED
    with pytest.raises(InvalidTransition):
        projects.invitation_respond(actor=worker, invitation=invitation, accept=True)
    with pytest.raises(InvalidTransition):
        projects.invitation_send(actor=lead, package=package, company=worker.company)
    for event in DomainEvent.objects.filter(kind="invitation.cancelled"):
        event_dispatch(event_id=event.pk)
    assert Notification.objects.get(kind="invitation.cancelled").recipient == worker
    # A cancelled package bounds nothing: the other processes' work can still ship.
    assert execution.shippable(package.project) == 0  # nothing inspected yet, nothing else


def test_a_taken_package_is_not_cancelled(invited, lead, package):  # noqa: F811
    invitation, worker = invited
    projects.invitation_respond(actor=worker, invitation=invitation, accept=True)
    with pytest.raises(InvalidTransition):
        projects.package_cancel(actor=lead, package=package, reason="やめます")


def test_cancel_through_the_api_and_the_board(api, client, invited, lead, package):  # noqa: F811
    url = f"/api/v1/packages/{package.pk}/cancel/"
    assert api.as_(invited[1]).post(url, {"reason": "x"}, format="json").status_code in (403, 404)
    blank = api.as_(lead).post(url, {}, format="json")
    assert blank.status_code == 400
    client.force_login(lead)
    page = client.post(
        reverse("package_cancel", args=[package.pk]), {f"cancel-{package.pk}-reason": ""}
    )
    assert page.status_code == 200 and "field-reason has-error" in page.content.decode()
    done = api.as_(lead).post(url, {"reason": "数量変更"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    board = client.get(reverse("project_board", args=[package.project_id])).content.decode()
    assert "数量変更" in board and reverse("package_cancel", args=[package.pk]) not in board
