"""The lead company's project: opening it, work packages, team invitations and the contracts
that gate the start of work. One transaction per service; who may act is checked here."""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.template import Context, Template
from django.utils import timezone
from django.utils.translation import gettext as _

from core import events
from core.errors import BrokerageError, Conflict, InvalidTransition, NotAllowed
from core.transitions import transition, transition_many
from members.locks import lock_one
from members.models import (
    Capability,
    Company,
    Membership,
    MembershipClass,
    MembershipStatus,
)
from members.permissions import roles_of

from .models import (
    Agreement,
    AgreementKind,
    AwardStatus,
    ContractTemplate,
    Inquiry,
    InquiryStatus,
    Invitation,
    InvitationStatus,
    PackageStatus,
    Project,
    ProjectStatus,
    WorkPackage,
)

# The standard texts used until a network's secretariat writes its own (ContractTemplate).
DEFAULT_TEMPLATES = {
    AgreementKind.BASIC: (
        "基本合意書\n\n"
        "受注幹事企業 {{ lead }}（以下「甲」）と共同受注部会員 {{ member }}（以下「乙」）は、"
        "引き合い {{ reference }}「{{ title }}」について、次のとおり合意する。\n\n"
        "第1条（作業）乙は次の作業を行い、期日までに甲へ納入する。\n"
        "{% for p in packages %}- {{ p.process }} / {{ p.material }}：{{ p.quantity }} 個、"
        "単価 {{ p.unit_price_yen }} 円（税抜）、納期 {{ p.due_date|date:'Y-m-d' }}\n{% endfor %}"
        "第2条（支払）甲は、{{ payment_terms }} に乙へ支払う。\n"
        "第3条（品質・納期）乙は自らの不良および納期遅延について甲に対して責任を負う。"
        "甲の検品で不合格となった数量は、再作業または乙の負担とする。\n"
        "第4条（損害）乙の責による損害は、当該作業の代金を上限として乙が負担する。\n"
    ),
    AgreementKind.NDA: (
        "秘密保持契約書\n\n"
        "{{ lead }} と {{ member }} は、引き合い {{ reference }} に関して知り得た発注者の"
        "図面、仕様その他一切の情報を、本件の作業以外に使用せず、第三者に開示しない。"
        "本契約は本件の完了後も3年間有効とする。\n"
    ),
}
# The names a template may use.
AGREEMENT_CONTEXT = ("lead", "member", "reference", "title", "packages", "payment_terms")


def require_lead(actor, project: Project) -> None:
    """Only the project's lead company acts here (team, contracts and execution alike)."""
    if not roles_of(actor).acts_for(project.lead_id):
        raise NotAllowed(_("Only the lead company of this project may do this."))


def payment_terms_text(project: Project) -> str:
    def day(n: int) -> str:
        return _("month end") if n >= 31 else _("day %(n)d") % {"n": n}

    return _("close on the %(close)s, pay %(months)d month(s) later on the %(pay)s") % {
        "close": day(project.payment_closing_day),
        "months": project.payment_month_offset,
        "pay": day(project.payment_day),
    }


def project_open(
    *,
    actor,
    inquiry: Inquiry,
    order_value_yen: int,
    delivery_date: datetime.date,
    payment_closing_day: int = 31,
    payment_month_offset: int = 1,
    payment_day: int = 31,
    share_buyer_identity: bool = False,
    share_order_value: bool = False,
    invitation_hours: int = 72,
) -> Project:
    """The awarded lead opens the project from its award, with what it agreed with the buyer.
    Records `project.opened`."""
    award = getattr(inquiry, "award", None)
    if award is None or award.status != AwardStatus.CONFIRMED:
        raise InvalidTransition(_("A project is opened from a confirmed award."))
    if not roles_of(actor).acts_for(award.company_id):
        raise NotAllowed(_("Only the awarded lead company opens the project."))
    if order_value_yen is None or order_value_yen < 1:
        raise BrokerageError(_("Give the order value in whole yen."), field="order_value_yen")
    if delivery_date <= timezone.localdate():
        raise BrokerageError(_("The delivery date must be in the future."), field="delivery_date")
    for field, value, low, high in (
        ("payment_closing_day", payment_closing_day, 1, 31),
        ("payment_day", payment_day, 1, 31),
        ("payment_month_offset", payment_month_offset, 0, 6),
        ("invitation_hours", invitation_hours, 1, 24 * 14),
    ):
        if not low <= value <= high:
            raise BrokerageError(
                _("Must be between %(low)d and %(high)d.") % {"low": low, "high": high},
                field=field,
            )
    try:
        with transaction.atomic():
            inquiry = lock_one(Inquiry, inquiry.pk)
            if inquiry.status != InquiryStatus.AWARDED:
                raise InvalidTransition(_("A project is opened from an awarded inquiry."))
            project = Project.objects.create(
                inquiry=inquiry,
                network_id=inquiry.network_id,
                lead_id=award.company_id,
                order_value_yen=order_value_yen,
                delivery_date=delivery_date,
                payment_closing_day=payment_closing_day,
                payment_month_offset=payment_month_offset,
                payment_day=payment_day,
                share_buyer_identity=share_buyer_identity,
                share_order_value=share_order_value,
                invitation_hours=invitation_hours,
                opened_by=actor,
            )
            events.record(
                kind=events.EventKind.PROJECT_OPENED,
                subject=project,
                actor=actor,
                network_id=project.network_id,
            )
    except IntegrityError as exc:
        raise Conflict(_("This inquiry already has a project."), field="inquiry") from exc
    return project


