"""The one mail path: every e-mail the platform sends is kept in an outbox row and sent from
it here — notifications (brokerage.notifications), referral offers to their targets
(brokerage.referral.emails) and guest confirmations (orders.guests). The row has
`email_status` (pending → sent / failed), `email_attempts`, an error field (`email_error`;
`last_error` on a notification) and `emailed_at`. Its text comes from a template whose first
line is the subject (`mail_render`), in the reader's language (ja or en)."""

import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone, translation

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


def mail_render(template: str, context: dict, *, language: str) -> tuple[str, str]:
    """(subject, body) of an e-mail template rendered in `language`: its first line is the
    subject (cut to 200 characters), the rest the body."""
    with translation.override(language):
        text = render_to_string(template, context).strip()
    subject, _sep, body = text.partition("\n")
    return subject.strip()[:200], body.strip()


def outbox_mail_attempt(
    row,
    *,
    subject: str,
    body: str,
    to: str,
    max_attempts: int,
    connection=None,
    error_field: str = "email_error",
) -> tuple[Exception | None, list[str]]:
    """Send the row's e-mail (over `connection`, e.g. one for a batch) and record the attempt
    on the row without saving it. Returns (the error or None, the fields changed); after
    `max_attempts` failures the row is `failed` and its relay leaves it."""
    row.email_attempts += 1
    try:
        send_mail(
            subject=subject,
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[to],
            connection=connection,
        )
    except Exception as exc:
        setattr(row, error_field, repr(exc)[:2000])
        if row.email_attempts >= max_attempts:
            row.email_status = "failed"
        return exc, ["email_attempts", error_field, "email_status"]
    row.email_status = "sent"
    row.emailed_at = timezone.now()
    return None, ["email_status", "emailed_at", "email_attempts"]


def outbox_mail_send(
    row, *, subject: str, body: str, to: str, max_attempts: int, error_field: str = "email_error"
):
    """Send the row's e-mail and record the attempt on it. The caller holds the row's lock
    (so a repeat waits, then finds it sent) and saves nothing else. Returns the error, which
    the caller re-raises after its transaction for the task's retry; after `max_attempts`
    the row is `failed` and its relay leaves it."""
    error, fields = outbox_mail_attempt(
        row, subject=subject, body=body, to=to, max_attempts=max_attempts, error_field=error_field
    )
    row.save(update_fields=fields)
    return error
