"""The inquiry list is current and exact: the API pages by keyset (no count, a cursor that
walks every row once while rows are inserted), the pages count exactly on the inquiry table."""

import datetime
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.pagination import KeysetPagination
from orders import services
from orders.models import Inquiry

URL = "/api/v1/inquiries/"
NOW = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)


def _collect(client, params, between=lambda: None):
    ids = []
    response = client.get(URL, params)
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        assert set(body) == {"next", "results"}  # no count, ever
        ids += [row["id"] for row in body["results"]]
        if body["next"] is None:
            return ids
        assert "cursor=" in body["next"] and "page_size=2" in body["next"]
        between()
        response = client.get(body["next"])


def test_a_new_inquiry_is_listed_right_after_it_is_submitted(
    api, network, buyer_user, secretariat_user, inquiry_data, client
):
    staff = api.as_(secretariat_user)
    for _ in range(3):
        services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    assert len(staff.get(URL).json()["results"]) == 3  # read once: nothing may be kept
    client.force_login(secretariat_user)
    assert client.get(reverse("inquiry_queue")).context["page"].paginator.count == 3

    new = services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())

    rows = staff.get(URL).json()["results"]
    assert (rows[0]["id"], len(rows)) == (new.pk, 4)
    assert api.as_(buyer_user).get(URL).json()["results"][0]["id"] == new.pk
    page = client.get(reverse("inquiry_queue")).context["page"]
    assert page.paginator.count == 4
    assert list(page.object_list)[-1].pk == new.pk  # the queue: oldest first


@pytest.mark.parametrize(
    ("ordering", "inserted_are_walked"),
    [(None, False), ("submitted_at", True), ("-submitted_at", False)],
)
def test_the_cursor_walks_every_row_once_while_rows_are_inserted(
    api, network, buyer_user, secretariat_user, inquiry_data, ordering, inserted_are_walked
):
    # Every inquiry submitted at the same instant: only the id tells them apart, the case
    # an offset-based cursor gets wrong when rows arrive between pages.
    with time_machine.travel(NOW, tick=False):
        for _ in range(7):
            services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
        before = list(Inquiry.objects.order_by("-submitted_at", "-id").values_list("pk", flat=True))
        inserted = []

        def insert():  # after each of the first three pages
            if len(inserted) < 3:
                made = services.inquiry_submit(
                    actor=buyer_user, network=network, data=inquiry_data()
                )
                inserted.append(made.pk)

        params = {"page_size": 2, **({"ordering": ordering} if ordering else {})}
        walked = _collect(api.as_(secretariat_user), params, between=insert)

    assert len(inserted) == 3
    assert len(walked) == len(set(walked))  # never twice
    if inserted_are_walked:  # oldest first: what arrives lands ahead of the cursor
        assert walked == sorted(before) + inserted
    else:  # newest first: what arrives lands behind the cursor, nothing is skipped
        assert walked == before


def test_a_nullable_ordering_walks_its_empty_values_last(
    api, network, buyer_user, secretariat_user, inquiry_data
):
    made = [
        services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
        for _ in range(6)
    ]
    day = timezone.now() + datetime.timedelta(days=10)
    deadlines = {made[0].pk: day, made[3].pk: day, made[4].pk: day + datetime.timedelta(1)}
    for pk, deadline in deadlines.items():  # the read side only: the deadline's value
        Inquiry.objects.filter(pk=pk).update(application_deadline=deadline)
    client = api.as_(secretariat_user)
    for ordering in ("application_deadline", "-application_deadline"):
        walked = _collect(client, {"page_size": 2, "ordering": ordering})
        dated = sorted(deadlines, key=lambda pk: (deadlines[pk], pk))
        if ordering.startswith("-"):
            dated = sorted(deadlines, key=lambda pk: (deadlines[pk], pk), reverse=True)
        undated = sorted({i.pk for i in made} - set(deadlines))
        assert walked == dated + (undated[::-1] if ordering.startswith("-") else undated)


