"""The partners' change feed: order, cursor resume and replay, no gap, what stays private."""

# ruff: noqa: F811  (fixtures imported by name are used as test arguments)

import datetime
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from brokerage import feed
from brokerage.dispatch import event_dispatch
from brokerage.models import ApiScope, FeedAudience, FeedEntry
from core.models import DomainEvent
from orders import services as order_services
from orders.models import Inquiry
from tests.brokerage.partner_fixtures import (  # noqa: F401
    key_client,
    make_key,
    other_partner,
    partner,
    partner_api,
    submit_payload,
)
from tests.helpers import dispatch_all

FEED = "/api/v1/partner/feed/"
INQUIRIES = "/api/v1/partner/inquiries/"


def read_all(client, cursor="", limit=2):
    """Read the feed page by page; returns (events, cursors handed out)."""
    events, cursors = [], []
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        body = client.get(FEED, params).json()
        events += body["events"]
        cursor = body["next_cursor"]
        cursors.append(cursor)
        if not body["has_more"]:
            return events, cursors


def submit(client, payload):
    return Inquiry.objects.get(pk=client.post(INQUIRIES, payload, format="json").json()["id"])


def test_events_in_order_resumed_from_the_cursor_and_replayed(
    partner_api, submit_payload, secretariat_user
):
    first = submit(partner_api, submit_payload(title="一件目"))
    second = submit(partner_api, submit_payload(title="二件目"))
    order_services.inquiry_publish(actor=secretariat_user, inquiry=first)
    order_services.inquiry_reject(actor=secretariat_user, inquiry=second, reason="対応不可")
    dispatch_all()

    events, cursors = read_all(partner_api, limit=2)

    assert [(e["type"], e["data"]["inquiry"]["id"]) for e in events] == [
        ("inquiry.submitted", first.pk),
        ("inquiry.submitted", second.pk),
        ("inquiry.published", first.pk),
        ("inquiry.rejected", second.pk),
    ]
    assert [e["event_id"] for e in events] == sorted(e["event_id"] for e in events)
    assert events[3]["data"]["reason"] == "対応不可"
    assert events[2]["data"]["inquiry"]["reference"] == first.reference
    assert "deadline" in events[2]["data"]
    # Resuming from a stored cursor gives the rest, never a repeat; replaying from an older
    # one gives the same events again.
    rest, _ = read_all(partner_api, cursor=cursors[0], limit=100)
    assert rest == events[2:]
    assert read_all(partner_api, cursor=cursors[-1])[0] == []
    # New events appear after the last cursor.
    first.refresh_from_db()
    order_services.inquiry_extend_deadline(
        actor=secretariat_user,
        inquiry=first,
        deadline=first.application_deadline + datetime.timedelta(days=3),
        reason="図面の訂正",
    )
    dispatch_all()
    later, _ = read_all(partner_api, cursor=cursors[-1])
    assert [e["type"] for e in later] == ["inquiry.deadline_changed"]


def test_private_events_and_other_partners_inquiries_stay_out(
    partner_api, other_partner, make_key, submit_payload, secretariat_user, make_lead
):
    inquiry = submit(partner_api, submit_payload())
    _key, raw = make_key(other_partner)
    submit(key_client(raw), submit_payload(title="他社の案件"))
    lead = make_lead()
    order_services.inquiry_publish(actor=secretariat_user, inquiry=inquiry)
    order_services.application_place(
        actor=lead, inquiry=inquiry, price_yen=300_000, lead_time_days=20
    )
    order_services.inquiry_close_window(
        inquiry_id=inquiry.pk, now=timezone.now() + datetime.timedelta(days=30)
    )
    order_services.award_confirm(actor=secretariat_user, inquiry=inquiry)
    dispatch_all()
    kinds = set(DomainEvent.objects.values_list("kind", flat=True))
    assert {"application.placed", "award.proposed"} <= kinds

    events, _ = read_all(partner_api, limit=50)

    assert [e["type"] for e in events] == [
        "inquiry.submitted",
        "inquiry.published",
        "inquiry.window_closed",
        "award.confirmed",
    ]
    assert {e["data"]["inquiry"]["id"] for e in events} == {inquiry.pk}
    assert events[2]["data"] == {"inquiry": {"id": inquiry.pk, "reference": inquiry.reference}}
    assert events[3]["data"]["company_id"] == lead.company_id
    assert "300000" not in str(events)


