"""The one outbound pipeline of domain events: each event becomes in-app notifications (each
e-mailed through its outbox, brokerage.notifications), entries in the partners' feed and
webhooks (brokerage.partners). Runs after commit, in a task; safe to run twice: the event is
locked and marked dispatched, and each notification is unique per event and recipient.

The dispatcher decides no business rule. What an event sets in motion (opening the prices of
an early close, opening a referral, moving a process chain on) is a task of the app owning
that rule, named in the event's catalogue entry (core.events.CATALOGUE, `reactions`) and run
here after the audience is told, in the same transaction: it commits with the notifications,
never before them, and a failure leaves the event to the relay as a failed notice would."""

from celery import current_app
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.events import CATALOGUE, EventKind, enqueue_dispatch
from core.models import DomainEvent
from members import accounts
from members.models import PasswordResetRequest, Probation, StaffRole, User
from orders.models import (
    Application,
    ApplicationStatus,
    Claim,
    Delivery,
    Inquiry,
    Inspection,
    Invitation,
    MemberCharge,
    Project,
    Shipment,
    WorkPackage,
    WorkStandard,
)
from orders.selectors import called_lead_ids, leads_to_call

from . import referral as referrals
from .models import Referral, ReferralOffer
from .notifications import notify
from .partners import partner_event_fan_out

K = EventKind


def _staff(network_id: int, role: str = StaffRole.SECRETARIAT):
    return User.objects.filter(
        network_seats__network_id=network_id, network_seats__role=role, is_active=True
    )


def _company_users(company_ids):
    return User.objects.filter(company_id__in=list(company_ids), is_active=True)


def _buyer(inquiry: Inquiry):
    return [inquiry.buyer.user] if inquiry.buyer.user_id else []


def _called_leads(inquiry: Inquiry) -> list[int]:
    """The lead companies the publication called (recorded by orders at publication; for an
    inquiry published before calls were recorded, the same rule now)."""
    return called_lead_ids(inquiry) or leads_to_call(inquiry)


def _leads_concerned(inquiry: Inquiry, applicants) -> set[int]:
    """Who must hear of a change to the window: the called leads and every applicant."""
    return set(called_lead_ids(inquiry)) | set(applicants)


def _recipients(event: DomainEvent, inquiry: Inquiry) -> list[tuple[str, list]]:
    """(template, users) pairs for an inquiry event."""
    applicants = Application.objects.filter(
        inquiry=inquiry, status=ApplicationStatus.ACTIVE
    ).values_list("company_id", flat=True)
    return _screening_recipients(event.kind, inquiry, applicants) or _window_recipients(
        event, inquiry, applicants
    )


def _screening_recipients(kind: str, inquiry: Inquiry, applicants) -> list[tuple[str, list]]:
    """The secretariat's screening, the outcomes and the service level."""
    network = inquiry.network_id
    if kind == K.INQUIRY_SUBMITTED:
        return [
            ("inquiry_received_staff", _staff(network)),
            ("inquiry_received_buyer", _buyer(inquiry)),
        ]
    if kind == K.INQUIRY_QUESTION_ASKED:
        return [("inquiry_question", _buyer(inquiry))]
    if kind == K.INQUIRY_QUESTION_ANSWERED:
        return [("inquiry_answered", _staff(network))]
    if kind == K.INQUIRY_ESCALATED:
        return [("inquiry_escalated", _staff(network, StaffRole.COMMITTEE))]
    if kind in (K.INQUIRY_REJECTED, K.INQUIRY_REFERRAL):
        return [
            ("inquiry_outcome_buyer", _buyer(inquiry)),
            ("inquiry_outcome_staff", _staff(network)),
        ]
    if kind == K.INQUIRY_WITHDRAWN:
        return [
            ("inquiry_outcome_staff", _staff(network)),
            ("inquiry_withdrawn_lead", _company_users(applicants)),
        ]
    if kind == K.INQUIRY_SLA_WARNING:
        return [("sla_warning", _staff(network))]
    if kind == K.INQUIRY_SLA_ESCALATED:
        return [
            ("sla_escalated", list(_staff(network)) + list(_staff(network, StaffRole.COMMITTEE)))
        ]
    return []


