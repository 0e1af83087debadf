"""The joint-order flow from inquiry to award. Each service is one transaction: it checks who
may act, locks the inquiry, re-checks its status, moves it through `INQUIRY_TRANSITIONS`
(recording actor, time and reason) and records a domain event for the notifications."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core import events
from core.errors import BrokerageError, Conflict, InvalidTransition, NotAllowed
from core.transitions import record_creation, transition
from members.locks import lock_one
from members.models import (
    Buyer,
    Company,
    Membership,
    MembershipClass,
    MembershipStatus,
    Network,
)
from members.permissions import roles_of
from members.services import finish_as_ra

from .error_codes import CallErrorCode
from .models import (
    INQUIRY_SPEC_FIELDS,
    Application,
    ApplicationStatus,
    Award,
    AwardMode,
    AwardStatus,
    CommitteeDecision,
    DeadlineExtension,
    EarlyClose,
    Inquiry,
    InquiryAttachment,
    InquiryMessage,
    InquiryStage,
    InquiryStatus,
    LeadCall,
    ReferenceSequence,
)
from .scoring import Offer, Weights, rank_offers
from .selectors import leads_not_answered, leads_to_call
from .uploads import check_attachment, random_name

S = InquiryStatus

INQUIRY_FIELDS = frozenset(INQUIRY_SPEC_FIELDS)
# Translated where it is raised (members.permissions.Roles.require_secretariat).
SCREENING_REFUSAL = gettext_noop("Only the network's secretariat screens inquiries.")


# ---------------------------------------------------------------------------------------
# Intake


def _next_reference(network: Network, year: int) -> str:
    """The next reference of the network's year, e.g. MIGAKIYA-2026-00042. Call late in the
    transaction: the counter row stays locked until commit, so concurrent submissions queue
    only for the last few statements."""
    prefix = f"{network.slug.upper()[:8]}-{year}-"
    sequence = ReferenceSequence.objects.filter(network=network, year=year)
    if not sequence.update(last=F("last") + 1):
        # The network's first inquiry of the year (or the first since counters exist): start
        # after the references already given. Two starters race on the unique constraint;
        # the loser waits for the winner's commit, then takes the next number.
        given = Inquiry.objects.filter(network=network, reference__startswith=prefix).count()
        try:
            with transaction.atomic():
                ReferenceSequence.objects.create(network=network, year=year, last=given + 1)
        except IntegrityError:
            sequence.update(last=F("last") + 1)
    return f"{prefix}{sequence.values_list('last', flat=True).get():05d}"


def _validate_inquiry(inquiry: Inquiry, processes) -> None:
    errors = {}
    if not processes:
        errors["processes"] = _("Choose at least one process.")
    elif any(not p.is_active for p in processes):
        errors["processes"] = _("A chosen process is no longer in the catalogue.")
    if inquiry.material_id and not inquiry.material.is_active:
        errors["material"] = _("This material is no longer in the catalogue.")
    if inquiry.desired_delivery_date and inquiry.desired_delivery_date <= timezone.localdate():
        errors["desired_delivery_date"] = _("The delivery date must be in the future.")
    if errors:
        raise ValidationError(errors)
    if inquiry.finish_kind:
        inquiry.required_ra_um = finish_as_ra(
            kind=inquiry.finish_kind, grit=inquiry.finish_grit, ra=inquiry.finish_ra_input
        )
    else:
        inquiry.required_ra_um = None
    inquiry.full_clean(exclude=["reference", "buyer", "entered_by", "network"])


def inquiry_submit(
    *,
    actor,
    network: Network,
    data: dict,
    buyer: Buyer | None = None,
    buyer_data: dict | None = None,
    idempotency_key: str = "",
) -> Inquiry:
    """A buyer submits an inquiry to the network's window, or the secretariat enters one
    taken by phone (then `buyer` or `buyer_data` names the buyer).

    A retry with the same `idempotency_key` by the same user returns the first inquiry.
    Records `inquiry.submitted` (the secretariat is notified).
    """
    roles = roles_of(actor)
    if idempotency_key:
        existing = Inquiry.objects.filter(entered_by=actor, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if not network.is_active:
        raise BrokerageError(_("This network does not take inquiries."), field="network")
    if roles.is_secretariat(network.pk):
        if buyer is None:
            if not buyer_data:
                raise BrokerageError(_("Name the buyer of a phoned-in inquiry."), field="buyer")
            buyer = Buyer(**buyer_data)
            buyer.full_clean()
    elif roles.is_buyer:
        buyer = actor.buyer
    else:
        raise NotAllowed(_("Only buyers (or the secretariat for them) submit inquiries."))
    unknown = set(data) - INQUIRY_FIELDS
    if unknown:
        raise BrokerageError(_("Unknown field."), field=sorted(unknown)[0])
    data = dict(data)
    processes = list(data.pop("processes", []))
    inquiry = Inquiry(network=network, entered_by=actor, idempotency_key=idempotency_key, **data)
    _validate_inquiry(inquiry, processes)
    try:
        with transaction.atomic():
            if buyer.pk is None:
                buyer.save()
            inquiry.buyer = buyer
            inquiry.reference = _next_reference(network, timezone.localdate().year)
            inquiry.save()
            inquiry.processes.add(*processes)  # new: nothing to compare with, unlike set()
            record_creation(inquiry, actor=actor)
            events.record(
                kind=events.EventKind.INQUIRY_SUBMITTED,
                subject=inquiry,
                actor=actor,
                network_id=network.pk,
            )
    except IntegrityError:
        # A concurrent retry with the same key won the race: answer with its inquiry.
        if idempotency_key:
            existing = Inquiry.objects.filter(
                entered_by=actor, idempotency_key=idempotency_key
            ).first()
            if existing is not None:
                return existing
        raise
    return inquiry


def attachment_add(*, actor, inquiry: Inquiry, upload) -> InquiryAttachment:
    """Attach a drawing or photo. The buyer or the secretariat, until the inquiry has an
    outcome. The type is read from the content; the stored name is random."""
    roles = roles_of(actor)
    if not (_is_buyer_of(actor, inquiry) or roles.is_secretariat(inquiry.network_id)):
        raise NotAllowed(_("Only the buyer or the secretariat attach files."))
    content_type = check_attachment(upload)
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry.pk)
        if inquiry.status not in (S.SUBMITTED, S.QUESTION, S.COMMITTEE, S.OPEN):
            raise InvalidTransition(_("Files can no longer be added to this inquiry."))
        original = upload.name
        upload.name = random_name(original)
        return InquiryAttachment.objects.create(
            inquiry=inquiry,
            file=upload,
            original_name=original[:255],
            content_type=content_type,
            size=upload.size,
            uploaded_by=actor,
        )


def _is_buyer_of(actor, inquiry: Inquiry) -> bool:
    return actor.is_authenticated and inquiry.buyer.user_id == actor.pk


# ---------------------------------------------------------------------------------------
# Screening by the secretariat


def _move(inquiry: Inquiry, *, to: str, actor, reason: str = "", update_fields=()) -> bool:
    return transition(
        inquiry,
        to=to,
        allowed=Inquiry.TRANSITIONS,
        actor=actor,
        actor_label="" if actor is not None else _("system (scheduled job)"),
        reason=reason,
        update_fields=tuple(update_fields),
    )


def _event(kind: str, inquiry: Inquiry, actor=None, **payload) -> None:
    events.record(kind=kind, subject=inquiry, actor=actor, network_id=inquiry.network_id, **payload)


def _deadline_for(network: Network, deadline: datetime.datetime | None) -> datetime.datetime:
    now = timezone.now()
    if deadline is None:
        return now + datetime.timedelta(days=network.application_window_days)
    if timezone.is_naive(deadline):
        raise BrokerageError(_("Give the deadline with its time zone."), field="deadline")
    if deadline <= now:
        raise BrokerageError(_("The deadline must be in the future."), field="deadline")
    shortest = datetime.timedelta(hours=network.min_application_window_hours)
    if deadline < now + shortest:
        raise BrokerageError(
            _("The lead companies need at least %(hours)d hours to apply: give a later deadline.")
            % {"hours": network.min_application_window_hours},
            field="deadline",
            code=CallErrorCode.DEADLINE_TOO_SOON,
        )
    return deadline


def _award_mode_for(network: Network, award_mode: str | None) -> str:
    if award_mode is None:
        return AwardMode.BID if network.award_by_bid else AwardMode.COORDINATION
    allowed = {
        AwardMode.BID: network.award_by_bid,
        AwardMode.COORDINATION: network.award_by_coordination,
    }
    if not allowed.get(award_mode):
        raise BrokerageError(_("This network does not award this way."), field="award_mode")
    return award_mode


def _publish(inquiry: Inquiry, *, actor, deadline, award_mode, reason: str = "") -> None:
    network = inquiry.network
    inquiry.application_deadline = _deadline_for(network, deadline)
    inquiry.award_mode = _award_mode_for(network, award_mode)
    inquiry.published_at = timezone.now()
    _move(
        inquiry,
        to=S.OPEN,
        actor=actor,
        reason=reason,
        update_fields=("application_deadline", "award_mode", "published_at"),
    )
    _record_calls(inquiry)
    _event(
        events.EventKind.INQUIRY_PUBLISHED,
        inquiry,
        actor,
        deadline=inquiry.application_deadline.isoformat(),
    )


def _record_calls(inquiry: Inquiry) -> None:
    """Record which lead companies the publication calls (the dispatcher notifies them)."""
    LeadCall.objects.bulk_create(
        [LeadCall(inquiry=inquiry, company_id=pk) for pk in leads_to_call(inquiry)],
        ignore_conflicts=True,
    )


def _ensure_calls(inquiry: Inquiry) -> None:
    """An inquiry published before calls were recorded gets them now (same rule)."""
    if not LeadCall.objects.filter(inquiry=inquiry).exists():
        _record_calls(inquiry)


def inquiry_publish(
    *,
    actor,
    inquiry: Inquiry,
    deadline: datetime.datetime | None = None,
    award_mode: str | None = None,
) -> Inquiry:
    """Accept a screened inquiry and open the application window (default length from the
    network's rules). Records `inquiry.published`: the lead companies are notified."""
    roles_of(actor).require_secretariat(inquiry.network_id, _(SCREENING_REFUSAL))
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry.pk)
        if inquiry.status == S.OPEN:
            return inquiry
        if inquiry.status != S.SUBMITTED:
            raise InvalidTransition(_("Only a received inquiry can be published."))
        _publish(inquiry, actor=actor, deadline=deadline, award_mode=award_mode)
    return inquiry