def package_add(
    *,
    actor,
    project: Project,
    process,
    material,
    quantity: int,
    unit_price_yen: int,
    due_date: datetime.date,
    packaging: str = "",
    inspection_criteria: str = "",
) -> WorkPackage:
    """The lead cuts the work into a package: a process step with quantity, unit price and
    the due date to the lead."""
    require_lead(actor, project)
    if quantity is None or quantity < 1:
        raise BrokerageError(_("The quantity must be at least 1."), field="quantity")
    if unit_price_yen is None or unit_price_yen < 1:
        raise BrokerageError(_("The unit price must be at least 1 yen."), field="unit_price_yen")
    if due_date <= timezone.localdate():
        raise BrokerageError(_("The due date must be in the future."), field="due_date")
    if due_date > project.delivery_date:
        raise BrokerageError(
            _("A package is due to the lead before the project's delivery date."),
            field="due_date",
        )
    with transaction.atomic():
        project = lock_one(Project, project.pk)
        if project.status not in (ProjectStatus.FORMING, ProjectStatus.IN_PROGRESS):
            raise InvalidTransition(_("Packages are added while the project runs."))
        return WorkPackage.objects.create(
            project=project,
            process=process,
            material=material,
            quantity=quantity,
            unit_price_yen=unit_price_yen,
            due_date=due_date,
            packaging=packaging,
            inspection_criteria=inspection_criteria,
        )


def _team_membership(project: Project, company_id: int) -> str | None:
    """The company's class if it may be on the team: only joint-order members (and leads,
    who are joint-order members too) of the project's network."""
    return (
        Membership.objects.filter(
            network_id=project.network_id,
            company_id=company_id,
            status=MembershipStatus.ACTIVE,
            membership_class__in=(MembershipClass.JOINT_ORDER, MembershipClass.LEAD),
        )
        .values_list("membership_class", flat=True)
        .first()
    )


def capacity_left(*, company_id: int, package: WorkPackage) -> int | None:
    """The member's stated monthly spare capacity for the package's process and material,
    minus what its other running packages due in the same month already take. None: it
    states no capacity for this work."""
    stated = (
        Capability.objects.filter(
            company_id=company_id, process=package.process, material=package.material
        )
        .values_list("spare_capacity_per_month", flat=True)
        .first()
    )
    if stated is None:
        return None
    taken = (
        WorkPackage.objects.filter(
            member_id=company_id,
            process=package.process,
            material=package.material,
            due_date__year=package.due_date.year,
            due_date__month=package.due_date.month,
        )
        .exclude(pk=package.pk)
        .aggregate(total=Sum("quantity"))["total"]
        or 0
    )
    return stated - taken