def _window_recipients(event: DomainEvent, inquiry: Inquiry, applicants) -> list[tuple[str, list]]:
    """The call for applications, its window and the award."""
    network = inquiry.network_id
    kind = event.kind
    if kind == K.INQUIRY_PUBLISHED:
        return [
            ("inquiry_call", _company_users(_called_leads(inquiry))),
            ("inquiry_published_buyer", _buyer(inquiry)),
        ]
    if kind == K.INQUIRY_DEADLINE_CHANGED:
        return [
            (
                "inquiry_deadline_extended_lead",
                _company_users(_leads_concerned(inquiry, applicants)),
            )
        ]
    if kind == K.INQUIRY_APPLICATIONS_CLOSED_EARLY:
        return [
            ("inquiry_closed_early_lead", _company_users(_leads_concerned(inquiry, applicants)))
        ]
    if kind == K.INQUIRY_CALL_DECLINED:
        return [("call_declined_staff", _staff(network))]
    if kind == K.INQUIRY_WINDOW_CLOSED:
        committee = (
            _staff(network, StaffRole.COMMITTEE)
            if inquiry.network.applications_opened_by_committee
            else []
        )
        return [("inquiry_window_closed", list(_staff(network)) + list(committee))]
    if kind == K.AWARD_PROPOSED:
        return [("award_proposed", _staff(network))]
    if kind == K.AWARD_CONFIRMED:
        winner = event.payload["company_id"]
        losers = applicants.exclude(company_id=winner)
        return [
            ("award_buyer", _buyer(inquiry)),
            ("award_won", _company_users([winner])),
            ("award_lost", _company_users(losers)),
        ]
    return []


def _referral_recipients(event: DomainEvent, referral: Referral) -> list[tuple[str, list, str]]:
    """(template, users, link) triples for a referral event. A directory company has no
    account: it is e-mailed its signed link by the referral service, not notified here."""
    inquiry = referral.inquiry
    network = inquiry.network_id
    staff_link = reverse("referral_detail", args=[referral.pk])
    kind = event.kind
    if kind == K.REFERRAL_OPENED:
        return [("referral_opened_staff", _staff(network), staff_link)]
    if kind == K.REFERRAL_OFFERED:
        partner = event.payload.get("partner_network_id")
        if partner:
            return [("referral_offered_partner", _staff(partner), "")]
        return []
    if kind in (K.REFERRAL_DECLINED, K.REFERRAL_EXPIRED):
        return [("referral_moved_on_staff", _staff(network), staff_link)]
    if kind == K.REFERRAL_ACCEPTED:
        return [
            ("referral_accepted_buyer", _buyer(inquiry), f"/inquiries/{inquiry.pk}/"),
            ("referral_accepted_staff", _staff(network), staff_link),
        ]
    if kind == K.REFERRAL_EXHAUSTED:
        return [("referral_exhausted_staff", _staff(network), staff_link)]
    return []


def _dispatch_referral(event: DomainEvent) -> None:
    referral = Referral.objects.select_related(
        "inquiry__network", "inquiry__buyer__user", "inquiry__material"
    ).get(pk=event.aggregate_id)
    offer_id = event.payload.get("offer_id")
    offer = (
        ReferralOffer.objects.select_related("company", "partner_network").get(pk=offer_id)
        if offer_id
        else None
    )
    context = {
        "referral": referral,
        "inquiry": referral.inquiry,
        "offer": offer,
        "event": event,
        "payload": event.payload,
    }
    if offer is not None and event.kind == K.REFERRAL_OFFERED:
        # The partner network's secretariat answers through the same signed link.
        context.update(referrals.offer_context(offer))
        context["link"] = referrals.referral_response_url(offer)
    for template, users, link in _referral_recipients(event, referral):
        notify(
            recipients=users,
            event_key=f"event:{event.pk}:{template}",
            kind=event.kind,
            template=template,
            context=context,
            link=link,
        )


def _event_key(event: DomainEvent, template: str) -> str:
    # Service-level alerts are keyed by inquiry and level, not by event: even a duplicated
    # event cannot warn anyone twice.
    if event.kind in (K.INQUIRY_SLA_WARNING, K.INQUIRY_SLA_ESCALATED):
        return f"sla:{event.aggregate_id}:{event.kind}:{template}"
    return f"event:{event.pk}:{template}"


