"""The event catalogue (core.events) is the one list of event kinds: docs/events.md shows
exactly it, record() refuses anything else, no call site writes a kind as a string, and the
partners' feed, the dispatcher's reactions and the stored values agree with it."""

import re
from pathlib import Path

import pytest
from celery import current_app

from brokerage import dispatch, feed
from core import events
from core.events import CATALOGUE, Audience, EventKind
from core.models import DomainEvent

ROOT = Path(__file__).resolve().parents[2]

# The values stored in DomainEvent rows and sent to partners: a kind may be added, never
# renamed or removed.
STORED_VALUES = {
    "inquiry.submitted",
    "inquiry.question_asked",
    "inquiry.question_answered",
    "inquiry.escalated",
    "inquiry.rejected",
    "inquiry.referral",
    "inquiry.withdrawn",
    "inquiry.published",
    "inquiry.deadline_changed",
    "inquiry.call_declined",
    "inquiry.applications_closed_early",
    "inquiry.window_closed",
    "inquiry.applications_opened",
    "inquiry.staged",
    "inquiry.chain_awarded",
    "application.placed",
    "award.proposed",
    "award.confirmed",
    "inquiry.sla_warning",
    "inquiry.sla_escalated",
    "referral.opened",
    "referral.offered",
    "referral.accepted",
    "referral.declined",
    "referral.expired",
    "referral.exhausted",
    "referral.candidate_added",
    "referral.sharing_agreed",
    "project.opened",
    "invitation.sent",
    "invitation.accepted",
    "invitation.declined",
    "invitation.cancelled",
    "invitation.expired",
    "agreement.reissued",
    "package.cancelled",
    "contract_template.saved",
    "standard.attached",
    "delivery.shipped",
    "inspection.recorded",
    "charge.late",
    "shipment.sent",
    "shipment.accepted",
    "claim.raised",
    "claim.traced",
    "project.accepted",
    "package.due_soon",
    "package.late",
    "settlement_run.completed",
    "settlement_run.failed",
    "settlement_run.reopened",
    "document.replaced",
    "document.cancelled",
    "document.due_soon",
    "document.overdue",
    "payment.recorded",
    "probation.opened",
    "probation.lifted",
    "user.password_reset",
}


def test_every_stored_value_is_still_a_kind():
    assert STORED_VALUES - set(EventKind.values) == set()


def test_every_kind_has_its_catalogue_entry():
    assert set(CATALOGUE) == set(EventKind)


def test_the_doc_lists_exactly_the_catalogue():
    doc = (ROOT / "docs" / "events.md").read_text()
    kinds = re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", doc, re.M)
    assert kinds == list(EventKind.values)
    assert events.catalogue_table() in doc


def test_record_refuses_an_unknown_kind(network):
    with pytest.raises(events.UnknownEventKind):
        events.record(kind="inquiry.submited", subject=network, network_id=network.pk)
    assert not DomainEvent.objects.exists()


def test_record_stores_the_kinds_value(network):
    event = events.record(kind=EventKind.INQUIRY_SUBMITTED, subject=network)
    event.refresh_from_db()
    assert (event.kind, type(event.kind)) == ("inquiry.submitted", str)


def test_the_partner_audience_is_what_the_feed_publishes():
    to_partners = {kind for kind, entry in CATALOGUE.items() if Audience.PARTNERS in entry.audience}
    assert to_partners == set(feed.PUBLIC_EVENTS)
    for kind, keys in feed.PUBLIC_EVENTS.items():
        assert set(keys) <= set(CATALOGUE[kind].payload), kind


def test_the_project_audiences_of_the_dispatcher_are_the_catalogue_s():
    as_audience = {
        "buyer": Audience.BUYER,
        "lead": Audience.LEADS,
        "member": Audience.MEMBERS,
        "team": Audience.MEMBERS,
        "secretariat": Audience.SECRETARIAT,
    }
    for kind, (_template, audiences) in dispatch.WORK_AUDIENCES.items():
        assert {as_audience[a] for a in audiences} == set(CATALOGUE[kind].audience), kind


def test_every_reaction_is_a_registered_task():
    for entry in CATALOGUE.values():
        for task_name in entry.reactions:
            assert task_name in current_app.tasks


# A kind written as a string literal at a call site: `kind="x.y"`, `_event("x.y"`.
STRING_KIND = re.compile(
    r"""(?:\bkind=|_event\(|_record\(\s*run,)\s*f?["'][a-z_]+\.[a-z_{}]+["']"""
)


def test_no_call_site_writes_a_kind_as_a_string():
    offenders = []
    for app in ("core", "members", "orders", "billing", "brokerage"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for match in STRING_KIND.finditer(path.read_text()):
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert offenders == []