def inquiry_ask(*, actor, inquiry: Inquiry, question: str) -> Inquiry:
    """Ask the buyer a question; the inquiry waits for the answer."""
    roles_of(actor).require_secretariat(inquiry.network_id, _(SCREENING_REFUSAL))
    if not question.strip():
        raise BrokerageError(_("Write the question."), field="question")
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry.pk)
        if inquiry.status != S.SUBMITTED:
            raise InvalidTransition(_("Questions are asked while the inquiry is being screened."))
        _move(inquiry, to=S.QUESTION, actor=actor, reason=question)
        InquiryMessage.objects.create(
            inquiry=inquiry, author=actor, kind=InquiryMessage.Kind.QUESTION, body=question
        )
        _event(events.EventKind.INQUIRY_QUESTION_ASKED, inquiry, actor)
    return inquiry


def inquiry_answer(*, actor, inquiry: Inquiry, answer: str) -> Inquiry:
    """The buyer answers; the inquiry goes back to screening."""
    if not _is_buyer_of(actor, inquiry):
        raise NotAllowed(_("Only the buyer answers the secretariat's question."))
    if not answer.strip():
        raise BrokerageError(_("Write the answer."), field="answer")
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry.pk)
        if inquiry.status != S.QUESTION:
            raise InvalidTransition(_("There is no open question on this inquiry."))
        _move(inquiry, to=S.SUBMITTED, actor=actor, reason=answer)
        InquiryMessage.objects.create(
            inquiry=inquiry, author=actor, kind=InquiryMessage.Kind.ANSWER, body=answer
        )
        _event(events.EventKind.INQUIRY_QUESTION_ANSWERED, inquiry, actor)
    return inquiry