def _dispatch_invitation(event: DomainEvent) -> None:
    """The invited member is told of an invitation and of its withdrawal; the lead of the
    answer or expiry."""
    invitation = Invitation.objects.select_related(
        "company", "package__project__lead", "package__process", "package__project__inquiry"
    ).get(pk=event.aggregate_id)
    project = invitation.package.project
    if event.kind == K.INVITATION_SENT:
        template, company_id = "invitation_received", invitation.company_id
    elif event.kind == K.INVITATION_CANCELLED:
        template, company_id = "invitation_withdrawn_member", invitation.company_id
    else:
        template, company_id = "invitation_answered_lead", project.lead_id
    notify(
        recipients=_company_users([company_id]),
        event_key=_event_key(event, template),
        kind=event.kind,
        template=template,
        context={"invitation": invitation, "project": project, "event": event},
        link="",
    )


def _work_subject(event: DomainEvent) -> tuple[Project, WorkPackage | None, object]:
    """The project, package (if any) and object an execution event is about."""
    model, related = WORK_AGGREGATES[event.aggregate]
    obj = model.objects.select_related(*related).get(pk=event.aggregate_id)
    if isinstance(obj, Project):
        return obj, None, obj
    if isinstance(obj, WorkPackage):
        return obj.project, obj, obj
    if isinstance(obj, Shipment):
        return obj.project, None, obj
    if isinstance(obj, Claim):
        return obj.shipment.project, obj.package, obj
    if isinstance(obj, Inspection):
        return obj.delivery.package.project, obj.delivery.package, obj
    return obj.package.project, obj.package, obj


WORK_AGGREGATES = {
    "project": (Project, ("inquiry__buyer", "lead")),
    "workpackage": (WorkPackage, ("project__inquiry", "process", "member")),
    "workstandard": (WorkStandard, ("package__project__inquiry", "package__process")),
    "delivery": (Delivery, ("package__project__inquiry", "package__process", "package__member")),
    "inspection": (
        Inspection,
        ("delivery__package__project__inquiry", "delivery__package__process"),
    ),
    "shipment": (Shipment, ("project__inquiry__buyer", "project__lead")),
    "claim": (Claim, ("shipment__project__inquiry__buyer", "package__process", "package__member")),
    "membercharge": (MemberCharge, ("package__project__inquiry", "package__process")),
}

# Who hears of what happens in a project: event kind → (template, audiences).
WORK_AUDIENCES = {
    K.STANDARD_ATTACHED: ("work_standard_attached", ("member",)),
    K.DELIVERY_SHIPPED: ("delivery_shipped_lead", ("lead",)),
    K.INSPECTION_RECORDED: ("inspection_recorded_member", ("member",)),
    K.SHIPMENT_SENT: ("shipment_sent_buyer", ("buyer",)),
    K.CLAIM_RAISED: ("claim_raised", ("lead", "secretariat")),
    K.CLAIM_TRACED: ("claim_traced_member", ("member",)),
    K.CHARGE_LATE: ("late_charge_member", ("member",)),
    K.SHIPMENT_ACCEPTED: ("shipment_accepted_lead", ("lead",)),
    K.PROJECT_ACCEPTED: ("project_accepted", ("lead", "team", "secretariat")),
    K.PACKAGE_DUE_SOON: ("package_due_soon", ("member", "lead")),
    K.PACKAGE_LATE: ("package_late", ("member", "lead")),
}