def _forged(values, ordering=("-submitted_at", "-id")):
    return signing.dumps([list(ordering), values], salt=KeysetPagination.salt)


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        "W1siLXN1Ym1pdHRlZF9hdCIsIi1pZCJdLFsxLDJdXQ",  # unsigned JSON
        "tampered",  # replaced below by a real cursor with a changed signature
        _forged(["not a date", 1]),
        _forged(["2026-11-20T10:00:00+00:00", "x"]),
        _forged(["2026-11-20T10:00:00+00:00"]),
        _forged(["2026-11-20T10:00:00+00:00", 1], ordering=("application_deadline", "id")),
        _forged({"a": 1}),
    ],
)
def test_a_bad_cursor_is_a_400_naming_it(
    api, network, buyer_user, secretariat_user, inquiry_data, cursor
):
    for _ in range(3):
        services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    client = api.as_(secretariat_user)
    if cursor == "tampered":
        real = parse_qs(urlparse(client.get(URL, {"page_size": 1}).json()["next"]).query)
        cursor = real["cursor"][0][:-2] + ("AA" if not real["cursor"][0].endswith("AA") else "BB")
    response = client.get(URL, {"cursor": cursor, "page_size": 1})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "cursor"
    assert response.json()["type"] == "validation_error"


def test_a_cursor_of_one_list_does_not_open_another_ordering(
    api, network, buyer_user, secretariat_user, inquiry_data
):
    for _ in range(3):
        services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    client = api.as_(secretariat_user)
    next_url = client.get(URL, {"page_size": 1}).json()["next"]
    assert client.get(next_url).status_code == 200
    assert client.get(next_url + "&ordering=application_deadline").status_code == 400


@pytest.mark.parametrize("count", [3, 25])
def test_every_page_costs_the_same_queries(
    api,
    network,
    buyer_user,
    secretariat_user,
    inquiry_data,
    count,
    django_assert_max_num_queries,
):
    for _ in range(count):
        services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    client = api.as_(secretariat_user)
    first = client.get(URL, {"page_size": 2})
    # A cursor page is one query (its process codes in a second one on SQLite; the viewer's
    # roles are already loaded with the user), whatever the list's length; never a count.
    with django_assert_max_num_queries(2) as queries:
        page = client.get(first.json()["next"])
    assert len(page.json()["results"]) == min(2, count - 2)
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"]]


def test_pages_count_exactly_on_the_inquiry_table(
    client, network, buyer_user, secretariat_user, inquiry_data
):
    for _ in range(3):
        services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    for user, name in ((secretariat_user, "inquiry_queue"), (buyer_user, "my_inquiries")):
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse(name)).context["page"]
        assert page.paginator.count == 3
        counts = [
            q["sql"] for q in queries if "COUNT(*)" in q["sql"] and "GROUP BY" not in q["sql"]
        ]
        assert counts, name
        assert all("JOIN" not in sql for sql in counts), counts
        services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
        assert client.get(reverse(name)).context["page"].paginator.count == 4
        Inquiry.objects.order_by("-id").first().delete()


def test_a_page_number_past_the_end_shows_the_last_page(
    client, network, buyer_user, inquiry_data, settings
):
    for _ in range(2):
        services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    client.force_login(buyer_user)
    response = client.get(reverse("my_inquiries"), {"page": 99})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 2


@pytest.mark.postgres
def test_a_signed_in_list_request_loads_the_staff_seats_with_the_user(
    client, network, buyer_user, secretariat_user, inquiry_data
):
    services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())
    client.force_login(secretariat_user)
    client.get(URL)  # the session is read once into the cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert len(response.json()["results"]) == 1
    sql = [q["sql"] for q in queries]
    assert not [s for s in sql if s.startswith('SELECT "members_networkstaff"')], sql
    assert len(sql) <= 3  # the session (if the cache misses), the user with its seats, a page
