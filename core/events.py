"""Domain events: the one catalogue of their kinds, and `record()`, which writes an event in
the caller's transaction and queues its dispatch after commit.

Every event kind is an `EventKind`; `CATALOGUE` says, per kind, when it is recorded, the keys
of its payload, who is told (the audience the dispatcher, brokerage.dispatch, resolves to
users; `partners`: the partner feed and webhooks, brokerage.feed) and the reactions: tasks of
the app that owns the rule, run by the dispatcher after the audience is told. docs/events.md
is this catalogue as a table (tests/brokerage/test_event_catalogue.py keeps them equal).

The string values are stored in `DomainEvent.kind`, shown to partners as `type` and used in
notification keys: never change one.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.db import models, transaction

from .models import DomainEvent
from .queueing import enqueue_each

# The dispatcher lives in brokerage (a higher layer): it is called by task name, not import.
DISPATCH_TASK = "brokerage.event_dispatch_task"


class EventKind(models.TextChoices):
    # Inquiries (orders.services)
    INQUIRY_SUBMITTED = "inquiry.submitted"
    INQUIRY_QUESTION_ASKED = "inquiry.question_asked"
    INQUIRY_QUESTION_ANSWERED = "inquiry.question_answered"
    INQUIRY_ESCALATED = "inquiry.escalated"
    INQUIRY_REJECTED = "inquiry.rejected"
    INQUIRY_REFERRAL = "inquiry.referral"
    INQUIRY_WITHDRAWN = "inquiry.withdrawn"
    INQUIRY_PUBLISHED = "inquiry.published"
    INQUIRY_DEADLINE_CHANGED = "inquiry.deadline_changed"
    INQUIRY_CALL_DECLINED = "inquiry.call_declined"
    INQUIRY_APPLICATIONS_CLOSED_EARLY = "inquiry.applications_closed_early"
    INQUIRY_WINDOW_CLOSED = "inquiry.window_closed"
    INQUIRY_APPLICATIONS_OPENED = "inquiry.applications_opened"
    INQUIRY_STAGED = "inquiry.staged"
    INQUIRY_CHAIN_AWARDED = "inquiry.chain_awarded"
    APPLICATION_PLACED = "application.placed"
    AWARD_PROPOSED = "award.proposed"
    AWARD_CONFIRMED = "award.confirmed"
    # Service level (brokerage.sla)
    INQUIRY_SLA_WARNING = "inquiry.sla_warning"
    INQUIRY_SLA_ESCALATED = "inquiry.sla_escalated"
    # Referral (brokerage.referral)
    REFERRAL_OPENED = "referral.opened"
    REFERRAL_OFFERED = "referral.offered"
    REFERRAL_ACCEPTED = "referral.accepted"
    REFERRAL_DECLINED = "referral.declined"
    REFERRAL_EXPIRED = "referral.expired"
    REFERRAL_EXHAUSTED = "referral.exhausted"
    REFERRAL_CANDIDATE_ADDED = "referral.candidate_added"
    REFERRAL_SHARING_AGREED = "referral.sharing_agreed"
    # Projects and their team (orders.projects, orders.contracts)
    PROJECT_OPENED = "project.opened"
    INVITATION_SENT = "invitation.sent"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_DECLINED = "invitation.declined"
    INVITATION_CANCELLED = "invitation.cancelled"
    INVITATION_EXPIRED = "invitation.expired"
    AGREEMENT_REISSUED = "agreement.reissued"
    PACKAGE_CANCELLED = "package.cancelled"
    CONTRACT_TEMPLATE_SAVED = "contract_template.saved"
    # Execution (orders.execution)
    STANDARD_ATTACHED = "standard.attached"
    DELIVERY_SHIPPED = "delivery.shipped"
    INSPECTION_RECORDED = "inspection.recorded"
    CHARGE_LATE = "charge.late"
    SHIPMENT_SENT = "shipment.sent"
    SHIPMENT_ACCEPTED = "shipment.accepted"
    CLAIM_RAISED = "claim.raised"
    CLAIM_TRACED = "claim.traced"
    PROJECT_ACCEPTED = "project.accepted"
    PACKAGE_DUE_SOON = "package.due_soon"
    PACKAGE_LATE = "package.late"
    # Settlement (billing)
    SETTLEMENT_RUN_COMPLETED = "settlement_run.completed"
    SETTLEMENT_RUN_FAILED = "settlement_run.failed"
    SETTLEMENT_RUN_REOPENED = "settlement_run.reopened"
    DOCUMENT_REPLACED = "document.replaced"
    DOCUMENT_CANCELLED = "document.cancelled"
    DOCUMENT_DUE_SOON = "document.due_soon"
    DOCUMENT_OVERDUE = "document.overdue"
    PAYMENT_RECORDED = "payment.recorded"
    # Members (brokerage.probation, members.accounts)
    PROBATION_OPENED = "probation.opened"
    PROBATION_LIFTED = "probation.lifted"
    USER_PASSWORD_RESET = "user.password_reset"  # noqa: S105 (an event kind)


class Audience(StrEnum):
    """Who is told of an event (resolved to users by brokerage.dispatch)."""

    BUYER = "buyer"
    LEADS = "leads"  # lead companies: called, applying, winning, or the project's lead
    MEMBERS = "members"  # member companies concerned: invited, the package's, the team
    SECRETARIAT = "secretariat"
    COMMITTEE = "committee"  # the steering committee
    PARTNERS = "partners"  # partner feed and webhooks (brokerage.feed.PUBLIC_EVENTS)
    TARGET = "target"  # a referral's target: directory company e-mailed, partner network told
    ACCOUNT = "account"  # the accounts of the address given (e-mail only)


# Reactions: tasks of the app owning the rule, run by the dispatcher with the event's
# aggregate id in its transaction, after the audience is told (see brokerage.dispatch).
EARLY_CLOSE_LEADS_TOLD_TASK = "orders.inquiry_early_close_leads_told_task"
STAGE_OUTCOME_TASK = "orders.inquiry_stage_outcome_task"
REFERRAL_OPEN_TASK = "brokerage.referral_open_task"


@dataclass(frozen=True)
class EventSpec:
    when: str
    payload: tuple[str, ...] = ()
    audience: tuple[Audience, ...] = ()
    reactions: tuple[str, ...] = ()


A = Audience
K = EventKind
REFERRAL_KEYS = ("inquiry_id", "offer_id", "company_id", "partner_network_id")
RUN_KEYS = ("run_kind", "period")
REMINDER_KEYS = (
    "number",
    "document_kind",
    "due_date",
    "outstanding_yen",
    "issuer_company_id",
    "recipient_company_id",
)

CATALOGUE: dict[EventKind, EventSpec] = {
    K.INQUIRY_SUBMITTED: EventSpec(
        "a buyer (or a partner for it) submits an inquiry; a stage of a split inquiry too, "
        "with its `parent`",
        ("parent",),
        (A.SECRETARIAT, A.BUYER, A.PARTNERS),
    ),
    K.INQUIRY_QUESTION_ASKED: EventSpec(
        "the secretariat asks the buyer a question", (), (A.BUYER, A.PARTNERS)
    ),
    K.INQUIRY_QUESTION_ANSWERED: EventSpec(
        "the buyer answers the question", (), (A.SECRETARIAT, A.PARTNERS)
    ),
    K.INQUIRY_ESCALATED: EventSpec(
        "the secretariat hands the inquiry to the committee", ("reason",), (A.COMMITTEE, A.PARTNERS)
    ),
    K.INQUIRY_REJECTED: EventSpec(
        "the secretariat declines the inquiry with a reason",
        ("reason",),
        (A.BUYER, A.SECRETARIAT, A.PARTNERS),
        (STAGE_OUTCOME_TASK,),
    ),
    K.INQUIRY_REFERRAL: EventSpec(
        "the inquiry is referred (by the secretariat, or nobody applied)",
        ("reason", "category"),
        (A.BUYER, A.SECRETARIAT, A.PARTNERS),
        (REFERRAL_OPEN_TASK, STAGE_OUTCOME_TASK),
    ),
    K.INQUIRY_WITHDRAWN: EventSpec(
        "the buyer withdraws the inquiry",
        ("reason",),
        (A.SECRETARIAT, A.LEADS, A.PARTNERS),
        (STAGE_OUTCOME_TASK,),
    ),
    K.INQUIRY_PUBLISHED: EventSpec(
        "the secretariat publishes the call for applications",
        ("deadline",),
        (A.LEADS, A.BUYER, A.PARTNERS),
    ),
    K.INQUIRY_DEADLINE_CHANGED: EventSpec(
        "the secretariat extends the application deadline",
        ("deadline", "previous_deadline", "reason", "extension_id"),
        (A.LEADS, A.PARTNERS),
    ),
    K.INQUIRY_CALL_DECLINED: EventSpec(
        "a called lead declines to apply", ("company_id",), (A.SECRETARIAT,)
    ),
    K.INQUIRY_APPLICATIONS_CLOSED_EARLY: EventSpec(
        "the secretariat or the committee closes the applications before the deadline; "
        "the prices open only once the leads are told",
        ("basis", "reason", "early_close_id", "scheduled_deadline"),
        (A.LEADS,),
        (EARLY_CLOSE_LEADS_TOLD_TASK,),
    ),
    K.INQUIRY_WINDOW_CLOSED: EventSpec(
        "the application window closes (deadline or early close)",
        ("applications",),
        (A.SECRETARIAT, A.COMMITTEE, A.PARTNERS),
    ),
    K.INQUIRY_APPLICATIONS_OPENED: EventSpec("the committee opens the sealed applications"),
    K.INQUIRY_STAGED: EventSpec(
        "the secretariat splits the inquiry into stages across networks", ("stages",)
    ),
    K.INQUIRY_CHAIN_AWARDED: EventSpec("every stage of a split inquiry is awarded"),
    K.APPLICATION_PLACED: EventSpec("a lead places a sealed application", ("company_id",)),
    K.AWARD_PROPOSED: EventSpec(
        "the best application is proposed for the award", ("company_id",), (A.SECRETARIAT,)
    ),
    K.AWARD_CONFIRMED: EventSpec(
        "the secretariat confirms the award",
        ("company_id",),
        (A.BUYER, A.LEADS, A.PARTNERS),
        (STAGE_OUTCOME_TASK,),
    ),
    K.INQUIRY_SLA_WARNING: EventSpec(
        "an inquiry without an outcome nears its service-level limit",
        ("due_date", "working_days_left"),
        (A.SECRETARIAT,),
    ),
    K.INQUIRY_SLA_ESCALATED: EventSpec(
        "an inquiry without an outcome passes its service-level limit",
        ("due_date", "working_days_left"),
        (A.SECRETARIAT, A.COMMITTEE),
    ),
    K.REFERRAL_OPENED: EventSpec(
        "the referral of a referred inquiry is opened with its ranked candidates",
        ("inquiry_id", "category", "candidates"),
        (A.SECRETARIAT,),
    ),
    K.REFERRAL_OFFERED: EventSpec(
        "an offer goes to the next candidate",
        (*REFERRAL_KEYS, "rank"),
        (A.TARGET, A.PARTNERS),
    ),
    K.REFERRAL_ACCEPTED: EventSpec(
        "the target accepts the offer",
        REFERRAL_KEYS,
        (A.BUYER, A.SECRETARIAT, A.PARTNERS),
    ),
    K.REFERRAL_DECLINED: EventSpec(
        "the target declines the offer with a reason",
        (*REFERRAL_KEYS, "reason"),
        (A.SECRETARIAT, A.PARTNERS),
    ),
    K.REFERRAL_EXPIRED: EventSpec(
        "an offer is not answered in time", REFERRAL_KEYS, (A.SECRETARIAT, A.PARTNERS)
    ),
    K.REFERRAL_EXHAUSTED: EventSpec("no candidate is left", ("inquiry_id",), (A.SECRETARIAT,)),
    K.REFERRAL_CANDIDATE_ADDED: EventSpec(
        "the secretariat adds a candidate by hand", REFERRAL_KEYS
    ),
    K.REFERRAL_SHARING_AGREED: EventSpec(
        "the buyer agrees to share its identity with the targets", ("inquiry_id",)
    ),
    K.PROJECT_OPENED: EventSpec("the awarded lead opens the project"),
    K.INVITATION_SENT: EventSpec(
        "the lead invites a member to a work package", ("company_id",), (A.MEMBERS,)
    ),
    K.INVITATION_ACCEPTED: EventSpec("the member accepts the invitation", (), (A.LEADS,)),
    K.INVITATION_DECLINED: EventSpec("the member declines the invitation", (), (A.LEADS,)),
    K.INVITATION_CANCELLED: EventSpec(
        "the lead withdraws the invitation", ("company_id",), (A.MEMBERS,)
    ),
    K.INVITATION_EXPIRED: EventSpec(
        "the invitation is not answered in the lead's time limit", (), (A.LEADS,)
    ),
    K.AGREEMENT_REISSUED: EventSpec(
        "a package's agreement is reissued after a change; the acceptances are kept here",
        (
            "lead_accepted_at",
            "lead_accepted_by",
            "member_accepted_at",
            "member_accepted_by",
            "previous_body",
        ),
    ),
    K.PACKAGE_CANCELLED: EventSpec("the lead cancels a work package"),
    K.CONTRACT_TEMPLATE_SAVED: EventSpec(
        "the secretariat saves a contract template", ("contract_kind", "previous_body")
    ),
    K.STANDARD_ATTACHED: EventSpec(
        "the lead attaches a work standard to a package", ("company_id",), (A.MEMBERS,)
    ),
    K.DELIVERY_SHIPPED: EventSpec(
        "a member ships a delivery to the lead", ("quantity",), (A.LEADS,)
    ),
    K.INSPECTION_RECORDED: EventSpec(
        "the lead records its inspection of a delivery",
        ("result", "passed", "rejected"),
        (A.MEMBERS,),
    ),
    K.CHARGE_LATE: EventSpec(
        "the lead charges a member for lateness", ("company_id", "amount_yen"), (A.MEMBERS,)
    ),
    K.SHIPMENT_SENT: EventSpec(
        "the lead ships to the buyer", ("quantity", "tracking_number"), (A.BUYER,)
    ),
    K.SHIPMENT_ACCEPTED: EventSpec("the buyer accepts a shipment", ("accepted",), (A.LEADS,)),
    K.CLAIM_RAISED: EventSpec(
        "the buyer raises a claim on a shipment", ("quantity",), (A.LEADS, A.SECRETARIAT)
    ),
    K.CLAIM_TRACED: EventSpec(
        "the lead traces a claim to a member's package", ("company_id", "charge_yen"), (A.MEMBERS,)
    ),
    K.PROJECT_ACCEPTED: EventSpec(
        "the buyer accepts the whole project", (), (A.LEADS, A.MEMBERS, A.SECRETARIAT)
    ),
    K.PACKAGE_DUE_SOON: EventSpec(
        "a package still owed is due within days (daily job)",
        ("due_date",),
        (A.MEMBERS, A.LEADS),
    ),
    K.PACKAGE_LATE: EventSpec(
        "a package still owed is past its due date (daily job)",
        ("due_date",),
        (A.MEMBERS, A.LEADS),
    ),
    K.SETTLEMENT_RUN_COMPLETED: EventSpec(
        "a monthly close or annual fee run completes", (*RUN_KEYS, "documents", "total_yen")
    ),
    K.SETTLEMENT_RUN_FAILED: EventSpec("a settlement run stops on bad data", (*RUN_KEYS, "error")),
    K.SETTLEMENT_RUN_REOPENED: EventSpec(
        "the secretariat reopens a completed run with a reason", (*RUN_KEYS, "reason")
    ),
    K.DOCUMENT_REPLACED: EventSpec(
        "a recomputed run reissues a changed document", ("number", "replaces")
    ),
    K.DOCUMENT_CANCELLED: EventSpec(
        "a recomputed run cancels a changed document", ("number", "reason")
    ),
    K.DOCUMENT_DUE_SOON: EventSpec("an unpaid document is due within days", REMINDER_KEYS),
    K.DOCUMENT_OVERDUE: EventSpec("an unpaid document is past its due date", REMINDER_KEYS),
    K.PAYMENT_RECORDED: EventSpec(
        "the secretariat records a payment of a document",
        ("document_id", "number", "amount_yen", "outstanding_yen", "is_advance"),
    ),
    K.PROBATION_OPENED: EventSpec(
        "the daily review puts a member on probation from its scorecard",
        ("company_id", "figures", "max_package_value_yen", "until"),
        (A.MEMBERS, A.SECRETARIAT),
    ),
    K.PROBATION_LIFTED: EventSpec(
        "a probation is lifted (by the review or the secretariat)",
        ("company_id", "reason", "by"),
        (A.MEMBERS, A.SECRETARIAT),
    ),
    K.USER_PASSWORD_RESET: EventSpec("someone asks for a password reset e-mail", (), (A.ACCOUNT,)),
}


class UnknownEventKind(ValueError):
    """`record()` was given a kind that is not in the catalogue."""


def spec(kind: str) -> EventSpec:
    return CATALOGUE[EventKind(kind)]


def record(*, kind: EventKind, subject, actor=None, network_id=None, **payload) -> DomainEvent:
    """Write an event about `subject` (a model instance). Call inside the service's
    transaction; its dispatch is queued after commit. `kind` must be an `EventKind` (or its
    value): an unknown kind is refused, so no event escapes the catalogue."""
    if kind not in EventKind.values:
        raise UnknownEventKind(f"Unknown event kind {kind!r}: add it to core.events.EventKind")
    event = DomainEvent.objects.create(
        kind=str(EventKind(kind).value),
        aggregate=subject._meta.model_name,
        aggregate_id=subject.pk,
        network_id=network_id,
        payload=payload,
        actor=actor if actor is not None and actor.is_authenticated else None,
    )
    transaction.on_commit(lambda: enqueue_dispatch([event.pk]))
    return event


def enqueue_dispatch(event_ids) -> int:
    """Queue events for dispatch. A broker outage is logged, not raised: the relay retries."""
    return enqueue_each(DISPATCH_TASK, event_ids)


def catalogue_table() -> str:
    """The catalogue as the Markdown table of docs/events.md."""
    lines = ["| Kind | When | Payload | Audience | Reactions |", "|---|---|---|---|---|"]
    for kind in EventKind:
        entry = CATALOGUE[kind]
        cells = (
            f"`{kind.value}`",
            entry.when,
            ", ".join(f"`{key}`" for key in entry.payload) or "—",
            ", ".join(entry.audience) or "— (recorded only)",
            ", ".join(f"`{task}`" for task in entry.reactions) or "—",
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