def _close(inquiry: Inquiry, *, to: str, actor, reason: str, **payload) -> None:
    inquiry.outcome_reason = reason
    inquiry.closed_at = timezone.now()
    _move(inquiry, to=to, actor=actor, reason=reason, update_fields=("outcome_reason", "closed_at"))
    _event(events.EventKind(f"inquiry.{to}"), inquiry, actor, reason=reason, **payload)


def inquiry_reject(*, actor, inquiry: Inquiry, reason: str) -> Inquiry:
    """Decline with a reason the buyer sees."""
    roles_of(actor).require_secretariat(inquiry.network_id, _(SCREENING_REFUSAL))
    if not reason.strip():
        raise BrokerageError(_("Give the buyer the reason."), field="reason")
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry.pk)
        if inquiry.status == S.REJECTED:
            return inquiry
        if inquiry.status not in (S.SUBMITTED, S.QUESTION):
            raise InvalidTransition(_("Only an inquiry being screened can be declined."))
        _close(inquiry, to=S.REJECTED, actor=actor, reason=reason)
    return inquiry


REFERRAL_CATEGORIES = ("process", "location", "deadline", "capacity", "no_applicant", "secretariat")


def inquiry_refer(*, actor, inquiry: Inquiry, reason: str, category: str = "secretariat"):
    """Send the inquiry down the referral path (to a non-member or a partner network)."""
    roles_of(actor).require_secretariat(inquiry.network_id, _(SCREENING_REFUSAL))
    if category not in REFERRAL_CATEGORIES:
        raise BrokerageError(_("Unknown referral reason."), field="category")
    if not reason.strip():
        raise BrokerageError(_("Give the reason."), field="reason")
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry.pk)
        if inquiry.status == S.REFERRAL:
            return inquiry
        _close(inquiry, to=S.REFERRAL, actor=actor, reason=reason, category=category)
    return inquiry


def inquiry_escalate(*, actor, inquiry: Inquiry, reason: str) -> Inquiry:
    """Hand a special case (branded product, unusual size or risk) to the committee."""
    roles_of(actor).require_secretariat(inquiry.network_id, _(SCREENING_REFUSAL))
    if not reason.strip():
        raise BrokerageError(_("Say why the committee must decide."), field="reason")
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry.pk)
        if inquiry.status == S.COMMITTEE:
            return inquiry
        if inquiry.status != S.SUBMITTED:
            raise InvalidTransition(_("Only an inquiry being screened can be escalated."))
        _move(inquiry, to=S.COMMITTEE, actor=actor, reason=reason)
        _event(events.EventKind.INQUIRY_ESCALATED, inquiry, actor, reason=reason)
    return inquiry


def inquiry_committee_decide(
    *,
    actor,
    inquiry: Inquiry,
    accept: bool,
    votes_for: int,
    votes_against: int,
    votes_abstained: int = 0,
    reason: str,
    deadline: datetime.datetime | None = None,
    award_mode: str | None = None,
) -> Inquiry:
    """The steering committee records its decision on an escalated inquiry: accepted, it is
    published at once; declined, the buyer gets the reason."""
    if not roles_of(actor).is_committee(inquiry.network_id):
        raise NotAllowed(_("Only the steering committee decides special cases."))
    if not reason.strip():
        raise BrokerageError(_("Give the reason for the decision."), field="reason")
    if accept and votes_for <= votes_against:
        raise BrokerageError(_("Accepting needs more votes for than against."), field="votes_for")
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry.pk)
        if inquiry.status != S.COMMITTEE:
            raise InvalidTransition(_("This inquiry is not before the committee."))
        CommitteeDecision.objects.create(
            inquiry=inquiry,
            accept=accept,
            votes_for=votes_for,
            votes_against=votes_against,
            votes_abstained=votes_abstained,
            reason=reason,
            decided_by=actor,
        )
        if accept:
            _publish(inquiry, actor=actor, deadline=deadline, award_mode=award_mode, reason=reason)
        else:
            _close(inquiry, to=S.REJECTED, actor=actor, reason=reason)
    return inquiry


