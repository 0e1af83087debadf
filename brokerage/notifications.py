"""The notification outbox: write with the event, deliver after commit, relay what was missed.

`notify()` is called inside the service's transaction. After commit each new notification is
queued for e-mail delivery; if the broker is down the row simply stays `pending` and the
relay job (every minute) queues it again. Delivery locks the row and sends only while it is
still pending, so repeats and redeliveries never send twice.
"""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone

from core.events import EventKind
from core.mail import mail_render, outbox_mail_attempt
from core.queueing import enqueue
from members.accounts import password_reset_path

from .models import EmailStatus, Notification

# Give the after-commit enqueue time to happen before the relay queues a row again.
RELAY_GRACE_SECONDS = 30
RELAY_BATCH = 500


def notify(
    *,
    recipients: Iterable,
    event_key: str,
    kind: str,
    template: str,
    context: dict,
    link: str = "",
) -> list[Notification]:
    """Write one notification per recipient for an event, in each recipient's language.

    `template` names `brokerage/notifications/<template>.txt`: its first line is the subject,
    the rest the body. Recipients already notified of `event_key` are skipped. Call inside the
    event's transaction; delivery is queued after commit.
    """
    recipients = {user.pk: user for user in recipients if user is not None}
    if not recipients:
        return []
    already = set(
        Notification.objects.filter(event_key=event_key, recipient_id__in=recipients).values_list(
            "recipient_id", flat=True
        )
    )
    rows = []
    for user in recipients.values():
        if user.pk in already:
            continue
        subject, body = mail_render(
            f"brokerage/notifications/{template}.txt",
            {"recipient": user, **context},
            language=user.preferred_language or settings.LANGUAGE_CODE,
        )
        rows.append(
            Notification(
                recipient=user,
                event_key=event_key,
                kind=kind,
                subject=subject,
                body=body,
                link=link,
                email_status=EmailStatus.PENDING if user.email else EmailStatus.SKIPPED,
            )
        )
    # ignore_conflicts: a concurrent writer of the same event wins; nobody is told twice.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    created = list(
        Notification.objects.filter(
            event_key=event_key,
            recipient_id__in=[r.recipient_id for r in rows],
            email_status=EmailStatus.PENDING,
        ).values_list("pk", flat=True)
    )
    if created:
        transaction.on_commit(lambda: enqueue_delivery(created))
    return rows


# One task sends up to this many e-mails over one mail connection: the per-task overhead
# of Celery (~6 ms) and of the SMTP handshake is paid once per batch, not per e-mail.
DELIVERY_BATCH = 100


def enqueue_delivery(notification_ids: Iterable[int]) -> int:
    """Queue e-mail delivery in batches. A broker outage is logged, not raised: the relay
    retries. Returns how many notifications were queued."""
    ids = list(notification_ids)
    queued = 0
    for start in range(0, len(ids), DELIVERY_BATCH):
        batch = ids[start : start + DELIVERY_BATCH]
        if not enqueue("brokerage.notifications_deliver_task", batch):
            break
        queued += len(batch)
    return queued


MAX_ATTEMPTS = 8


def _email_body(notification: Notification) -> str:
    link = notification.link
    if notification.kind == EventKind.USER_PASSWORD_RESET:
        # The reset token is made now and exists only in the e-mail: nothing stored (the
        # notification, the queue) holds a link that could be replayed later.
        link = password_reset_path(notification.recipient)
    return f"{notification.body}\n\n{settings.SITE_URL}{link}"


def _attempt(notification: Notification, connection=None):
    """One attempt through the mail path (core.mail); the row is saved by the caller."""
    return outbox_mail_attempt(
        notification,
        subject=notification.subject,
        body=_email_body(notification),
        to=notification.recipient.email,
        max_attempts=MAX_ATTEMPTS,
        connection=connection,
        error_field="last_error",
    )


def notifications_deliver(*, notification_ids: Iterable[int]) -> tuple[int, list[int]]:
    """Send the still-pending notifications among `notification_ids` over one mail
    connection. Returns (how many were sent, ids that failed and may be retried).

    The rows stay locked while sending; rows another worker is sending are skipped (it sends
    them), and rows already sent are not selected: a repeated batch sends nothing twice.
    """
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("recipient")
            .filter(pk__in=list(notification_ids), email_status=EmailStatus.PENDING)
            .order_by("pk")
        )
        if not rows:
            return 0, []
        retry = []
        with get_connection() as connection:
            for notification in rows:
                error, _fields = _attempt(notification, connection)
                if error is not None and notification.email_status != EmailStatus.FAILED:
                    retry.append(notification.pk)
        Notification.objects.bulk_update(
            rows, ["email_status", "emailed_at", "email_attempts", "last_error"]
        )
    failed = sum(1 for n in rows if n.email_status != EmailStatus.SENT)
    return len(rows) - failed, retry


def notification_deliver(*, notification_id: int) -> bool:
    """Send one notification's e-mail if it is still pending. Returns True if it sent.

    The row stays locked while sending, so a concurrent repeat waits and then finds it sent.
    A failed attempt is recorded (and the error re-raised for the task's retry); after
    MAX_ATTEMPTS the notification is marked failed and the relay leaves it alone.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.email_status != EmailStatus.PENDING:
            return False
        error, fields = _attempt(notification)
        notification.save(update_fields=fields)
    if error is not None:
        raise error
    return True


def notification_mark_failed(*, notification_id: int, error: str) -> None:
    """Called when retries are exhausted: the secretariat sees it, the relay leaves it."""
    Notification.objects.filter(pk=notification_id, email_status=EmailStatus.PENDING).update(
        email_status=EmailStatus.FAILED, last_error=error[:2000]
    )


def notifications_relay() -> int:
    """Queue pending notifications older than the grace period (missed by a broker outage or
    a crash between commit and publish). Returns how many were queued."""
    cutoff = timezone.now() - timezone.timedelta(seconds=RELAY_GRACE_SECONDS)
    ids = list(
        Notification.objects.filter(email_status=EmailStatus.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:RELAY_BATCH]
    )
    return enqueue_delivery(ids)


def notification_mark_read(*, actor, notification: Notification) -> Notification:
    if notification.recipient_id != actor.pk:
        from core.errors import NotAllowed

        raise NotAllowed("This notification is not yours.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification
