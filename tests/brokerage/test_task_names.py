"""Task names are a contract: queued messages and the beat schedule refer to them, so a task
keeps its name when it moves between apps (issue 14 moved orders' and billing's tasks out of
brokerage/tasks.py)."""

from django.conf import settings

from config.celery import app

# Every name that existed before the move, and the app whose tasks.py holds it now.
NAMES = {
    "billing.annual_fees_due_task": "billing.tasks",
    "billing.annual_fees_task": "billing.tasks",
    "billing.document_lines_check_integrity_task": "brokerage.tasks",
    "billing.documents_remind_due_task": "billing.tasks",
    "billing.monthly_close_due_task": "billing.tasks",
    "billing.monthly_close_task": "billing.tasks",
    "billing.settlement_runs_resume_stale_task": "billing.tasks",
    "brokerage.api_key_usage_prune_task": "brokerage.tasks",
    "brokerage.capacity_reminders_task": "brokerage.tasks",
    "brokerage.event_dispatch_task": "brokerage.tasks",
    "brokerage.events_relay_task": "brokerage.tasks",
    "brokerage.guest_inquiry_email_task": "orders.tasks",
    "brokerage.guest_inquiry_emails_relay_task": "orders.tasks",
    "brokerage.inquiries_close_due_task": "orders.tasks",
    "brokerage.invitations_expire_due_task": "orders.tasks",
    "brokerage.notification_deliver_task": "brokerage.tasks",
    "brokerage.notifications_deliver_task": "brokerage.tasks",
    "brokerage.notifications_relay_task": "brokerage.tasks",
    "brokerage.packages_warn_due_task": "orders.tasks",
    "brokerage.probation_review_task": "brokerage.tasks",
    "brokerage.referral_emails_relay_task": "brokerage.tasks",
    "brokerage.referral_offer_email_task": "brokerage.tasks",
    "brokerage.referrals_expire_due_task": "brokerage.tasks",
    "brokerage.sla_check_task": "brokerage.tasks",
    "brokerage.webhook_deliver_task": "brokerage.tasks",
    "brokerage.webhook_deliveries_relay_task": "brokerage.tasks",
}


def test_every_task_name_is_still_registered_where_its_app_keeps_it():
    assert {name: app.tasks[name].run.__module__ for name in NAMES if name in app.tasks} == NAMES


def test_every_beat_entry_names_a_registered_task():
    missing = [
        entry["task"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] not in app.tasks
    ]
    assert missing == []