def _require_reason(reason: str, message: str) -> None:
    if not (reason or "").strip():
        raise BrokerageError(message, field="reason", code=CallErrorCode.REASON_REQUIRED)


def _lock_open_window(inquiry: Inquiry) -> Inquiry:
    """Lock the inquiry and check its application window is still open."""
    inquiry = lock_one(Inquiry, inquiry.pk)
    if inquiry.status != S.OPEN:
        raise InvalidTransition(
            _("The application window of this inquiry is not open."),
            field="inquiry",
            code=CallErrorCode.WINDOW_CLOSED,
        )
    if timezone.now() >= inquiry.application_deadline:
        raise InvalidTransition(
            _("The deadline has passed: the window closes by itself."),
            field="inquiry",
            code=CallErrorCode.WINDOW_CLOSED,
        )
    return inquiry


def inquiry_extend_deadline(
    *, actor, inquiry: Inquiry, deadline: datetime.datetime, reason: str
) -> Inquiry:
    """The secretariat extends an open call's application deadline, with a reason. Never
    earlier than the current deadline (a deadline pulled in would open the sealed prices
    before the leads expected it), never once it has passed.

    Records a `DeadlineExtension` (who, when, why) and `inquiry.deadline_changed`: every
    called lead and every applicant is told."""
    if not roles_of(actor).is_secretariat(inquiry.network_id):
        raise NotAllowed(
            _("Only the network's secretariat extends a deadline."),
            code=CallErrorCode.NOT_ALLOWED,
        )
    _require_reason(reason, _("Say why the deadline is extended; the leads read it."))
    if timezone.is_naive(deadline):
        raise BrokerageError(_("Give the deadline with its time zone."), field="deadline")
    with transaction.atomic():
        inquiry = _lock_open_window(inquiry)
        previous = inquiry.application_deadline
        if deadline <= previous:
            raise BrokerageError(
                _("A published deadline can only be extended: give a time after %(current)s.")
                % {"current": timezone.localtime(previous).strftime("%Y-%m-%d %H:%M")},
                field="deadline",
                code=CallErrorCode.DEADLINE_NOT_EXTENDED,
            )
        _ensure_calls(inquiry)
        extension = DeadlineExtension.objects.create(
            inquiry=inquiry,
            previous_deadline=previous,
            new_deadline=deadline,
            reason=reason.strip(),
            extended_by=actor,
        )
        inquiry.application_deadline = deadline
        inquiry.save(update_fields=["application_deadline"])
        _event(
            events.EventKind.INQUIRY_DEADLINE_CHANGED,
            inquiry,
            actor,
            deadline=deadline.isoformat(),
            previous_deadline=previous.isoformat(),
            reason=extension.reason,
            extension_id=extension.pk,
        )
    return inquiry


def call_decline(*, actor, inquiry: Inquiry, reason: str) -> LeadCall:
    """A called lead company answers that it does not apply (辞退), with a reason the
    secretariat reads. Only while the window is open and without an active application
    (withdraw it first). The lead may still apply afterwards, until the window closes: its
    application then counts as its answer. Records `inquiry.call_declined`."""
    company_id = roles_of(actor).company_id
    if company_id is None or not _is_active_lead(inquiry.network_id, company_id):
        raise NotAllowed(
            _("Only the network's lead companies answer a call."), code=CallErrorCode.NOT_ALLOWED
        )
    _require_reason(reason, _("Say why your company does not apply."))
    with transaction.atomic():
        inquiry = _lock_open_window(inquiry)
        _ensure_calls(inquiry)
        call = LeadCall.objects.filter(inquiry=inquiry, company_id=company_id).first()
        if call is None:
            raise NotAllowed(
                _("Your company was not called to this inquiry."), code=CallErrorCode.NOT_CALLED
            )
        if call.declined_at is not None:
            return call
        if Application.objects.filter(
            inquiry=inquiry, company_id=company_id, status=ApplicationStatus.ACTIVE
        ).exists():
            raise Conflict(
                _("Your company has applied: withdraw the application to decline."),
                field="inquiry",
                code=CallErrorCode.ALREADY_APPLIED,
            )
        call.declined_at = timezone.now()
        call.declined_by = actor
        call.decline_reason = reason.strip()
        call.save(update_fields=["declined_at", "declined_by", "decline_reason"])
        _event(events.EventKind.INQUIRY_CALL_DECLINED, inquiry, actor, company_id=company_id)
    return call


def inquiry_close_applications(*, actor, inquiry: Inquiry, reason: str) -> Inquiry:
    """The secretariat closes the window before the deadline, which is allowed only when
    every called lead company has applied or declined. See `_close_early`."""
    if not roles_of(actor).is_secretariat(inquiry.network_id):
        raise NotAllowed(
            _("Only the network's secretariat closes the applications."),
            code=CallErrorCode.NOT_ALLOWED,
        )
    _require_reason(reason, _("Say why the applications close before the deadline."))
    with transaction.atomic():
        inquiry = _lock_open_window(inquiry)
        _ensure_calls(inquiry)
        waiting = leads_not_answered(inquiry)
        if waiting:
            raise Conflict(
                _(
                    "%(n)d called lead companies have neither applied nor declined: the "
                    "window stays open until the deadline, or the steering committee decides."
                )
                % {"n": len(waiting)},
                code=CallErrorCode.NOT_ALL_LEADS_ANSWERED,
            )
        _close_early(inquiry, actor=actor, basis=EarlyClose.Basis.ALL_ANSWERED, reason=reason)
    return inquiry


