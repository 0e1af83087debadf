"""Celery tasks: take ids, call one service, safe to run twice."""

import smtplib

from celery import shared_task

from orders import services as order_services

from . import dispatch, notifications, services


@shared_task(
    bind=True,
    name="brokerage.notification_deliver_task",
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=10,
    retry_backoff_max=600,  # well below Redis' visibility timeout (1 h)
    retry_jitter=True,
    max_retries=6,
    acks_late=True,
)
def notification_deliver_task(self, notification_id: int) -> bool:
    try:
        return notifications.notification_deliver(notification_id=notification_id)
    except self.autoretry_for:
        if self.request.retries >= self.max_retries:
            notifications.notification_mark_failed(
                notification_id=notification_id, error="retries exhausted"
            )
        raise


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


@shared_task(name="brokerage.inquiries_close_due_task", ignore_result=True)
def inquiries_close_due_task() -> int:
    """Close the application windows whose deadline has passed."""
    return order_services.inquiries_close_due()
