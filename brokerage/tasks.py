"""Celery tasks of brokerage: take ids, call one service, safe to run twice. The tasks of
orders and billing live in orders/tasks.py and billing/tasks.py (their names unchanged)."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction

from core.mail import EMAIL_TASK_OPTIONS
from orders.models import Inquiry

from . import (
    dispatch,
    integrity,
    notifications,
    partners,
    probation,
    referral,
    services,
    sla,
    webhooks,
)

logger = logging.getLogger(__name__)


@shared_task(name="brokerage.notification_deliver_task", **EMAIL_TASK_OPTIONS)
def notification_deliver_task(self, notification_id: int) -> bool:
    try:
        return notifications.notification_deliver(notification_id=notification_id)
    except self.autoretry_for:
        if self.request.retries >= self.max_retries:
            notifications.notification_mark_failed(
                notification_id=notification_id, error="retries exhausted"
            )
        raise


@shared_task(bind=True, name="brokerage.notifications_deliver_task", acks_late=True, max_retries=6)
def notifications_deliver_task(self, notification_ids: list[int]) -> int:
    """Send a batch of notification e-mails; the failed ones are retried with a backoff
    (the relay picks up whatever is still pending after the retries)."""
    sent, failed = notifications.notifications_deliver(notification_ids=notification_ids)
    if failed:
        raise self.retry(args=[failed], countdown=min(10 * 2**self.request.retries, 600))
    return sent


@shared_task(name="brokerage.capacity_reminders_task", ignore_result=True)
def capacity_reminders_task() -> int:
    return services.capacity_reminders_send()


@shared_task(name="brokerage.notifications_relay_task", ignore_result=True)
def notifications_relay_task() -> int:
    return notifications.notifications_relay()


@shared_task(name="brokerage.event_dispatch_task", acks_late=True, max_retries=5)
def event_dispatch_task(event_id: int) -> bool:
    return dispatch.event_dispatch(event_id=event_id)


@shared_task(name="brokerage.events_relay_task", ignore_result=True)
def events_relay_task() -> int:
    return dispatch.events_relay()


# --- Referral and the service level ---------------------------------------------------


@shared_task(name="brokerage.referral_open_task", ignore_result=True)
def referral_open_task(inquiry_id: int) -> None:
    """`inquiry.referral` (a reaction run by the dispatcher): open the inquiry's referral. A
    failure must not hold back the event's notifications: it is logged and the scheduled
    scan (`referrals_expire_due`) opens the referral later."""
    try:
        with transaction.atomic():
            referral.referral_open(inquiry=Inquiry.objects.only("pk").get(pk=inquiry_id))
    except Exception:
        logger.exception("Referral of inquiry %s not opened; the scan will retry", inquiry_id)


@shared_task(name="brokerage.referrals_expire_due_task", ignore_result=True)
def referrals_expire_due_task() -> int:
    """Expire referral offers past their time to answer and offer the next candidates."""
    return referral.referrals_expire_due()


@shared_task(name="brokerage.referral_offer_email_task", **EMAIL_TASK_OPTIONS)
def referral_offer_email_task(self, offer_id: int) -> bool:
    try:
        return referral.referral_offer_email_send(offer_id=offer_id)
    except self.autoretry_for:
        if self.request.retries >= self.max_retries:
            referral.referral_offer_email_failed(offer_id=offer_id, error="retries exhausted")
        raise


@shared_task(name="brokerage.referral_emails_relay_task", ignore_result=True)
def referral_emails_relay_task() -> int:
    return referral.referral_emails_relay()


@shared_task(name="brokerage.sla_check_task", ignore_result=True)
def sla_check_task() -> dict:
    """Warn the secretariat before the service-level limit, escalate after it (once each)."""
    return sla.sla_check()


# --- Partners: webhooks and the API key usage log ----------------------------------------


@shared_task(
    bind=True,
    name="brokerage.webhook_deliver_task",
    acks_late=True,
    # The delivery row counts the attempts (webhooks.MAX_ATTEMPTS); this is Celery's own cap.
    max_retries=webhooks.MAX_ATTEMPTS,
)
def webhook_deliver_task(self, delivery_id: int) -> bool:
    """One attempt; on a transient failure the next one is scheduled after the backoff the
    delivery recorded (30 s doubling to 15 min, well below Redis' visibility timeout)."""
    result = webhooks.webhook_deliver(delivery_id=delivery_id)
    if result.retry_in is not None and self.request.retries < self.max_retries:
        raise self.retry(countdown=result.retry_in)
    return result.succeeded


@shared_task(name="brokerage.webhook_deliveries_relay_task", ignore_result=True)
def webhook_deliveries_relay_task() -> int:
    return webhooks.webhook_deliveries_relay()


@shared_task(name="brokerage.api_key_usage_prune_task", ignore_result=True)
def api_key_usage_prune_task() -> int:
    return partners.api_key_usage_prune(days=settings.PARTNER_API_USAGE_DAYS)


# --- Settlement data: the daily integrity check (its notices are brokerage's) ------------


@shared_task(name="billing.document_lines_check_integrity_task", ignore_result=True)
def document_lines_check_integrity_task() -> dict:
    """Daily: document lines whose project, package or charge is gone (they have no database
    constraint): logged as an error, each network's secretariat told (docs/integrity.md)."""
    return {str(k): v for k, v in integrity.document_lines_integrity_check().items()}


@shared_task(name="brokerage.probation_review_task", ignore_result=True)
def probation_review_task() -> dict:
    """Daily: open and lift members' probations from their scorecards (safe to run twice)."""
    return {str(k): list(v) for k, v in probation.probations_review_all().items()}