def inquiry_committee_close_applications(
    *,
    actor,
    inquiry: Inquiry,
    reason: str,
    votes_for: int,
    votes_against: int,
    votes_abstained: int = 0,
) -> Inquiry:
    """The steering committee records its decision to close the window before the deadline,
    with votes and a reason, whether or not every called lead answered. See `_close_early`."""
    if not roles_of(actor).is_committee(inquiry.network_id):
        raise NotAllowed(
            _("Only the steering committee decides to close the applications early."),
            code=CallErrorCode.NOT_ALLOWED,
        )
    _require_reason(reason, _("Give the reason for the decision."))
    if votes_for <= votes_against:
        raise BrokerageError(
            _("Closing early needs more votes for than against."),
            field="votes_for",
            code=CallErrorCode.VOTES_INSUFFICIENT,
        )
    with transaction.atomic():
        inquiry = _lock_open_window(inquiry)
        _ensure_calls(inquiry)
        _close_early(
            inquiry,
            actor=actor,
            basis=EarlyClose.Basis.COMMITTEE,
            reason=reason,
            votes=(votes_for, votes_against, votes_abstained),
        )
    return inquiry


def _close_early(inquiry: Inquiry, *, actor, basis: str, reason: str, votes=None) -> None:
    """Close the (locked, open) window now. The leads' notice `inquiry.applications_closed_
    early` is written first, in this transaction; the prices are NOT opened here: the
    dispatcher opens them (`inquiry_early_close_leads_told`) in the transaction that writes
    the leads' notifications, so no price is visible before every lead has been told."""
    now = timezone.now()
    votes_for, votes_against, votes_abstained = votes or (None, None, None)
    early = EarlyClose.objects.create(
        inquiry=inquiry,
        basis=basis,
        reason=reason.strip(),
        scheduled_deadline=inquiry.application_deadline,
        votes_for=votes_for,
        votes_against=votes_against,
        votes_abstained=votes_abstained,
        closed_by=actor,
    )
    inquiry.application_deadline = now
    inquiry.save(update_fields=["application_deadline"])
    _event(
        events.EventKind.INQUIRY_APPLICATIONS_CLOSED_EARLY,
        inquiry,
        actor,
        basis=basis,
        reason=early.reason,
        early_close_id=early.pk,
        scheduled_deadline=early.scheduled_deadline.isoformat(),
    )
    active = inquiry.applications.filter(status=ApplicationStatus.ACTIVE).count()
    label = str(EarlyClose.Basis(basis).label)
    if active == 0:
        _close(
            inquiry,
            to=S.REFERRAL,
            actor=actor,
            reason=_("Applications closed early (%(basis)s); no lead company applied.")
            % {"basis": label},
            category="no_applicant",
        )
        return
    _move(
        inquiry,
        to=S.EVALUATION,
        actor=actor,
        reason=_("Applications closed early: %(basis)s") % {"basis": label},
    )
    _event(events.EventKind.INQUIRY_WINDOW_CLOSED, inquiry, actor, applications=active)


def inquiry_early_close_leads_told(*, inquiry_id: int) -> Inquiry:
    """Called by the dispatcher in the transaction that writes the leads' notifications of
    an early close: marks them told and, unless the committee opens the applications
    together, opens the prices and proposes the award as the deadline job would. Safe to run
    twice."""
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry_id)
        early = EarlyClose.objects.filter(inquiry=inquiry).first()
        if early is None:
            return inquiry
        if early.leads_told_at is None:
            early.leads_told_at = timezone.now()
            early.save(update_fields=["leads_told_at"])
        if (
            inquiry.status == S.EVALUATION
            and inquiry.applications_opened_at is None
            and not inquiry.network.applications_opened_by_committee
        ):
            inquiry.applications_opened_at = timezone.now()
            inquiry.save(update_fields=["applications_opened_at"])
            _propose(inquiry)
    return inquiry


def inquiry_withdraw(*, actor, inquiry: Inquiry, reason: str = "") -> Inquiry:
    """The buyer withdraws its inquiry before the award."""
    if not _is_buyer_of(actor, inquiry):
        raise NotAllowed(_("Only the buyer withdraws its inquiry."))
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry.pk)
        if inquiry.status == S.WITHDRAWN:
            return inquiry
        _close(inquiry, to=S.WITHDRAWN, actor=actor, reason=reason or _("Withdrawn by the buyer"))
    return inquiry


# ---------------------------------------------------------------------------------------
# Process chains across networks


