"""Celery tasks of orders: take ids, call one service, safe to run twice. Registered in every
process by OrdersConfig.ready (lower layers queue them by name). The `name=` strings keep the
`brokerage.` prefix they were born with: queued messages and beat entries refer to them."""

from celery import shared_task

from core.mail import EMAIL_TASK_OPTIONS

from . import execution, guests, projects, services
from .models import InquiryStage


@shared_task(name="brokerage.inquiries_close_due_task", ignore_result=True)
def inquiries_close_due_task() -> int:
    """Close the application windows whose deadline has passed."""
    return services.inquiries_close_due()


@shared_task(name="brokerage.packages_warn_due_task", ignore_result=True)
def packages_warn_due_task() -> int:
    """Warn members and leads of packages due soon or late (once each)."""
    return execution.packages_warn_due()


@shared_task(name="brokerage.invitations_expire_due_task", ignore_result=True)
def invitations_expire_due_task() -> int:
    """Expire project invitations not answered in the lead's time limit."""
    return projects.invitations_expire_due()


# --- Reactions to events (core.events.CATALOGUE): run by the dispatcher in its transaction,
# after the event's audience is told; by name, so their names are the contract.


@shared_task(name="orders.inquiry_early_close_leads_told_task", ignore_result=True)
def inquiry_early_close_leads_told_task(inquiry_id: int) -> None:
    """`inquiry.applications_closed_early`: the leads are told; the prices may open."""
    services.inquiry_early_close_leads_told(inquiry_id=inquiry_id)


@shared_task(name="orders.inquiry_stage_outcome_task", ignore_result=True)
def inquiry_stage_outcome_task(inquiry_id: int) -> None:
    """An inquiry reached an outcome: if it is a stage of a process chain, the chain may be
    complete (its parent awarded)."""
    parent_id = (
        InquiryStage.objects.filter(inquiry_id=inquiry_id)
        .values_list("parent_id", flat=True)
        .first()
    )
    if parent_id is not None:
        services.inquiry_chain_progress(inquiry_id=parent_id)


# --- Guest inquiries: the confirmation e-mail (the request row is the outbox) -------------


@shared_task(name="brokerage.guest_inquiry_email_task", **EMAIL_TASK_OPTIONS)
def guest_inquiry_email_task(self, request_id: int) -> bool:
    try:
        return guests.guest_inquiry_email_send(request_id=request_id)
    except self.autoretry_for:
        if self.request.retries >= self.max_retries:
            guests.guest_inquiry_email_failed(request_id=request_id, error="retries exhausted")
        raise


@shared_task(name="brokerage.guest_inquiry_emails_relay_task", ignore_result=True)
def guest_inquiry_emails_relay_task() -> int:
    return guests.guest_inquiry_emails_relay()
