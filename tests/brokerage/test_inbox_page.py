"""The inbox page: one's own notifications newest first, unread in bold, reading by POST,
and the unread count in the navigation."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from brokerage.models import EmailStatus, Notification
from tests.factories import UserFactory


def notification(user, subject, *, minutes_ago=0, read=False, link="/inquiries/1/"):
    row = Notification.objects.create(
        recipient=user,
        event_key=f"test:{subject}",
        kind="inquiry.submitted",
        subject=subject,
        body=f"{subject} の本文",
        link=link,
        email_status=EmailStatus.SENT,
        read_at=timezone.now() if read else None,
    )
    # created_at is auto_now_add: set the order explicitly.
    Notification.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago)
    )
    row.refresh_from_db()
    return row


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def stranger(db):
    return UserFactory()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "name", "kwargs"),
    [
        ("get", "inbox", {}),
        ("post", "notification_read", {"pk": 1}),
        ("post", "notification_read_all", {}),
    ],
)
def test_anonymous_is_sent_to_login(client, method, name, kwargs):
    url = reverse(name, kwargs=kwargs)

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_inbox_lists_own_notifications_newest_first_unread_in_bold(
    client, user, stranger, settings
):
    old = notification(user, "古い通知", minutes_ago=30, read=True)
    new = notification(user, "新しい通知", minutes_ago=1)
    notification(stranger, "他人の通知")
    client.force_login(user)

    response = client.get(reverse("inbox"))

    page = response.content.decode()
    assert [n.pk for n in response.context["page"].object_list] == [new.pk, old.pk]
    assert "他人の通知" not in page
    assert f'<li class="notification unread" id="notification-{new.pk}">' in page
    assert f'<li class="notification" id="notification-{old.pk}">' in page
    css = (settings.BASE_DIR / "static" / "css" / "app.css").read_text(encoding="utf-8")
    assert ".notification.unread .notification-subject { font-weight: bold; }" in css
    assert '<span class="count-badge" title="未読">1</span>' in page


def test_unread_filter(client, user):
    notification(user, "既読", read=True)
    unread = notification(user, "未読のまま")
    client.force_login(user)

    response = client.get(reverse("inbox"), {"unread": "1"})

    assert [n.pk for n in response.context["page"].object_list] == [unread.pk]


def test_mark_as_read_is_a_post(client, user):
    row = notification(user, "確認してください")
    client.force_login(user)

    refused = client.get(reverse("notification_read", args=[row.pk]))
    row.refresh_from_db()
    assert refused.status_code == 405
    assert row.read_at is None

    response = client.post(reverse("notification_read", args=[row.pk]))

    row.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("inbox")
    assert row.read_at is not None
    page = client.get(reverse("inbox")).content.decode()
    assert "count-badge" not in page


def test_open_marks_read_and_follows_the_link(client, user):
    row = notification(user, "引き合いを受け付けました", link="/inquiries/42/")
    client.force_login(user)

    response = client.post(reverse("notification_read", args=[row.pk]), {"open": "1"})

    row.refresh_from_db()
    assert response["Location"] == "/inquiries/42/"
    assert row.read_at is not None


def test_open_never_leaves_the_site(client, user):
    row = notification(user, "外部リンク", link="https://evil.example/")
    client.force_login(user)

    response = client.post(reverse("notification_read", args=[row.pk]), {"open": "1"})

    assert response["Location"] == reverse("inbox")


def test_another_users_notification_is_404_and_stays_unread(client, user, stranger):
    theirs = notification(stranger, "他人の通知")
    client.force_login(user)

    response = client.post(reverse("notification_read", args=[theirs.pk]))

    theirs.refresh_from_db()
    assert response.status_code == 404
    assert theirs.read_at is None


def test_mark_all_as_read_touches_only_own(client, user, stranger):
    mine = [notification(user, f"通知{n}") for n in range(3)]
    theirs = notification(stranger, "他人の通知")
    client.force_login(user)

    client.post(reverse("notification_read_all"))

    assert Notification.objects.filter(pk__in=[n.pk for n in mine], read_at=None).count() == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_badge_through_the_context_processor_on_other_pages(client, user, settings):
    """Once `brokerage.context_processors.unread` is in settings, every page has the badge."""
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "context_processors": [
                    *settings.TEMPLATES[0]["OPTIONS"]["context_processors"],
                    "brokerage.context_processors.unread",
                ],
            },
        }
    ]
    notification(user, "一件目")
    notification(user, "二件目")
    client.force_login(user)

    page = client.get(reverse("home")).content.decode()

    assert '<span class="count-badge" title="未読">2</span>' in page


def test_inbox_query_count_does_not_grow(client, user):
    for n in range(3):
        notification(user, f"通知{n}")
    client.force_login(user)
    client.get(reverse("inbox"))
    with CaptureQueriesContext(connection) as three:
        client.get(reverse("inbox"))

    for n in range(3, 25):
        notification(user, f"通知{n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("inbox"))

    assert len(response.context["page"].object_list) == 25
    assert len(many) == len(three)