def inquiry_split(*, actor, inquiry: Inquiry, stages: list[tuple[Network, list]]) -> Inquiry:
    """Split an inquiry that needs several processes in order into linked stages, each an
    inquiry of its own in the network that does those processes (this network or one of its
    partner networks), with the same buyer and specification. The secretariat of each
    stage's network screens it as usual; the parent is awarded when every stage is.

    `stages` is [(network, [process, ...]), ...] in working order; together they must cover
    the inquiry's processes, each exactly once. Records `inquiry.staged` and, per stage,
    `inquiry.submitted` in the stage's network.
    """
    roles_of(actor).require_secretariat(inquiry.network_id, _(SCREENING_REFUSAL))
    if len(stages) < 2:
        raise BrokerageError(_("A chain has at least two stages."), field="stages")
    wanted = {p.pk for p in inquiry.processes.all()}
    seen: list[int] = []
    partner_ids = set(inquiry.network.partners.values_list("pk", flat=True))
    for network, processes in stages:
        if network.pk != inquiry.network_id and network.pk not in partner_ids:
            raise BrokerageError(
                _("A stage goes to this network or one of its partner networks."),
                field="stages",
            )
        if not processes:
            raise BrokerageError(_("Every stage needs its processes."), field="stages")
        seen.extend(p.pk for p in processes)
    if sorted(seen) != sorted(wanted):
        raise BrokerageError(
            _("The stages must cover the inquiry's processes, each exactly once."),
            field="stages",
        )
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry.pk)
        if inquiry.status == S.STAGED:
            return inquiry
        if inquiry.status != S.SUBMITTED:
            raise InvalidTransition(_("Only an inquiry being screened can be split."))
        total = len(stages)
        for sequence, (network, processes) in enumerate(stages, start=1):
            # The stage asks for the same part; the buyer's budget was for the whole chain.
            spec = {
                name: getattr(inquiry, name)
                for name in INQUIRY_SPEC_FIELDS
                if name not in ("processes", "title", "budget_yen")
            }
            child = Inquiry.objects.create(
                network=network,
                reference=_next_reference(network, timezone.localdate().year),
                buyer=inquiry.buyer,
                entered_by=actor,
                title=f"[{sequence}/{total}] {inquiry.title}"[:200],
                required_ra_um=inquiry.required_ra_um,
                **spec,
            )
            child.processes.set(processes)
            stage = InquiryStage.objects.create(
                parent=inquiry, sequence=sequence, network=network, inquiry=child
            )
            stage.processes.set(processes)
            record_creation(child, actor=actor, reason=inquiry.reference)
            events.record(
                kind=events.EventKind.INQUIRY_SUBMITTED,
                subject=child,
                actor=actor,
                network_id=network.pk,
                parent=inquiry.pk,
            )
        _move(inquiry, to=S.STAGED, actor=actor, reason=_("Split into %(n)d stages") % {"n": total})
        _event(events.EventKind.INQUIRY_STAGED, inquiry, actor, stages=total)
    return inquiry


def inquiry_chain_progress(*, inquiry_id: int) -> Inquiry:
    """Called when a stage reaches an outcome: the parent is awarded once every stage is.
    A stage that ends otherwise leaves the parent staged for its secretariat to act.
    Safe to run twice."""
    with transaction.atomic():
        parent = lock_one(Inquiry, inquiry_id)
        if parent.status != S.STAGED:
            return parent
        statuses = list(parent.stages.values_list("inquiry__status", flat=True))
        if statuses and all(status == S.AWARDED for status in statuses):
            parent.closed_at = timezone.now()
            _move(
                parent,
                to=S.AWARDED,
                actor=None,
                reason=_("Every stage has a lead company"),
                update_fields=("closed_at",),
            )
            _event(events.EventKind.INQUIRY_CHAIN_AWARDED, parent, None)
    return parent


# ---------------------------------------------------------------------------------------
# Sealed applications


def _window_open(inquiry: Inquiry) -> bool:
    return inquiry.status == S.OPEN and timezone.now() < inquiry.application_deadline


def _check_team(network_id: int, team: list[Company]) -> None:
    if not team:
        return
    eligible = set(
        Membership.objects.filter(
            network_id=network_id,
            company__in=team,
            status=MembershipStatus.ACTIVE,
            membership_class__in=(MembershipClass.JOINT_ORDER, MembershipClass.LEAD),
        ).values_list("company_id", flat=True)
    )
    if any(c.pk not in eligible for c in team):
        raise BrokerageError(
            _("Only joint-order members of the network can be on a project team."),
            field="proposed_team",
        )


def _check_offer(price_yen: int, lead_time_days: int) -> None:
    if price_yen is None or price_yen < 1:
        raise BrokerageError(_("Give a price in whole yen."), field="price_yen")
    if lead_time_days is None or lead_time_days < 1:
        raise BrokerageError(_("Give the lead time in days."), field="lead_time_days")


def _is_active_lead(network_id: int, company_id: int) -> bool:
    return Membership.objects.filter(
        network_id=network_id,
        company_id=company_id,
        membership_class=MembershipClass.LEAD,
        status=MembershipStatus.ACTIVE,
    ).exists()