def invitation_send(*, actor, package: WorkPackage, company: Company) -> tuple[Invitation, list]:
    """Invite a joint-order member to take a package. Returns the invitation and warnings
    (the member's capacity is already taken, or it states none for this work)."""
    project = package.project
    require_lead(actor, project)
    # A member on probation (members.Probation, opened by brokerage's daily review) takes
    # only packages up to the limit it was told.
    probation = (
        Membership.objects.filter(
            network_id=project.network_id,
            company_id=company.pk,
            probations__isnull=False,
            probations__lifted_at__isnull=True,
        )
        .values("probations__max_package_value_yen", "probations__reason")
        .first()
    )
    if probation and package.amount_yen > probation["probations__max_package_value_yen"]:
        raise BrokerageError(
            _(
                "This member is on probation: it can be invited only to packages worth up to "
                "¥%(max)s, and this one is worth ¥%(value)s. Why: %(reason)s"
            )
            % {
                "max": f"{probation['probations__max_package_value_yen']:,}",
                "value": f"{package.amount_yen:,}",
                "reason": probation["probations__reason"],
            },
            field="company",
        )
    if company.pk == project.lead_id:
        raise BrokerageError(
            _("The lead does a package itself with 'do it ourselves', not an invitation."),
            field="company",
        )
    if _team_membership(project, company.pk) is None:
        raise BrokerageError(
            _("Only joint-order members of the network can be on a project team."),
            field="company",
        )
    warnings = []
    left = capacity_left(company_id=company.pk, package=package)
    if left is None:
        warnings.append(_("This member states no capacity for this process and material."))
    elif left < package.quantity:
        warnings.append(
            _(
                "This member's spare capacity that month is %(left)d pieces; "
                "the package needs %(q)d."
            )
            % {"left": max(left, 0), "q": package.quantity}
        )
    try:
        with transaction.atomic():
            package = lock_one(WorkPackage, package.pk)
            if package.status != PackageStatus.OPEN:
                raise InvalidTransition(_("This package already has its member."))
            invitation = Invitation.objects.create(
                package=package,
                company=company,
                invited_by=actor,
                expires_at=timezone.now() + datetime.timedelta(hours=project.invitation_hours),
            )
            events.record(
                kind=events.EventKind.INVITATION_SENT,
                subject=invitation,
                actor=actor,
                network_id=project.network_id,
                company_id=company.pk,
            )
    except IntegrityError as exc:
        raise Conflict(
            _("This member is already invited to this package."), field="company"
        ) from exc
    return invitation, warnings


def _render_agreement(project: Project, member: Company, kind: str) -> str:
    template = (
        ContractTemplate.objects.filter(network_id=project.network_id, kind=kind)
        .values_list("body", flat=True)
        .first()
    ) or DEFAULT_TEMPLATES[kind]
    packages = project.packages.filter(member=member).select_related("process", "material")
    context = {
        "lead": project.lead.legal_name,
        "member": member.legal_name,
        "reference": project.inquiry.reference,
        "title": project.inquiry.title,
        "packages": [
            {
                "process": p.process.name_ja,
                "material": p.material.name_ja,
                "quantity": p.quantity,
                "unit_price_yen": f"{p.unit_price_yen:,}",
                "due_date": p.due_date,
            }
            for p in packages
        ],
        "payment_terms": payment_terms_text(project),
    }
    return Template(template).render(Context(context, autoescape=False))


def _ensure_agreements(project: Project, member: Company) -> None:
    kinds = [AgreementKind.BASIC] + ([AgreementKind.NDA] if project.inquiry.nda_required else [])
    for kind in kinds:
        agreement = Agreement.objects.filter(project=project, member=member, kind=kind).first()
        body = _render_agreement(project, member, kind)
        if agreement is None:
            Agreement.objects.create(project=project, member=member, kind=kind, body=body)
        elif agreement.body != body:
            # A further package changes the terms: both sides accept the new text again.
            # An earlier acceptance stays on record in the event log.
            if agreement.lead_accepted_at or agreement.member_accepted_at:
                events.record(
                    kind=events.EventKind.AGREEMENT_REISSUED,
                    subject=agreement,
                    network_id=project.network_id,
                    lead_accepted_at=str(agreement.lead_accepted_at or ""),
                    lead_accepted_by=agreement.lead_accepted_by_id,
                    member_accepted_at=str(agreement.member_accepted_at or ""),
                    member_accepted_by=agreement.member_accepted_by_id,
                    previous_body=agreement.body,
                )
            agreement.body = body
            agreement.lead_accepted_at = agreement.member_accepted_at = None
            agreement.lead_accepted_by = agreement.member_accepted_by = None
            agreement.save()