def _dispatch_work(event: DomainEvent) -> None:
    if event.kind not in WORK_AUDIENCES:
        return
    template, audiences = WORK_AUDIENCES[event.kind]
    project, package, obj = _work_subject(event)
    for audience in audiences:
        if audience == "buyer":
            users = _buyer(project.inquiry)
            link = f"/projects/{project.pk}/delivery/"
        elif audience == "secretariat":
            users = _staff(project.network_id)
            link = f"/projects/{project.pk}/"
        elif audience == "lead":
            users = _company_users([project.lead_id])
            link = f"/projects/{project.pk}/"
        elif audience == "team":
            members = project.packages.exclude(member_id=project.lead_id).exclude(member=None)
            users = _company_users(set(members.values_list("member_id", flat=True)))
            link = "/my-packages/"
        else:  # the package's member; the lead's own package is on its board already
            if package is None or package.member_id in (None, project.lead_id):
                continue
            users = _company_users([package.member_id])
            link = "/my-packages/"
        notify(
            recipients=users,
            event_key=_event_key(event, f"{template}:{audience}"),
            kind=event.kind,
            template=template,
            context={
                "project": project,
                "package": package,
                "object": obj,
                "event": event,
                "payload": event.payload,
                "audience": audience,
            },
            link=link,
        )


def _dispatch_probation(event: DomainEvent) -> None:
    """The member's users and the network's secretariat hear of a probation opened or
    lifted (brokerage.probation)."""
    probation = Probation.objects.select_related("membership__company").get(pk=event.aggregate_id)
    membership = probation.membership
    template = "probation_opened" if event.kind == K.PROBATION_OPENED else "probation_lifted"
    context = {"probation": probation, "company": membership.company, "event": event}
    for audience, users, link in (
        ("member", _company_users([membership.company_id]), "/my-scorecard/"),
        ("staff", _staff(membership.network_id), f"/record/{membership.network_id}/probation/"),
    ):
        notify(
            recipients=users,
            event_key=_event_key(event, f"{template}:{audience}"),
            kind=event.kind,
            template=template,
            context={**context, "audience": audience},
            link=link,
        )


def _dispatch_password_reset(event: DomainEvent) -> None:
    """Each active account with the requested address gets the reset e-mail; an unknown
    address gets nothing (the visitor saw the same page either way). The link is added
    when the e-mail is sent (brokerage.notifications), so no token is stored."""
    reset = PasswordResetRequest.objects.filter(pk=event.aggregate_id).first()
    if reset is None:
        return
    notify(
        recipients=accounts.password_reset_recipients(reset),
        event_key=_event_key(event, "password_reset"),
        kind=event.kind,
        template="password_reset",
        context={"reset": reset},
        link="",
    )


def _react(event: DomainEvent) -> None:
    """Run the event's reactions (core.events.CATALOGUE): tasks of the app that owns the
    rule, called here, in the dispatch's transaction, with the event's aggregate id."""
    entry = CATALOGUE.get(event.kind)  # None: a kind retired since the row was written
    for task_name in entry.reactions if entry is not None else ():
        current_app.tasks[task_name](event.aggregate_id)


def event_dispatch(*, event_id: int) -> bool:
    """Tell everyone an event concerns, once, then run its reactions and append it to the
    partners' feed and webhooks. Returns False if already dispatched."""
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
                    event_key=_event_key(event, template),
                    kind=event.kind,
                    template=template,
                    context={"inquiry": inquiry, "event": event, "payload": event.payload},
                    link=f"/inquiries/{inquiry.pk}/",
                )
        elif event.aggregate == "referral":
            _dispatch_referral(event)
        elif event.aggregate == "invitation":
            _dispatch_invitation(event)
        elif event.aggregate in WORK_AGGREGATES:
            _dispatch_work(event)
        elif event.aggregate == "probation":
            _dispatch_probation(event)
        elif event.kind == K.USER_PASSWORD_RESET:
            _dispatch_password_reset(event)
        # After the notifications, in this transaction: e.g. an early close's prices open
        # only together with the leads' notice.
        _react(event)
        # Partners' change feed and webhooks; last, so the feed's lock is held briefly.
        partner_event_fan_out(event=event)
        event.dispatched_at = timezone.now()
        event.save(update_fields=["dispatched_at"])
    return True


def events_relay() -> int:
    """Queue events not dispatched after a grace period (lost to a broker outage or crash)."""
    cutoff = timezone.now() - timezone.timedelta(seconds=30)
    ids = list(
        DomainEvent.objects.filter(dispatched_at__isnull=True, created_at__lt=cutoff)
        .order_by("id")
        .values_list("pk", flat=True)[:500]
    )
    return enqueue_dispatch(ids)
