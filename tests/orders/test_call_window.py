"""The application window of a published call cannot be bent to open sealed prices early:
its deadline is only extended (leads told, who/when/why kept), and it closes before the
deadline only when every called lead answered or by a committee decision, the leads being
told before any price opens."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from brokerage.dispatch import event_dispatch
from brokerage.models import Notification
from core.models import DomainEvent
from orders import selectors, services
from orders.models import DeadlineExtension, EarlyClose, Inquiry, LeadCall
from tests.helpers import dispatch_all, pass_deadline

URL = "/api/v1/inquiries/{}/"


@pytest.fixture
def leads(make_lead):
    """Two lead companies able to do the work, there before the call is published."""
    return [make_lead(), make_lead()]


@pytest.fixture
def call(leads, submitted, secretariat_user):
    return services.inquiry_publish(actor=secretariat_user, inquiry=submitted)


def apply(user, inquiry, price=500_000):
    return services.application_place(
        actor=user, inquiry=inquiry, price_yen=price, lead_time_days=10
    )


def events(inquiry, kind):
    return DomainEvent.objects.filter(aggregate="inquiry", aggregate_id=inquiry.pk, kind=kind)


def notified(user, kind):
    return Notification.objects.filter(recipient=user, kind=kind).exists()


def error(response):
    return response.json()["errors"][0]


# ---------------------------------------------------------------------------------------
# Who is called


def test_publication_records_the_called_leads_and_the_dispatcher_calls_them(call, leads):
    assert set(LeadCall.objects.filter(inquiry=call).values_list("company_id", flat=True)) == {
        lead.company_id for lead in leads
    }
    dispatch_all()
    assert all(notified(lead, "inquiry.published") for lead in leads)


# ---------------------------------------------------------------------------------------
# The window at publication


@pytest.mark.parametrize("hours", [0.01, 1, 23.9])
def test_a_deadline_sooner_than_the_networks_shortest_window_is_refused(
    api, leads, submitted, secretariat_user, network, hours
):
    """A call published minutes before its deadline would reach only a lead warned ahead."""
    soon = timezone.now() + datetime.timedelta(hours=hours)
    response = api.as_(secretariat_user).post(
        URL.format(submitted.pk) + "publish/", {"deadline": soon.isoformat()}, format="json"
    )
    assert response.status_code == 400
    assert error(response)["code"] == "deadline_too_soon"
    assert error(response)["attr"] == "deadline"
    submitted.refresh_from_db()
    assert submitted.status == "submitted"
    assert submitted.application_deadline is None
    assert not events(submitted, "inquiry.published").exists()
    assert not LeadCall.objects.filter(inquiry=submitted).exists()


def test_the_shortest_window_is_the_networks_setting(
    api, leads, submitted, secretariat_user, network
):
    response = api.as_(secretariat_user).patch(
        f"/api/v1/networks/{network.pk}/", {"min_application_window_hours": 2}, format="json"
    )
    assert response.status_code == 200, response.content
    in_three_hours = timezone.now() + datetime.timedelta(hours=3)
    published = services.inquiry_publish(
        actor=secretariat_user, inquiry=submitted, deadline=in_three_hours
    )
    assert published.application_deadline == in_three_hours


# ---------------------------------------------------------------------------------------
# Extending the deadline


@pytest.mark.parametrize(
    "offset",
    [
        datetime.timedelta(seconds=-1),  # one second before the current deadline
        datetime.timedelta(0),  # the same deadline
        datetime.timedelta(days=-6, hours=-23, minutes=-59),  # a minute from now
        datetime.timedelta(days=-30),  # in the past
    ],
)
def test_pulling_the_deadline_in_is_refused_and_changes_nothing(
    api, call, secretariat_user, offset
):
    before = call.application_deadline
    response = api.as_(secretariat_user).post(
        URL.format(call.pk) + "deadline/",
        {"deadline": (before + offset).isoformat(), "reason": "早めたい"},
        format="json",
    )
    assert response.status_code == 400
    assert (error(response)["code"], error(response)["attr"]) == (
        "deadline_not_extended",
        "deadline",
    )
    call.refresh_from_db()
    assert call.application_deadline == before
    assert not DeadlineExtension.objects.exists()
    assert not events(call, "inquiry.deadline_changed").exists()


def test_an_extension_needs_a_reason(api, call, secretariat_user):
    later = call.application_deadline + datetime.timedelta(days=2)
    with pytest.raises(services.BrokerageError) as exc:
        services.inquiry_extend_deadline(
            actor=secretariat_user, inquiry=call, deadline=later, reason="  "
        )
    assert (exc.value.field, exc.value.code) == ("reason", "reason_required")
    response = api.as_(secretariat_user).post(
        URL.format(call.pk) + "deadline/", {"deadline": later.isoformat()}, format="json"
    )
    assert (response.status_code, error(response)["attr"]) == (400, "reason")
    call.refresh_from_db()
    assert call.application_deadline != later
    assert not DeadlineExtension.objects.exists()


def test_an_extension_tells_every_called_lead_and_records_who_when_and_why(
    api, call, leads, secretariat_user, buyer_user
):
    applicant = leads[0]
    apply(applicant, call)
    later = call.application_deadline + datetime.timedelta(days=3)
    moment = timezone.now().replace(microsecond=0) + datetime.timedelta(hours=1)
    with time_machine.travel(moment, tick=False):
        response = api.as_(secretariat_user).post(
            URL.format(call.pk) + "deadline/",
            {"deadline": later.isoformat(), "reason": "図面の訂正があったため"},
            format="json",
        )
    assert response.status_code == 200, response.json()
    assert datetime.datetime.fromisoformat(response.json()["application_deadline"]) == later
    extension = DeadlineExtension.objects.get(inquiry=call)
    assert (extension.extended_by, extension.created_at, extension.reason) == (
        secretariat_user,
        moment,
        "図面の訂正があったため",
    )
    assert extension.new_deadline == later
    event = events(call, "inquiry.deadline_changed").get()
    assert event.actor == secretariat_user
    assert event.payload["reason"] == "図面の訂正があったため"
    dispatch_all()
    for lead in leads:  # the applicant and the lead that has not answered yet
        note = Notification.objects.get(recipient=lead, kind="inquiry.deadline_changed")
        assert note.subject == f"締切延長：{call.reference}"
        assert "図面の訂正があったため" in note.body
    staff_line = [
        e
        for e in selectors.timeline_entries(call, viewer=secretariat_user)
        if e["kind"] == "deadline_extended"
    ]
    assert len(staff_line) == 1
    assert "図面の訂正があったため" in staff_line[0]["text"]
    assert staff_line[0]["actor"] == str(secretariat_user)
    buyer_line = [
        e
        for e in selectors.timeline_entries(call, viewer=buyer_user)
        if e["kind"] == "deadline_extended"
    ]
    assert buyer_line[0]["actor"] is None
    assert "図面の訂正" not in buyer_line[0]["text"]


def test_no_extension_once_the_deadline_has_passed(api, call, secretariat_user):
    pass_deadline(call)
    response = api.as_(secretariat_user).post(
        URL.format(call.pk) + "deadline/",
        {"deadline": (timezone.now() + datetime.timedelta(days=3)).isoformat(), "reason": "延長"},
        format="json",
    )
    assert (response.status_code, error(response)["code"]) == (409, "window_closed")
    assert not DeadlineExtension.objects.exists()


def test_the_deadline_job_after_an_extension_does_not_open_early(call, leads, secretariat_user):
    apply(leads[0], call)
    first = call.application_deadline
    services.inquiry_extend_deadline(
        actor=secretariat_user,
        inquiry=call,
        deadline=first + datetime.timedelta(days=2),
        reason="繁忙期のため",
    )
    assert services.inquiries_close_due(now=first + datetime.timedelta(seconds=1)) == 0
    call.refresh_from_db()
    assert (call.status, call.applications_opened_at) == ("open", None)
    # Still open at the old deadline: the lead can still revise.
    with time_machine.travel(first + datetime.timedelta(minutes=1)):
        application = call.applications.get()
        services.application_revise(actor=leads[0], application=application, price_yen=480_000)
    assert services.inquiries_close_due(now=first + datetime.timedelta(days=2, seconds=1)) == 1
    call.refresh_from_db()
    assert call.status == "evaluation"
    assert call.applications_opened_at is not None


# ---------------------------------------------------------------------------------------
# Declining a call


def test_a_called_lead_declines_with_a_reason_and_may_still_apply(
    api, call, leads, secretariat_user
):
    response = api.as_(leads[1]).post(
        URL.format(call.pk) + "decline/", {"reason": "設備が埋まっています"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["decline_reason"] == "設備が埋まっています"
    entry = LeadCall.objects.get(inquiry=call, company=leads[1].company)
    assert (entry.declined_by, entry.decline_reason) == (leads[1], "設備が埋まっています")
    assert entry.declined_at is not None
    # Declining again changes nothing (no second event).
    services.call_decline(actor=leads[1], inquiry=call, reason="再送")
    assert events(call, "inquiry.call_declined").count() == 1
    dispatch_all()
    assert notified(secretariat_user, "inquiry.call_declined")
    assert any(
        e["kind"] == "call_declined" and e["text"] == "設備が埋まっています"
        for e in selectors.timeline_entries(call, viewer=secretariat_user)
    )
    # Changing its mind before the deadline: the application counts as its answer.
    apply(leads[1], call)
    assert selectors.leads_not_answered(call) == [leads[0].company_id]


def test_declining_is_refused_with_a_code_a_program_can_branch_on(
    api, call, leads, make_lead, network
):
    outsider = make_lead()  # a lead of the network, not called (joined after publication)
    response = api.as_(outsider).post(
        URL.format(call.pk) + "decline/", {"reason": "不要"}, format="json"
    )
    assert (response.status_code, error(response)["code"]) == (403, "not_called")
    apply(leads[0], call)
    response = api.as_(leads[0]).post(
        URL.format(call.pk) + "decline/", {"reason": "やめます"}, format="json"
    )
    assert (response.status_code, error(response)["code"]) == (409, "already_applied")
    with pytest.raises(services.BrokerageError) as exc:
        services.call_decline(actor=leads[1], inquiry=call, reason="")
    assert exc.value.code == "reason_required"
    pass_deadline(call)
    response = api.as_(leads[1]).post(
        URL.format(call.pk) + "decline/", {"reason": "遅れました"}, format="json"
    )
    assert (response.status_code, error(response)["code"]) == (409, "window_closed")
    assert not LeadCall.objects.filter(declined_at__isnull=False).exists()


# ---------------------------------------------------------------------------------------
# Closing the applications early


def test_closing_early_is_refused_while_a_called_lead_has_not_answered(
    api, call, leads, secretariat_user
):
    apply(leads[0], call)
    before = call.application_deadline
    response = api.as_(secretariat_user).post(
        URL.format(call.pk) + "close-applications/", {"reason": "全社揃った"}, format="json"
    )
    assert (response.status_code, error(response)["code"]) == (409, "not_all_leads_answered")
    call.refresh_from_db()
    assert (call.status, call.application_deadline, call.applications_opened_at) == (
        "open",
        before,
        None,
    )
    assert not EarlyClose.objects.exists()
    assert not events(call, "inquiry.applications_closed_early").exists()


def test_closing_early_once_all_answered_tells_the_leads_before_any_price_opens(
    api, call, leads, secretariat_user
):
    apply(leads[0], call, price=432_100)
    services.call_decline(actor=leads[1], inquiry=call, reason="繁忙")
    response = api.as_(secretariat_user).post(
        URL.format(call.pk) + "close-applications/", {"reason": "全社回答済み"}, format="json"
    )
    assert response.status_code == 200, response.json()
    call.refresh_from_db()
    early = EarlyClose.objects.get(inquiry=call)
    assert (early.basis, early.closed_by, early.leads_told_at) == (
        "all_answered",
        secretariat_user,
        None,
    )
    # Closed, but the prices stay sealed until the leads' notice is written.
    assert call.status == "evaluation"
    assert call.applications_opened_at is None
    prices = api.as_(secretariat_user).get(f"/api/v1/applications/?inquiry={call.pk}").json()
    assert [a["price_yen"] for a in prices["results"]] == [None]
    assert not Notification.objects.filter(kind="inquiry.applications_closed_early").exists()
    # Dispatching everything else first opens nothing.
    notice = events(call, "inquiry.applications_closed_early").get()
    for event in DomainEvent.objects.exclude(pk=notice.pk).filter(dispatched_at__isnull=True):
        event_dispatch(event_id=event.pk)
    call.refresh_from_db()
    assert call.applications_opened_at is None
    # The notice's dispatch writes both leads' notifications, then opens the prices.
    event_dispatch(event_id=notice.pk)
    call.refresh_from_db()
    early.refresh_from_db()
    assert call.applications_opened_at is not None
    for lead in leads:
        note = Notification.objects.get(recipient=lead, kind="inquiry.applications_closed_early")
        assert note.created_at <= call.applications_opened_at
    assert early.leads_told_at is not None
    prices = api.as_(secretariat_user).get(f"/api/v1/applications/?inquiry={call.pk}").json()
    assert [a["price_yen"] for a in prices["results"]] == [432_100]
    assert call.award.company_id == leads[0].company_id


def test_a_failed_notice_keeps_the_prices_sealed(call, leads, secretariat_user, monkeypatch):
    apply(leads[0], call)
    services.call_decline(actor=leads[1], inquiry=call, reason="繁忙")
    services.inquiry_close_applications(actor=secretariat_user, inquiry=call, reason="回答済み")
    notice = events(call, "inquiry.applications_closed_early").get()

    def broken(**kwargs):
        raise RuntimeError("template missing")

    monkeypatch.setattr("brokerage.dispatch.notify", broken)
    with pytest.raises(RuntimeError):
        event_dispatch(event_id=notice.pk)
    call.refresh_from_db()
    notice.refresh_from_db()
    assert (call.applications_opened_at, notice.dispatched_at) == (None, None)
    monkeypatch.undo()
    # The relay's next run delivers it, then the prices open.
    dispatch_all()
    call.refresh_from_db()
    assert call.applications_opened_at is not None


def test_when_every_called_lead_declines_the_early_close_refers_the_inquiry(
    call, leads, secretariat_user
):
    for lead in leads:
        services.call_decline(actor=lead, inquiry=call, reason="対応不可")
    services.inquiry_close_applications(actor=secretariat_user, inquiry=call, reason="全社辞退")
    call.refresh_from_db()
    assert (call.status, call.applications_opened_at) == ("referral", None)
    dispatch_all()
    assert all(notified(lead, "inquiry.applications_closed_early") for lead in leads)


def test_the_committee_closes_early_with_votes_and_a_reason(
    api, call, leads, committee_user, secretariat_user
):
    apply(leads[0], call)  # leads[1] has not answered
    url = URL.format(call.pk) + "committee-close-applications/"
    refused = api.as_(committee_user).post(
        url, {"votes_for": 2, "votes_against": 2, "reason": "同数"}, format="json"
    )
    assert (refused.status_code, error(refused)["code"]) == (400, "votes_insufficient")
    assert not EarlyClose.objects.exists()
    response = api.as_(committee_user).post(
        url,
        {"votes_for": 4, "votes_against": 1, "votes_abstained": 1, "reason": "納期が迫るため"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    early = EarlyClose.objects.get(inquiry=call)
    assert (early.basis, early.votes_for, early.votes_against, early.votes_abstained) == (
        "committee",
        4,
        1,
        1,
    )
    assert (early.reason, early.closed_by) == ("納期が迫るため", committee_user)
    dispatch_all()
    for lead in leads:
        note = Notification.objects.get(recipient=lead, kind="inquiry.applications_closed_early")
        assert "納期が迫るため" in note.body
    line = next(
        e
        for e in selectors.timeline_entries(call, viewer=secretariat_user)
        if e["kind"] == "closed_early"
    )
    assert "納期が迫るため" in line["text"] and "4" in line["text"]


def test_where_the_committee_opens_prices_it_waits_for_the_leads_notice(
    call, leads, network, committee_user
):
    network.applications_opened_by_committee = True
    network.save(update_fields=["applications_opened_by_committee"])
    apply(leads[0], call)
    services.inquiry_committee_close_applications(
        actor=committee_user, inquiry=call, reason="急ぎ", votes_for=3, votes_against=0
    )
    with pytest.raises(services.Conflict) as exc:
        services.inquiry_open_applications(actor=committee_user, inquiry=call)
    assert exc.value.code == "leads_not_yet_told"
    dispatch_all()
    call.refresh_from_db()
    assert call.applications_opened_at is None  # the committee opens them, not the dispatch
    services.inquiry_open_applications(actor=committee_user, inquiry=call)
    call.refresh_from_db()
    assert call.applications_opened_at is not None


# ---------------------------------------------------------------------------------------
# Who may act


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("buyer_user", 403),
        ("lead_user", 403),
        ("member_user", 404),
        ("committee_user", 403),
        ("other_secretariat_user", 404),
    ],
)
@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("deadline/", {"reason": "延長"}),
        ("close-applications/", {"reason": "終了"}),
    ],
)
def test_only_the_secretariat_extends_or_closes(
    api, request, call, leads, role, status, path, data
):
    for lead in leads:
        services.call_decline(actor=lead, inquiry=call, reason="辞退")
    before = call.application_deadline
    if path == "deadline/":
        data = {**data, "deadline": (before + datetime.timedelta(days=5)).isoformat()}
    user = request.getfixturevalue(role)
    response = api.as_(user).post(URL.format(call.pk) + path, data, format="json")
    assert response.status_code == status
    call.refresh_from_db()
    assert (call.status, call.application_deadline) == ("open", before)
    assert not DeadlineExtension.objects.exists()
    assert not EarlyClose.objects.exists()
    assert not events(call, "inquiry.deadline_changed").exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("secretariat_user", 403),
        ("buyer_user", 403),
        ("lead_user", 403),
        ("member_user", 404),
        ("other_secretariat_user", 404),
    ],
)
def test_only_the_committee_decides_an_early_close(api, request, call, role, status):
    user = request.getfixturevalue(role)
    response = api.as_(user).post(
        URL.format(call.pk) + "committee-close-applications/",
        {"votes_for": 5, "votes_against": 0, "reason": "決定"},
        format="json",
    )
    assert response.status_code == status
    call.refresh_from_db()
    assert call.status == "open"
    assert not EarlyClose.objects.exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("secretariat_user", 403),
        ("buyer_user", 403),
        ("member_user", 404),
        ("other_secretariat_user", 404),
    ],
)
def test_only_a_called_lead_declines(api, request, call, role, status):
    user = request.getfixturevalue(role)
    response = api.as_(user).post(URL.format(call.pk) + "decline/", {"reason": "x"}, format="json")
    assert response.status_code == status
    assert not LeadCall.objects.filter(declined_at__isnull=False).exists()
    assert not events(call, "inquiry.call_declined").exists()


# ---------------------------------------------------------------------------------------
# Pages


def test_the_secretariat_page_offers_closing_only_once_every_lead_answered(
    client, call, leads, secretariat_user
):
    client.force_login(secretariat_user)
    page = client.get(f"/inquiries/{call.pk}/")
    assert "deadline" in page.context["actions"]
    assert "締切を延長" in page.content.decode()
    assert "未回答" in page.content.decode()
    assert "close_applications" not in page.context["actions"]
    apply(leads[0], call)
    services.call_decline(actor=leads[1], inquiry=call, reason="繁忙")
    page = client.get(f"/inquiries/{call.pk}/")
    assert "close_applications" in page.context["actions"]
    response = client.post(
        f"/inquiries/{call.pk}/close-applications/", {"close-reason": "全社回答済み"}
    )
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.status == "evaluation"


def test_a_pulled_in_deadline_on_the_page_is_a_form_error(client, call, secretariat_user):
    client.force_login(secretariat_user)
    before = call.application_deadline
    earlier = timezone.localtime(before - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/inquiries/{call.pk}/deadline/",
        {"deadline-deadline": earlier, "deadline-reason": "早める"},
    )
    assert response.status_code == 200
    assert response.context["forms"]["deadline"].errors["deadline"]
    call.refresh_from_db()
    assert call.application_deadline == before


def test_the_committee_page_offers_its_decision(client, call, committee_user):
    client.force_login(committee_user)
    page = client.get(f"/inquiries/{call.pk}/")
    assert "committee_close" in page.context["actions"]
    response = client.post(
        f"/inquiries/{call.pk}/committee-close/",
        {
            "committee_close-votes_for": "3",
            "committee_close-votes_against": "0",
            "committee_close-votes_abstained": "0",
            "committee_close-reason": "急ぎの案件",
        },
    )
    assert response.status_code == 302
    assert EarlyClose.objects.get(inquiry=call).basis == "committee"


def test_the_lead_declines_on_its_call_page(client, call, leads):
    client.force_login(leads[1])
    page = client.get(f"/calls/{call.pk}/")
    assert page.context["decline_form"] is not None
    assert "この引き合いへの応募を辞退" in page.content.decode()
    refused = client.post(f"/calls/{call.pk}/decline/", {"decline-reason": ""})
    assert refused.status_code == 400
    assert refused.context["decline_form"].errors["reason"]
    response = client.post(f"/calls/{call.pk}/decline/", {"decline-reason": "人手不足"})
    assert response.status_code == 302
    assert LeadCall.objects.get(inquiry=call, company=leads[1].company).decline_reason == "人手不足"
    page = client.get(f"/calls/{call.pk}/")
    assert page.context["decline_form"] is None
    assert page.context["form"] is not None  # it may still apply


def test_a_member_cannot_decline_on_the_page(client, call, member_user):
    client.force_login(member_user)
    assert client.post(f"/calls/{call.pk}/decline/", {"decline-reason": "x"}).status_code == 404
    assert not LeadCall.objects.filter(declined_at__isnull=False).exists()


def test_an_inquiry_published_before_calls_were_recorded_gets_them_when_needed(
    call, leads, secretariat_user
):
    LeadCall.objects.filter(inquiry=call).delete()
    with pytest.raises(services.Conflict) as exc:
        services.inquiry_close_applications(actor=secretariat_user, inquiry=call, reason="早期")
    assert exc.value.code == "not_all_leads_answered"
    assert Inquiry.objects.get(pk=call.pk).status == "open"
    services.inquiry_extend_deadline(
        actor=secretariat_user,
        inquiry=call,
        deadline=call.application_deadline + datetime.timedelta(days=1),
        reason="延長",
    )
    assert LeadCall.objects.filter(inquiry=call).count() == 2


# ---------------------------------------------------------------------------------------
# On the real stack (PostgreSQL row locks; a Celery worker on Redis)


def _wait(predicate, attempts=400):
    """A synchronisation point with another thread or process, not a timing assertion."""
    import time

    for _ in range(attempts):
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_early_close_waits_for_a_decline_in_flight_and_sees_it(
    network, buyer_user, secretariat_user, inquiry_data, make_lead
):
    import threading

    from django.db import connection, transaction

    leads = [make_lead(), make_lead()]
    submitted = services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    call = services.inquiry_publish(actor=secretariat_user, inquiry=submitted)
    apply(leads[0], call)
    outcome = {}

    def close():
        try:
            services.inquiry_close_applications(
                actor=secretariat_user, inquiry=call, reason="全社回答済み"
            )
            outcome["closed"] = True
        except services.BrokerageError as exc:
            outcome["refused"] = exc.code
        finally:
            connection.close()

    def waiting_on_a_lock():
        with connection.cursor() as cursor:
            # Statistics are a snapshot per transaction: take a fresh one each time.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid IN (SELECT pid FROM "
                "pg_stat_activity WHERE datname = current_database())"
            )
            return cursor.fetchone()[0] > 0

    closer = threading.Thread(target=close)
    with transaction.atomic():
        # The lead's decline holds the inquiry row while the secretariat presses "close".
        Inquiry.objects.select_for_update().get(pk=call.pk)
        LeadCall.objects.filter(inquiry=call, company=leads[1].company).update(
            declined_at=timezone.now(), decline_reason="繁忙"
        )
        closer.start()
        assert _wait(waiting_on_a_lock)
    closer.join()
    assert outcome == {"closed": True}
    assert Inquiry.objects.get(pk=call.pk).status == "evaluation"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_with_a_real_worker_prices_open_only_after_the_leads_are_told(
    api, network, buyer_user, secretariat_user, inquiry_data, make_lead
):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app as celery_app

    leads = [make_lead(), make_lead()]
    submitted = services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    call = services.inquiry_publish(actor=secretariat_user, inquiry=submitted)
    apply(leads[0], call, price=321_000)
    services.call_decline(actor=leads[1], inquiry=call, reason="繁忙")
    celery_app.conf.task_always_eager = False
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        later = call.application_deadline + datetime.timedelta(days=1)
        extended = api.as_(secretariat_user).post(
            URL.format(call.pk) + "deadline/",
            {"deadline": later.isoformat(), "reason": "仕様確認のため"},
            format="json",
        )
        assert extended.status_code == 200
        closed = api.as_(secretariat_user).post(
            URL.format(call.pk) + "close-applications/", {"reason": "全社回答済み"}, format="json"
        )
        assert closed.status_code == 200
        assert _wait(
            lambda: Inquiry.objects.filter(
                pk=call.pk, applications_opened_at__isnull=False
            ).exists()
        )
    call.refresh_from_db()
    for lead in leads:
        assert Notification.objects.filter(recipient=lead, kind="inquiry.deadline_changed").exists()
        note = Notification.objects.get(recipient=lead, kind="inquiry.applications_closed_early")
        assert note.created_at <= call.applications_opened_at
    assert call.award.company_id == leads[0].company_id
