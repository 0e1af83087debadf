"""Every move of a project's aggregates is checked against its TRANSITIONS table and
recorded (StatusChange: from, to, who or which job, why), bulk moves row by row."""

import datetime
import itertools

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import InvalidTransition
from core.models import StatusChange
from core.transitions import history, transition, transition_many
from orders import projects
from orders.models import (
    Agreement,
    Application,
    Award,
    Claim,
    Invitation,
    InvitationStatus,
    PackageStatus,
    Project,
    ProjectStatus,
    Shipment,
    WorkPackage,
)
from tests.helpers import member

SOON = datetime.timedelta(days=20)
MACHINES = (Project, WorkPackage, Invitation, Shipment, Claim, Application, Award)


@pytest.mark.parametrize("model", MACHINES, ids=lambda m: m.__name__)
def test_every_status_has_its_row_and_names_only_statuses(model):
    statuses = set(model._meta.get_field("status").get_choices(include_blank=False))
    statuses = {value for value, _label in statuses}
    assert set(model.TRANSITIONS) == statuses
    assert set().union(*model.TRANSITIONS.values()) <= statuses
    assert all(status not in targets for status, targets in model.TRANSITIONS.items())


@pytest.fixture
def lead(awarded):
    return awarded[1]


@pytest.fixture
def package(running_project, lead, buff, stainless):
    return projects.package_add(
        actor=lead,
        project=running_project,
        process=buff,
        material=stainless,
        quantity=10,
        unit_price_yen=100,
        due_date=timezone.localdate() + SOON,
    )


def _moves(obj) -> list[tuple[str, str, int | None, str, str]]:
    return [(c.from_status, c.to_status, c.actor_id, c.actor_label, c.reason) for c in history(obj)]


def test_an_acceptance_records_the_package_and_every_other_invitation_withdrawn(
    package, lead, network, buff, stainless
):
    a, b, c = (member(network, buff, stainless) for _ in range(3))
    invitations = [
        projects.invitation_send(actor=lead, package=package, company=u.company)[0]
        for u in (a, b, c)
    ]
    projects.invitation_respond(actor=a, invitation=invitations[0], accept=True)
    assert _moves(invitations[0]) == [("invited", "accepted", a.pk, "", "")]
    assert _moves(package) == [("open", "awaiting_agreement", a.pk, "", "")]
    for other in invitations[1:]:
        other.refresh_from_db()
        assert other.status == InvitationStatus.WITHDRAWN and other.responded_at
        assert _moves(other) == [("invited", "withdrawn", a.pk, "", "")]
    # Both sides accept the agreement: the member's package is ready, recorded.
    agreement = Agreement.objects.get()
    projects.agreement_accept(actor=lead, agreement=agreement)
    projects.agreement_accept(actor=a, agreement=agreement)
    assert _moves(package)[-1] == ("awaiting_agreement", "ready", a.pk, "", "")
    projects.package_start(actor=a, package=package)
    assert _moves(package)[-1] == ("ready", "in_progress", a.pk, "", "")
    assert _moves(package.project) == [("forming", "in_progress", a.pk, "", "")]


def test_a_decline_an_expiry_and_a_cancel_record_who_and_why(
    package, lead, network, buff, stainless
):
    a, b, c = (member(network, buff, stainless) for _ in range(3))
    declined, expiring, cancelled = (
        projects.invitation_send(actor=lead, package=package, company=u.company)[0]
        for u in (a, b, c)
    )
    projects.invitation_respond(actor=a, invitation=declined, accept=False, reason="繁忙期")
    assert _moves(declined) == [("invited", "declined", a.pk, "", "繁忙期")]
    Invitation.objects.filter(pk=expiring.pk).update(expires_at=timezone.now())
    assert projects.invitations_expire_due() == 1
    [(_from, _to, actor, label, _why)] = _moves(expiring)
    assert (_from, _to, actor) == ("invited", "expired", None) and label
    projects.package_cancel(actor=lead, package=package, reason="工程変更")
    assert _moves(cancelled) == [("invited", "cancelled", lead.pk, "", "工程変更")]
    assert _moves(package) == [("open", "cancelled", lead.pk, "", "工程変更")]


def test_transition_many_moves_and_records_in_3_queries(package, lead, network, buff, stainless):
    invitations = [
        projects.invitation_send(
            actor=lead, package=package, company=member(network, buff, stainless).company
        )[0]
        for _ in range(4)
    ]
    ContentType.objects.get_for_model(Invitation)  # cached from here on, as in a worker
    with CaptureQueriesContext(connection) as queries:
        moved = transition_many(
            Invitation.objects.filter(package=package),
            to=InvitationStatus.WITHDRAWN,
            allowed=Invitation.TRANSITIONS,
            actor=lead,
            reason="why",
            changes={"responded_at": timezone.now()},
        )
    assert sorted(moved) == sorted(i.pk for i in invitations)
    assert len(queries) == 3
    assert StatusChange.objects.filter(to_status="withdrawn", reason="why").count() == 4
    # Again: every row is already there, nothing moves or is recorded.
    assert (
        transition_many(
            Invitation.objects.filter(package=package),
            to=InvitationStatus.WITHDRAWN,
            allowed=Invitation.TRANSITIONS,
        )
        == []
    )
    assert StatusChange.objects.filter(to_status="withdrawn").count() == 4


def test_transition_many_refuses_the_lot_when_one_row_may_not_move(
    package, lead, network, buff, stainless
):
    a, b = member(network, buff, stainless), member(network, buff, stainless)
    first, second = (
        projects.invitation_send(actor=lead, package=package, company=u.company)[0] for u in (a, b)
    )
    projects.invitation_respond(actor=a, invitation=first, accept=False, reason="x")
    with pytest.raises(InvalidTransition):
        transition_many(
            Invitation.objects.filter(package=package),
            to=InvitationStatus.EXPIRED,
            allowed=Invitation.TRANSITIONS,
        )
    second.refresh_from_db()
    assert second.status == InvitationStatus.INVITED
    assert not history(second).exists()


@pytest.mark.parametrize(
    ("start", "target"), list(itertools.product(PackageStatus.values, PackageStatus.values))
)
def test_every_package_move_is_allowed_or_refused_by_the_table(package, lead, start, target):
    WorkPackage.objects.filter(pk=package.pk).update(status=start, member=lead.company)
    package.refresh_from_db()
    if start == target:
        assert transition(package, to=target, allowed=WorkPackage.TRANSITIONS) is False
    elif target in WorkPackage.TRANSITIONS[start]:
        assert transition(package, to=target, allowed=WorkPackage.TRANSITIONS) is True
        assert history(package).last().from_status == start
    else:
        with pytest.raises(InvalidTransition):
            transition(package, to=target, allowed=WorkPackage.TRANSITIONS)
        package.refresh_from_db()
        assert package.status == start and not history(package).exists()


def test_a_project_is_never_moved_out_of_accepted(running_project):
    Project.objects.filter(pk=running_project.pk).update(status=ProjectStatus.ACCEPTED)
    running_project.refresh_from_db()
    for target in set(ProjectStatus.values) - {ProjectStatus.ACCEPTED}:
        with pytest.raises(InvalidTransition):
            transition(running_project, to=target, allowed=Project.TRANSITIONS)
