"""Turn domain events into notifications (and later webhooks). Runs after commit, in a task;
safe to run twice: the event is locked and marked dispatched, and each notification is unique
per event and recipient."""

from django.db import transaction
from django.utils import timezone

from core.models import DomainEvent
from members.models import Membership, MembershipClass, MembershipStatus, StaffRole, User
from orders.models import Application, ApplicationStatus, Inquiry
from orders.selectors import inquiry_matches

from .notifications import notify


def _staff(network_id: int, role: str = StaffRole.SECRETARIAT):
    return User.objects.filter(
        network_seats__network_id=network_id, network_seats__role=role, is_active=True
    )


def _company_users(company_ids):
    return User.objects.filter(company_id__in=list(company_ids), is_active=True)


def _buyer(inquiry: Inquiry):
    return [inquiry.buyer.user] if inquiry.buyer.user_id else []


def _leads_to_call(inquiry: Inquiry) -> list[int]:
    """Lead companies whose team can cover the inquiry: all leads when the members together
    cover every process; otherwise only leads that cover a process themselves."""
    leads = set(
        Membership.objects.filter(
            network_id=inquiry.network_id,
            membership_class=MembershipClass.LEAD,
            status=MembershipStatus.ACTIVE,
        ).values_list("company_id", flat=True)
    )
    matches, uncovered = inquiry_matches(inquiry=inquiry, limit=500)
    if not uncovered:
        return sorted(leads)
    return sorted({m.company_id for m in matches if m.is_candidate} & leads)


def _recipients(event: DomainEvent, inquiry: Inquiry) -> list[tuple[str, list]]:
    """(template, users) pairs for an inquiry event."""
    network = inquiry.network_id
    kind = event.kind
    applicants = Application.objects.filter(
        inquiry=inquiry, status=ApplicationStatus.ACTIVE
    ).values_list("company_id", flat=True)
    if kind == "inquiry.submitted":
        return [
            ("inquiry_received_staff", _staff(network)),
            ("inquiry_received_buyer", _buyer(inquiry)),
        ]
    if kind == "inquiry.question_asked":
        return [("inquiry_question", _buyer(inquiry))]
    if kind == "inquiry.question_answered":
        return [("inquiry_answered", _staff(network))]
    if kind == "inquiry.escalated":
        return [("inquiry_escalated", _staff(network, StaffRole.COMMITTEE))]
    if kind == "inquiry.published":
        return [
            ("inquiry_call", _company_users(_leads_to_call(inquiry))),
            ("inquiry_published_buyer", _buyer(inquiry)),
        ]
    if kind in ("inquiry.rejected", "inquiry.referral"):
        return [
            ("inquiry_outcome_buyer", _buyer(inquiry)),
            ("inquiry_outcome_staff", _staff(network)),
        ]
    if kind == "inquiry.withdrawn":
        return [
            ("inquiry_outcome_staff", _staff(network)),
            ("inquiry_withdrawn_lead", _company_users(applicants)),
        ]
    if kind == "inquiry.window_closed":
        committee = (
            _staff(network, StaffRole.COMMITTEE)
            if inquiry.network.applications_opened_by_committee
            else []
        )
        return [("inquiry_window_closed", list(_staff(network)) + list(committee))]
    if kind == "award.proposed":
        return [("award_proposed", _staff(network))]
    if kind == "award.confirmed":
        winner = event.payload["company_id"]
        losers = applicants.exclude(company_id=winner)
        return [
            ("award_buyer", _buyer(inquiry)),
            ("award_won", _company_users([winner])),
            ("award_lost", _company_users(losers)),
        ]
    return []


def event_dispatch(*, event_id: int) -> bool:
    """Notify everyone an event concerns, once. Returns False if already dispatched."""
    with transaction.atomic():
        event = DomainEvent.objects.select_for_update(of=("self",)).filter(pk=event_id).first()
        if event is None or event.dispatched_at is not None:
            return False
        if event.aggregate == "inquiry":
            inquiry = Inquiry.objects.select_related("network", "buyer", "award__company").get(
                pk=event.aggregate_id
            )
            for template, users in _recipients(event, inquiry):
                notify(
                    recipients=users,
                    event_key=f"event:{event.pk}:{template}",
                    kind=event.kind,
                    template=template,
                    context={"inquiry": inquiry, "event": event, "payload": event.payload},
                    link=f"/inquiries/{inquiry.pk}/",
                )
        event.dispatched_at = timezone.now()
        event.save(update_fields=["dispatched_at"])
    return True


def events_relay() -> int:
    """Queue events not dispatched after a grace period (lost to a broker outage or crash)."""
    from core.events import enqueue_dispatch

    cutoff = timezone.now() - timezone.timedelta(seconds=30)
    ids = list(
        DomainEvent.objects.filter(dispatched_at__isnull=True, created_at__lt=cutoff)
        .order_by("id")
        .values_list("pk", flat=True)[:500]
    )
    return enqueue_dispatch(ids)
