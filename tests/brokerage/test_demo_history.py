"""The demo's order book (brokerage.demo_history): every step of the flow has an example."""

from io import StringIO

import pytest
from django.core.management import call_command

from billing.models import Document, DocumentKind, RunStatus, SettlementRun
from members.models import ProbationRule
from orders.models import (
    Inquiry,
    InquiryStatus,
    Invitation,
    InvitationStatus,
    Project,
    ProjectStatus,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    call_command("seed_demo", stdout=StringIO())


def test_the_order_book_shows_every_step(seeded):
    statuses = sorted(Inquiry.objects.values_list("status", flat=True))
    assert statuses == sorted(
        [InquiryStatus.SUBMITTED, InquiryStatus.OPEN, InquiryStatus.AWARDED, InquiryStatus.AWARDED]
    )
    call = Inquiry.objects.get(status=InquiryStatus.OPEN)
    assert call.applications.count() == 2 and call.application_deadline is not None
    running = Project.objects.get(status=ProjectStatus.IN_PROGRESS)
    assert running.packages.filter(deliveries__isnull=False).exists()
    assert Invitation.objects.filter(
        package__project=running, status=InvitationStatus.INVITED
    ).exists()
    finished = Project.objects.get(status=ProjectStatus.ACCEPTED)
    run = SettlementRun.objects.get()
    assert run.status == RunStatus.COMPLETED and run.started_by.username == "jimukyoku"
    assert finished.accepted_at.date().replace(day=1) == run.period
    kinds = set(Document.objects.filter(project=finished).values_list("kind", flat=True))
    assert kinds == {DocumentKind.INVOICE, DocumentKind.STATEMENT}
    assert ProbationRule.objects.get().is_active


def test_seeding_again_adds_no_order(seeded):
    counts = (Inquiry.objects.count(), Project.objects.count(), Document.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (Inquiry.objects.count(), Project.objects.count(), Document.objects.count()) == counts