def application_place(
    *,
    actor,
    inquiry: Inquiry,
    price_yen: int,
    lead_time_days: int,
    proposed_team: list[Company] | None = None,
    notes: str = "",
) -> Application:
    """A lead company applies to an open inquiry with a sealed offer."""
    roles = roles_of(actor)
    company_id = roles.company_id
    is_lead = (
        company_id is not None
        and Membership.objects.filter(
            network_id=inquiry.network_id,
            company_id=company_id,
            membership_class=MembershipClass.LEAD,
            status=MembershipStatus.ACTIVE,
        ).exists()
    )
    if not is_lead:
        raise NotAllowed(_("Only the network's lead companies apply."))
    _check_offer(price_yen, lead_time_days)
    team = list(proposed_team or [])
    _check_team(inquiry.network_id, team)
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry.pk)
        if not _window_open(inquiry):
            raise InvalidTransition(_("The application window is closed."), field="inquiry")
        if Application.objects.filter(
            inquiry=inquiry, company_id=company_id, status=ApplicationStatus.ACTIVE
        ).exists():
            raise Conflict(
                _("Your company has already applied; revise that application instead."),
                field="inquiry",
            )
        application = Application.objects.create(
            inquiry=inquiry,
            company_id=company_id,
            submitted_by=actor,
            price_yen=price_yen,
            lead_time_days=lead_time_days,
            notes=notes,
        )
        application.proposed_team.set(team)
        # No price in the event: it must stay sealed, notifications included.
        _event(events.EventKind.APPLICATION_PLACED, inquiry, actor, company_id=company_id)
    return application


def _own_application(actor, application: Application) -> None:
    if not roles_of(actor).acts_for(application.company_id):
        raise NotAllowed(_("This is another company's application."))


def application_revise(
    *,
    actor,
    application: Application,
    price_yen: int | None = None,
    lead_time_days: int | None = None,
    proposed_team: list[Company] | None = None,
    notes: str | None = None,
) -> Application:
    """Change one's own application until the deadline."""
    _own_application(actor, application)
    with transaction.atomic():
        inquiry = lock_one(Inquiry, application.inquiry_id)
        application = lock_one(Application, application.pk)
        if not _window_open(inquiry):
            raise InvalidTransition(_("The application window is closed."), field="inquiry")
        if application.status != ApplicationStatus.ACTIVE:
            raise InvalidTransition(_("This application was withdrawn."))
        if price_yen is not None:
            application.price_yen = price_yen
        if lead_time_days is not None:
            application.lead_time_days = lead_time_days
        if notes is not None:
            application.notes = notes
        _check_offer(application.price_yen, application.lead_time_days)
        if proposed_team is not None:
            _check_team(inquiry.network_id, proposed_team)
            application.proposed_team.set(proposed_team)
        application.revision += 1
        application.save()
    return application


def application_withdraw(*, actor, application: Application) -> Application:
    """Withdraw one's own application until the deadline."""
    _own_application(actor, application)
    with transaction.atomic():
        inquiry = lock_one(Inquiry, application.inquiry_id)
        application = lock_one(Application, application.pk)
        if application.status == ApplicationStatus.WITHDRAWN:
            return application
        if not _window_open(inquiry):
            raise InvalidTransition(_("The application window is closed."), field="inquiry")
        transition(
            application,
            to=ApplicationStatus.WITHDRAWN,
            allowed=Application.TRANSITIONS,
            actor=actor,
            update_fields=("updated_at",),
        )
    return application


# ---------------------------------------------------------------------------------------
# Closing the window and the award


def _rank(inquiry: Inquiry) -> list[dict]:
    network = inquiry.network
    applications = list(
        inquiry.applications.filter(status=ApplicationStatus.ACTIVE)
        .select_related("company")
        .order_by("created_at", "id")
    )
    year_ago = timezone.now() - datetime.timedelta(days=365)
    awards = dict(
        Award.objects.filter(
            company__in=[a.company_id for a in applications],
            status=AwardStatus.CONFIRMED,
            confirmed_at__gte=year_ago,
            inquiry__network=network,
        )
        .values("company")
        .annotate(n=Count("id"))
        .values_list("company", "n")
    )
    offers = [
        Offer(
            application_id=a.pk,
            company_id=a.company_id,
            company_name=a.company.legal_name,
            price_yen=a.price_yen,
            lead_time_days=a.lead_time_days,
            awards_past_year=awards.get(a.company_id, 0),
            submitted_order=n,
        )
        for n, a in enumerate(applications)
    ]
    weights = Weights(
        price=network.weight_price,
        lead_time=network.weight_lead_time,
        track_record=network.weight_track_record,
        fairness=network.weight_fairness,
    )
    return rank_offers(offers, rule=network.bid_rule, weights=weights)


def _propose(inquiry: Inquiry) -> Award | None:
    """With prices open: the sole applicant, or the best bid, is proposed for the award.
    Coordination waits for the secretariat's choice."""
    ranking = _rank(inquiry)
    if not ranking:
        return None
    if len(ranking) > 1 and inquiry.award_mode == AwardMode.COORDINATION:
        return None
    best = ranking[0]
    mode = inquiry.award_mode if len(ranking) > 1 else inquiry.award_mode or AwardMode.BID
    award, _created = Award.objects.get_or_create(
        inquiry=inquiry,
        defaults={
            "application_id": best["application_id"],
            "company_id": best["company_id"],
            "mode": mode,
            "score_breakdown": ranking,
            "reason": _("Sole applicant") if len(ranking) == 1 else _("Best bid"),
        },
    )
    _event(events.EventKind.AWARD_PROPOSED, inquiry, None, company_id=award.company_id)
    return award