def test_an_escalation_reason_is_not_in_the_feed(partner_api, submit_payload, secretariat_user):
    inquiry = submit(partner_api, submit_payload())
    order_services.inquiry_escalate(actor=secretariat_user, inquiry=inquiry, reason="内部理由")
    dispatch_all()
    events, _ = read_all(partner_api)
    assert events[-1]["type"] == "inquiry.escalated"
    assert "内部理由" not in str(events)


def test_a_lower_event_dispatched_late_still_comes_first_and_only_once(
    partner_api, submit_payload, secretariat_user
):
    inquiry = submit(partner_api, submit_payload())
    order_services.inquiry_publish(actor=secretariat_user, inquiry=inquiry)
    submitted, published = DomainEvent.objects.order_by("pk")
    # The first event's message was lost (broker outage); the second is dispatched first.
    event_dispatch(event_id=published.pk)
    events, cursors = read_all(partner_api)
    assert [e["event_id"] for e in events] == [submitted.pk, published.pk]

    # The relay dispatches the first later: nothing new, nothing behind the cursor.
    event_dispatch(event_id=submitted.pk)
    assert read_all(partner_api, cursor=cursors[-1])[0] == []
    assert FeedEntry.objects.count() == 2


def test_a_forged_or_foreign_cursor_is_refused(partner_api, other_partner, submit_payload):
    submit(partner_api, submit_payload())
    dispatch_all()
    good = partner_api.get(FEED).json()["next_cursor"]
    foreign = feed.cursor_encode(organisation_id=other_partner.pk, position=0)
    forged = good[:-2] + ("xy" if not good.endswith("xy") else "zz")

    for cursor in (forged, foreign, "garbage", "WzEsIDVd"):
        response = partner_api.get(FEED, {"cursor": cursor})
        assert response.status_code == 400, cursor
        assert response.json()["errors"][0]["attr"] == "cursor"
    assert partner_api.get(FEED, {"limit": "many"}).status_code == 400


def test_the_page_size_is_bounded(partner_api, submit_payload, secretariat_user):
    for n in range(3):
        submit(partner_api, submit_payload(title=f"案件{n}"))
    dispatch_all()
    assert len(partner_api.get(FEED, {"limit": 0}).json()["events"]) == 1
    body = partner_api.get(FEED, {"limit": 10_000}).json()
    assert len(body["events"]) == 3
    assert body["has_more"] is False


def test_each_scope_reads_its_own_part_of_the_feed(partner, make_key, submit_payload):
    _key, raw = make_key(partner, scopes=[ApiScope.INQUIRIES_WRITE])
    submit(key_client(raw), submit_payload())
    dispatch_all()
    _key, referrals_only = make_key(partner, scopes=[ApiScope.REFERRALS_RECEIVE])

    assert len(key_client(raw).get(FEED).json()["events"]) == 1
    assert key_client(referrals_only).get(FEED).json()["events"] == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_positions_become_visible_in_commit_order_under_concurrent_appends(partner):
    """Two dispatches append at once: the second waits for the first to commit, so a reader
    can never see the later position while the earlier one is still uncommitted."""
    subject = partner  # any row: events only need an aggregate id
    one, two = (
        DomainEvent.objects.create(kind="inquiry.submitted", aggregate="inquiry", aggregate_id=n)
        for n in (subject.pk, subject.pk + 1)
    )
    audiences = [(partner, FeedAudience.SUBMITTER)]
    first_holds, release_first, second_done = (
        threading.Event(),
        threading.Event(),
        threading.Event(),
    )
    errors = []

    def append(event, before=None, after=None):
        try:
            if before:
                before.wait(10)
            with transaction.atomic():
                feed.feed_append(targets=[(event, audiences)])
                if after:
                    after()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def hold():
        first_holds.set()
        release_first.wait(10)

    t1 = threading.Thread(target=append, args=(one,), kwargs={"after": hold})
    t2 = threading.Thread(
        target=append, args=(two,), kwargs={"before": first_holds, "after": second_done.set}
    )
    t1.start()
    t2.start()
    first_holds.wait(10)

    # While the first append is uncommitted the second cannot get past the lock.
    assert not second_done.wait(1.0)
    assert feed.feed_page(organisation=partner, audiences=["submitter"]).events == []

    release_first.set()
    t1.join(10)
    t2.join(10)
    assert not errors
    page = feed.feed_page(organisation=partner, audiences=["submitter"])
    assert [e["event_id"] for e in page.events] == [one.pk, two.pk]
    positions = list(FeedEntry.objects.order_by("pk").values_list("event_id", flat=True))
    assert positions == [one.pk, two.pk]
