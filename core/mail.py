"""One e-mail kept in an outbox row: the referral offers' and the guest requests' e-mails to
people without an account. The row has `email_status` (pending → sent / failed),
`email_attempts`, `email_error` and `emailed_at`."""

import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

# The Celery options of a task sending one outbox e-mail: retried on transient SMTP and
# network errors with backoff, the backoff well below Redis' visibility timeout (1 h);
# acknowledged late so a killed worker's e-mail is sent by another. The task marks its row
# failed once the retries are spent.
EMAIL_TASK_OPTIONS = {
    "bind": True,
    "autoretry_for": (smtplib.SMTPException, ConnectionError, TimeoutError),
    "retry_backoff": 10,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 6,
    "acks_late": True,
}


def outbox_mail_send(row, *, subject: str, body: str, to: str, max_attempts: int):
    """Send the row's e-mail and record the attempt on it. The caller holds the row's lock
    (so a repeat waits, then finds it sent) and saves nothing else. Returns the error, which
    the caller re-raises after its transaction for the task's retry; after `max_attempts`
    the row is `failed` and its relay leaves it."""
    row.email_attempts += 1
    try:
        send_mail(
            subject=subject,
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[to],
        )
    except Exception as exc:
        row.email_error = repr(exc)[:2000]
        if row.email_attempts >= max_attempts:
            row.email_status = "failed"
        row.save(update_fields=["email_attempts", "email_error", "email_status"])
        return exc
    row.email_status = "sent"
    row.emailed_at = timezone.now()
    row.save(update_fields=["email_status", "emailed_at", "email_attempts"])
    return None