def inquiry_close_window(*, inquiry_id: int, now: datetime.datetime | None = None) -> Inquiry:
    """At the deadline (scheduled job): no applicant → referral path; otherwise evaluation,
    prices opened (unless the committee opens them together) and an award proposed where
    the rule decides. Safe to run twice."""
    now = now or timezone.now()
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry_id)
        if inquiry.status != S.OPEN or inquiry.application_deadline > now:
            return inquiry
        active = inquiry.applications.filter(status=ApplicationStatus.ACTIVE).count()
        if active == 0:
            _close(
                inquiry,
                to=S.REFERRAL,
                actor=None,
                reason=_("No lead company applied by the deadline."),
                category="no_applicant",
            )
            return inquiry
        _move(inquiry, to=S.EVALUATION, actor=None, reason=_("Application deadline passed"))
        _event(events.EventKind.INQUIRY_WINDOW_CLOSED, inquiry, None, applications=active)
        if not inquiry.network.applications_opened_by_committee:
            inquiry.applications_opened_at = now
            inquiry.save(update_fields=["applications_opened_at"])
            _propose(inquiry)
    return inquiry


def inquiries_close_due(*, now: datetime.datetime | None = None) -> int:
    """Close every open inquiry whose deadline has passed. Returns how many were closed."""
    now = now or timezone.now()
    due = list(
        Inquiry.objects.filter(status=S.OPEN, application_deadline__lte=now).values_list(
            "pk", flat=True
        )
    )
    for pk in due:
        inquiry_close_window(inquiry_id=pk, now=now)
    return len(due)


def inquiry_open_applications(*, actor, inquiry: Inquiry) -> Inquiry:
    """The committee opens the sealed applications together, after the deadline."""
    if not roles_of(actor).is_committee(inquiry.network_id):
        raise NotAllowed(_("Only the steering committee opens the applications."))
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry.pk)
        if inquiry.status != S.EVALUATION:
            raise InvalidTransition(_("Applications are opened after the deadline."))
        if inquiry.applications_opened_at is not None:
            return inquiry
        if EarlyClose.objects.filter(inquiry=inquiry, leads_told_at__isnull=True).exists():
            raise Conflict(
                _("The lead companies are being told of the early close; open them after."),
                code=CallErrorCode.LEADS_NOT_YET_TOLD,
            )
        inquiry.applications_opened_at = timezone.now()
        inquiry.save(update_fields=["applications_opened_at"])
        _event(events.EventKind.INQUIRY_APPLICATIONS_OPENED, inquiry, actor)
        _propose(inquiry)
    return inquiry


def award_choose(*, actor, inquiry: Inquiry, application: Application, reason: str) -> Award:
    """By coordination (調整): the secretariat picks an application with a written reason.
    Also overrides a proposal before it is confirmed."""
    roles_of(actor).require_secretariat(inquiry.network_id, _(SCREENING_REFUSAL))
    if not reason.strip():
        raise BrokerageError(_("Write the reason for this choice."), field="reason")
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry.pk)
        if inquiry.status != S.EVALUATION or inquiry.applications_opened_at is None:
            raise InvalidTransition(_("The lead is chosen after the applications are opened."))
        if application.inquiry_id != inquiry.pk or application.status != ApplicationStatus.ACTIVE:
            raise BrokerageError(_("Choose an application to this inquiry."), field="application")
        award = Award.objects.filter(inquiry=inquiry).first()
        if award is not None and award.status == AwardStatus.CONFIRMED:
            raise Conflict(_("The award is already confirmed."))
        ranking = _rank(inquiry)
        values = {
            "application": application,
            "company_id": application.company_id,
            "mode": AwardMode.COORDINATION,
            "score_breakdown": ranking,
            "reason": reason,
            "proposed_by": actor,
        }
        if award is None:
            award = Award.objects.create(inquiry=inquiry, **values)
        else:
            for key, value in values.items():
                setattr(award, key, value)
            award.save()
        _event(events.EventKind.AWARD_PROPOSED, inquiry, actor, company_id=award.company_id)
    return award


def award_confirm(*, actor, inquiry: Inquiry) -> Award:
    """The secretariat confirms the proposed award: the inquiry is awarded, the buyer sees
    the chosen lead and its offer, the losing leads are told. Two confirmations cannot both
    win: the inquiry row is locked and the award is one row per inquiry."""
    roles_of(actor).require_secretariat(inquiry.network_id, _(SCREENING_REFUSAL))
    with transaction.atomic():
        inquiry = lock_one(Inquiry, inquiry.pk)
        award = Award.objects.select_for_update(of=("self",)).filter(inquiry=inquiry).first()
        if award is None:
            raise InvalidTransition(_("There is no proposed award to confirm."))
        if award.status == AwardStatus.CONFIRMED:
            raise Conflict(_("The award is already confirmed."))
        award.confirmed_by = actor
        award.confirmed_at = timezone.now()
        transition(
            award,
            to=AwardStatus.CONFIRMED,
            allowed=Award.TRANSITIONS,
            actor=actor,
            reason=award.reason,
            update_fields=("confirmed_by", "confirmed_at"),
        )
        inquiry.closed_at = award.confirmed_at
        _move(
            inquiry,
            to=S.AWARDED,
            actor=actor,
            reason=award.reason,
            update_fields=("closed_at",),
        )
        _event(events.EventKind.AWARD_CONFIRMED, inquiry, actor, company_id=award.company_id)
    return award


def prices_visible(inquiry: Inquiry) -> bool:
    """Prices are sealed until opened: for everyone but the applicant itself."""
    return inquiry.applications_opened_at is not None