def invitation_respond(
    *, actor, invitation: Invitation, accept: bool, reason: str = ""
) -> Invitation:
    """The invited member accepts or declines (with a reason). The first acceptance takes the
    package; the other open invitations for it are withdrawn. Accepting prepares the basic
    agreement (and NDA) that both sides accept before work starts."""
    if not roles_of(actor).acts_for(invitation.company_id):
        raise NotAllowed(_("This invitation is for another company."))
    if not accept and not reason.strip():
        raise BrokerageError(_("Say why you decline."), field="reason")
    with transaction.atomic():
        package = lock_one(WorkPackage, invitation.package_id)
        invitation = lock_one(Invitation, invitation.pk)
        if invitation.status != InvitationStatus.INVITED:
            raise InvalidTransition(_("This invitation is no longer open."))
        now = timezone.now()
        if invitation.expires_at <= now:
            raise InvalidTransition(_("This invitation has expired."))
        invitation.responded_at = now
        invitation.responded_by = actor
        invitation.reason = reason
        if not accept:
            _answer(invitation, InvitationStatus.DECLINED, actor, reason)
            events.record(
                kind=events.EventKind.INVITATION_DECLINED,
                subject=invitation,
                actor=actor,
                network_id=package.project.network_id,
            )
            return invitation
        if package.status != PackageStatus.OPEN:
            raise Conflict(_("Another member has already taken this package."))
        _answer(invitation, InvitationStatus.ACCEPTED, actor, reason)
        package.member_id = invitation.company_id
        transition(
            package,
            to=PackageStatus.AWAITING_AGREEMENT,
            allowed=WorkPackage.TRANSITIONS,
            actor=actor,
            update_fields=("member",),
        )
        _withdraw_open_invitations(package, actor, now)
        _ensure_agreements(package.project, invitation.company)
        events.record(
            kind=events.EventKind.INVITATION_ACCEPTED,
            subject=invitation,
            actor=actor,
            network_id=package.project.network_id,
        )
    return invitation


def _answer(invitation: Invitation, to: str, actor, reason: str) -> None:
    """Move a locked invitation to its answer (responded_at/by and reason set by the caller)."""
    transition(
        invitation,
        to=to,
        allowed=Invitation.TRANSITIONS,
        actor=actor,
        reason=reason,
        update_fields=("responded_at", "responded_by", "reason"),
    )


def _withdraw_open_invitations(package: WorkPackage, actor, now: datetime.datetime) -> None:
    """The package has its member: the other open invitations for it are withdrawn (each
    row's change recorded, one UPDATE)."""
    transition_many(
        package.invitations.filter(status=InvitationStatus.INVITED),
        to=InvitationStatus.WITHDRAWN,
        allowed=Invitation.TRANSITIONS,
        actor=actor,
        changes={"responded_at": now},
    )


def invitation_withdraw(*, actor, invitation: Invitation, reason: str) -> Invitation:
    """The lead takes back an invitation not yet answered (the wrong member, a changed plan),
    with a reason the member is told. Records `invitation.cancelled`."""
    package = invitation.package
    require_lead(actor, package.project)
    if not (reason or "").strip():
        raise BrokerageError(_("Say why the invitation is withdrawn."), field="reason")
    with transaction.atomic():
        invitation = lock_one(Invitation, invitation.pk)
        if invitation.status != InvitationStatus.INVITED:
            raise InvalidTransition(_("This invitation is no longer open."))
        _cancel_invitation(invitation, actor, reason.strip(), package.project.network_id)
    return invitation


def _cancel_invitation(invitation: Invitation, actor, reason: str, network_id: int) -> None:
    """Mark an open invitation (locked by the caller) taken back by the lead, and tell the
    member through `invitation.cancelled`."""
    invitation.responded_at, invitation.responded_by = timezone.now(), actor
    invitation.reason = reason
    _answer(invitation, InvitationStatus.CANCELLED, actor, reason)
    events.record(
        kind=events.EventKind.INVITATION_CANCELLED,
        subject=invitation,
        actor=actor,
        network_id=network_id,
        company_id=invitation.company_id,
    )


def package_cancel(*, actor, package: WorkPackage, reason: str) -> WorkPackage:
    """The lead cancels a package no member has taken yet (added by mistake, the plan
    changed), with a reason. Its open invitations are withdrawn and the members told.
    A package with its member is the member's agreed work: it is not cancelled here.
    Records `package.cancelled` (and `invitation.cancelled` for each open invitation)."""
    require_lead(actor, package.project)
    reason = (reason or "").strip()
    if not reason:
        raise BrokerageError(_("Say why the package is cancelled."), field="reason")
    with transaction.atomic():
        package = lock_one(WorkPackage, package.pk)
        if package.status != PackageStatus.OPEN:
            raise InvalidTransition(
                _("Only a package no member has taken yet can be cancelled."), field="status"
            )
        package.cancel_reason = reason
        transition(
            package,
            to=PackageStatus.CANCELLED,
            allowed=WorkPackage.TRANSITIONS,
            actor=actor,
            reason=reason,
            update_fields=("cancel_reason",),
        )
        network_id = package.project.network_id
        for invitation in package.invitations.select_for_update().filter(
            status=InvitationStatus.INVITED
        ):
            _cancel_invitation(invitation, actor, reason, network_id)
        events.record(
            kind=events.EventKind.PACKAGE_CANCELLED,
            subject=package,
            actor=actor,
            network_id=network_id,
        )
    return package


def invitations_expire_due(*, now: datetime.datetime | None = None) -> int:
    """Invitations not answered in time expire (scheduled job); the lead is told so it can
    invite the next member. Returns how many expired."""
    now = now or timezone.now()
    expired = 0
    for pk in Invitation.objects.filter(status=InvitationStatus.INVITED, expires_at__lte=now)[
        :500
    ].values_list("pk", flat=True):
        with transaction.atomic():
            invitation = lock_one(Invitation, pk)
            if invitation.status != InvitationStatus.INVITED:
                continue
            transition(
                invitation,
                to=InvitationStatus.EXPIRED,
                allowed=Invitation.TRANSITIONS,
                actor_label=_("system (scheduled job)"),
            )
            events.record(
                kind=events.EventKind.INVITATION_EXPIRED,
                subject=invitation,
                network_id=invitation.package.project.network_id,
            )
            expired += 1
    return expired


def package_self_perform(*, actor, package: WorkPackage) -> WorkPackage:
    """The lead does a package itself: no invitation and no agreement with itself."""
    require_lead(actor, package.project)
    with transaction.atomic():
        package = lock_one(WorkPackage, package.pk)
        if package.status != PackageStatus.OPEN:
            raise InvalidTransition(_("This package already has its member."))
        package.member_id = package.project.lead_id
        package.self_performed = True
        transition(
            package,
            to=PackageStatus.READY,
            allowed=WorkPackage.TRANSITIONS,
            actor=actor,
            update_fields=("member", "self_performed"),
        )
        _withdraw_open_invitations(package, actor, timezone.now())
    return package


def agreement_accept(*, actor, agreement: Agreement) -> Agreement:
    """One party accepts the agreement electronically (time and user recorded). When every
    agreement between the lead and the member is accepted by both, the member's packages are
    ready to start."""
    roles = roles_of(actor)
    project = agreement.project
    with transaction.atomic():
        agreement = lock_one(Agreement, agreement.pk)
        now = timezone.now()
        if roles.acts_for(project.lead_id):
            if agreement.lead_accepted_at is None:
                agreement.lead_accepted_at, agreement.lead_accepted_by = now, actor
        elif roles.acts_for(agreement.member_id):
            if agreement.member_accepted_at is None:
                agreement.member_accepted_at, agreement.member_accepted_by = now, actor
        else:
            raise NotAllowed(_("Only the two parties accept an agreement."))
        agreement.save()
        pending = Agreement.objects.filter(project=project, member_id=agreement.member_id).exclude(
            lead_accepted_at__isnull=False, member_accepted_at__isnull=False
        )
        if not pending.exists():
            transition_many(
                WorkPackage.objects.filter(
                    project=project,
                    member_id=agreement.member_id,
                    status=PackageStatus.AWAITING_AGREEMENT,
                ),
                to=PackageStatus.READY,
                allowed=WorkPackage.TRANSITIONS,
                actor=actor,
            )
    return agreement


def package_start(*, actor, package: WorkPackage) -> WorkPackage:
    """The member (or the lead, for its own package) starts work — only once the agreement
    is accepted by both sides. Starting the first package puts the project in progress."""
    with transaction.atomic():
        package = lock_one(WorkPackage, package.pk)  # who took it is read from the row
        if package.member_id is None or not roles_of(actor).acts_for(package.member_id):
            raise NotAllowed(_("Only the member that took this package starts it."))
        if package.status == PackageStatus.IN_PROGRESS:
            return package
        if package.status != PackageStatus.READY:
            raise InvalidTransition(
                _("Work starts after both sides have accepted the agreement."), field="status"
            )
        if package.standards.filter(confirmed_at__isnull=True).exists():
            raise InvalidTransition(
                _("Confirm the package's work standards first."), field="standards"
            )
        transition(
            package, to=PackageStatus.IN_PROGRESS, allowed=WorkPackage.TRANSITIONS, actor=actor
        )
        # The first package started puts the project in progress.
        transition_many(
            Project.objects.filter(pk=package.project_id, status=ProjectStatus.FORMING),
            to=ProjectStatus.IN_PROGRESS,
            allowed=Project.TRANSITIONS,
            actor=actor,
        )
    return package
