"""Running the project: work standards, deliveries from members to the lead and the lead's
inspection (検品), shipments to the buyer, the buyer's acceptance (検収) and claims, charges
to the member responsible, and the late-package warnings. One transaction per service;
who may act is checked here."""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core import events
from core.errors import BrokerageError, Conflict, InvalidTransition, NotAllowed
from core.transitions import transition
from members.locks import lock_one
from members.permissions import roles_of

from . import sampling
from .models import (
    PACKAGE_OPEN_WORK,
    Claim,
    Delivery,
    Disposition,
    EvidencePhoto,
    Inspection,
    MemberCharge,
    PackageStatus,
    Project,
    ProjectStatus,
    Shipment,
    WorkPackage,
    WorkStandard,
)
from .projects import require_lead
from .uploads import check_attachment, random_name

PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif"}
MAX_PHOTOS = 10
# Days before its due date a package still owed to the lead is flagged to member and lead.
DUE_SOON_DAYS = 2
# A member delivers while working (again while an earlier lot awaits inspection), after
# rework, or the rest after a partial acceptance.
DELIVERABLE = (
    PackageStatus.IN_PROGRESS,
    PackageStatus.SHIPPED,
    PackageStatus.INSPECTED,
    PackageStatus.RETURNED,
)
RUNNING = (ProjectStatus.FORMING, ProjectStatus.IN_PROGRESS, ProjectStatus.DELIVERED)


def _require_package_member(actor, package: WorkPackage) -> None:
    if package.member_id is None or not roles_of(actor).acts_for(package.member_id):
        raise NotAllowed(_("Only the member that took this package may do this."))


def acts_for_buyer(actor, project: Project) -> bool:
    """The buyer, or the secretariat recording what a buyer without an account told it."""
    buyer = project.inquiry.buyer
    return (actor.is_authenticated and buyer.user_id == actor.pk) or roles_of(actor).is_secretariat(
        project.network_id
    )


def _photos(uploads, **owner) -> None:
    uploads = list(uploads or [])
    if len(uploads) > MAX_PHOTOS:
        raise BrokerageError(_("At most %(n)d photos.") % {"n": MAX_PHOTOS}, field="photos")
    checked = []
    for upload in uploads:
        try:
            content_type = check_attachment(upload)
        except ValidationError as exc:
            raise BrokerageError(exc.message_dict["file"][0], field="photos") from exc
        if content_type not in PHOTO_TYPES:
            raise BrokerageError(_("Photos are JPEG, PNG, WebP or GIF."), field="photos")
        checked.append((upload, content_type))
    for upload, content_type in checked:
        original = upload.name
        upload.name = random_name(original)
        EvidencePhoto.objects.create(
            file=upload, original_name=original[:255], content_type=content_type, **owner
        )


# ---------------------------------------------------------------------------------------
# Work standards


def standard_attach(
    *, actor, package: WorkPackage, title: str, note: str = "", upload=None
) -> WorkStandard:
    """The lead attaches the technique standard (作業標準) a package must follow: a
    document or photo and a note. The member confirms it before starting or delivering."""
    require_lead(actor, package.project)
    if not title.strip():
        raise BrokerageError(_("Give the standard a title."), field="title")
    if upload is None and not note.strip():
        raise BrokerageError(_("Attach a document or write the standard."), field="file")
    content_type = ""
    if upload is not None:
        try:
            content_type = check_attachment(upload)
        except ValidationError as exc:
            raise BrokerageError(exc.message_dict["file"][0], field="file") from exc
    with transaction.atomic():
        package = lock_one(WorkPackage, package.pk)
        if package.status == PackageStatus.ACCEPTED:
            raise InvalidTransition(_("This package is already complete."))
        original = ""
        if upload is not None:
            original = upload.name
            upload.name = random_name(original)
        standard = WorkStandard.objects.create(
            package=package,
            title=title.strip(),
            note=note,
            file=upload or "",
            original_name=original[:255],
            content_type=content_type,
            attached_by=actor,
        )
        if package.member_id and not package.self_performed:
            events.record(
                kind=events.EventKind.STANDARD_ATTACHED,
                subject=standard,
                actor=actor,
                network_id=package.project.network_id,
                company_id=package.member_id,
            )
    return standard


def standard_confirm(*, actor, standard: WorkStandard) -> WorkStandard:
    """The member confirms it has read the standard (time and user recorded)."""
    _require_package_member(actor, standard.package)
    with transaction.atomic():
        standard = lock_one(WorkStandard, standard.pk)
        if standard.confirmed_at is None:
            standard.confirmed_at, standard.confirmed_by = timezone.now(), actor
            standard.save(update_fields=["confirmed_at", "confirmed_by"])
    return standard


def unconfirmed_standards(package: WorkPackage) -> bool:
    return package.standards.filter(confirmed_at__isnull=True).exists()


# ---------------------------------------------------------------------------------------
# Deliveries to the lead and inspection


def _quantities(package: WorkPackage) -> tuple[int, int, int]:
    """(passed by the lead's inspections, delivered and not yet inspected, needed in all).
    Items of a buyer's claim traced to the package are needed again: the member replaces
    them at its own charge."""
    passed = (
        Inspection.objects.filter(delivery__package=package).aggregate(n=Sum("quantity_passed"))[
            "n"
        ]
        or 0
    )
    pending = (
        package.deliveries.filter(inspection__isnull=True).aggregate(n=Sum("quantity"))["n"] or 0
    )
    claimed = package.claims.aggregate(n=Sum("quantity"))["n"] or 0
    return passed, pending, package.quantity + claimed


def outstanding(package: WorkPackage) -> int:
    """How many items the member still has to deliver."""
    passed, pending, needed = _quantities(package)
    return max(needed - passed - pending, 0)


def delivery_record(*, actor, package: WorkPackage, quantity: int, note: str = "") -> Delivery:
    """The member ships finished work to the lead (partial deliveries allowed)."""
    _require_package_member(actor, package)
    if quantity is None or quantity < 1:
        raise BrokerageError(_("The quantity must be at least 1."), field="quantity")
    with transaction.atomic():
        package = lock_one(WorkPackage, package.pk)
        if package.status not in DELIVERABLE:
            raise InvalidTransition(
                _("Deliver after starting work, and until the lead has accepted everything."),
                field="status",
            )
        if unconfirmed_standards(package):
            raise InvalidTransition(
                _("Confirm the package's work standards first."), field="standards"
            )
        left = outstanding(package)
        if quantity > left:
            raise BrokerageError(
                _("Only %(n)d items are still to be delivered for this package.") % {"n": left},
                field="quantity",
            )
        delivery = Delivery.objects.create(
            package=package,
            quantity=quantity,
            is_rework=package.status == PackageStatus.RETURNED,
            note=note,
            shipped_by=actor,
        )
        # Again while an earlier lot awaits inspection: already shipped, no move.
        transition(package, to=PackageStatus.SHIPPED, allowed=WorkPackage.TRANSITIONS, actor=actor)
        if not package.self_performed:
            events.record(
                kind=events.EventKind.DELIVERY_SHIPPED,
                subject=delivery,
                actor=actor,
                network_id=package.project.network_id,
                quantity=quantity,
            )
    return delivery


def sampling_plan(*, lot_size: int, level: str, aql) -> sampling.Plan:
    """The ISO 2859-1 plan for a lot, or a BrokerageError naming the bad field."""
    if level not in sampling.LEVELS:
        raise BrokerageError(_("Choose an inspection level."), field="inspection_level")
    try:
        aql = Decimal(str(aql))
    except InvalidOperation:
        aql = None
    if aql not in sampling.AQLS:
        raise BrokerageError(_("Choose an AQL from the standard's list."), field="aql")
    if lot_size < 2:
        raise BrokerageError(
            _("Sampling needs a lot of at least 2 items; inspect every item instead."),
            field="quantity_received",
        )
    return sampling.plan(lot_size, level, aql)


def inspection_record(
    *,
    actor,
    delivery: Delivery,
    quantity_received: int,
    quantity_passed: int | None = None,
    inspection_level: str = "",
    aql=None,
    defects_found: int = 0,
    defect_reason: str = "",
    disposition: str = "",
    charge_yen: int | None = None,
    photos=(),
) -> Inspection:
    """The lead inspects a delivery. Either every item (give `quantity_passed`) or by ISO
    2859-1 sampling (give the level, the AQL and the nonconforming items found in the
    sample): a lot within the acceptance number passes but for the items found; a lot at
    the rejection number is rejected whole. Rejected items go back for rework or are
    scrapped and charged to the member."""
    package = delivery.package
    project = package.project
    require_lead(actor, project)
    if quantity_received is None or not 1 <= quantity_received <= delivery.quantity:
        raise BrokerageError(
            _("Between 1 and the %(n)d items delivered.") % {"n": delivery.quantity},
            field="quantity_received",
        )
    plan = None
    if inspection_level or aql not in (None, ""):
        plan = sampling_plan(lot_size=quantity_received, level=inspection_level, aql=aql)
        sample = min(plan.sample_size, quantity_received)
        if defects_found is None or not 0 <= defects_found <= sample:
            raise BrokerageError(
                _("Between 0 and the %(n)d items sampled.") % {"n": sample},
                field="defects_found",
            )
        # An accepted lot loses only the items found; a rejected lot goes back whole.
        rejected = defects_found if plan.lot_accepted(defects_found) else quantity_received
        passed = quantity_received - rejected
    else:
        if quantity_passed is None or not 0 <= quantity_passed <= quantity_received:
            raise BrokerageError(
                _("Between 0 and the %(n)d items received.") % {"n": quantity_received},
                field="quantity_passed",
            )
        passed, rejected = quantity_passed, quantity_received - quantity_passed
        defects_found = rejected
    if rejected:
        if not defect_reason.strip():
            raise BrokerageError(
                _("Say what is wrong with the rejected items."), field="defect_reason"
            )
        if disposition not in Disposition.values:
            raise BrokerageError(
                _("Choose rework or scrap for the rejected items."), field="disposition"
            )
        if disposition == Disposition.CHARGE:
            if package.self_performed:
                raise BrokerageError(
                    _("The lead does not charge its own package."), field="disposition"
                )
            if charge_yen is None or charge_yen < 1:
                raise BrokerageError(
                    _("Give the amount charged to the member in whole yen."), field="charge_yen"
                )
    else:
        disposition = ""
    with transaction.atomic():
        package = lock_one(WorkPackage, package.pk)
        delivery = lock_one(Delivery, delivery.pk)
        if Inspection.objects.filter(delivery=delivery).exists():
            raise InvalidTransition(_("This delivery is already inspected."))
        if passed == quantity_received:
            result = Inspection.Result.PASSED
        elif passed:
            result = Inspection.Result.PARTLY
        else:
            result = Inspection.Result.REJECTED
        inspection = Inspection.objects.create(
            delivery=delivery,
            quantity_received=quantity_received,
            inspection_level=inspection_level if plan else "",
            aql=Decimal(str(aql)) if plan else None,
            sample_size=plan.sample_size if plan else None,
            accept_number=plan.accept if plan else None,
            reject_number=plan.reject if plan else None,
            defects_found=defects_found,
            quantity_passed=passed,
            quantity_rejected=rejected,
            result=result,
            defect_reason=defect_reason if rejected else "",
            disposition=disposition,
            inspected_by=actor,
        )
        _photos(photos, inspection=inspection, uploaded_by=actor)
        if disposition == Disposition.CHARGE:
            MemberCharge.objects.create(
                package=package,
                member_id=package.member_id,
                kind=MemberCharge.Kind.INSPECTION,
                inspection=inspection,
                quantity=rejected,
                amount_yen=charge_yen,
                reason=defect_reason,
                charged_by=actor,
            )
        _package_after_inspection(package, disposition, actor=actor, reason=defect_reason)
        if not package.self_performed:
            events.record(
                kind=events.EventKind.INSPECTION_RECORDED,
                subject=inspection,
                actor=actor,
                network_id=project.network_id,
                result=result,
                passed=passed,
                rejected=rejected,
            )
    return inspection


def _package_after_inspection(package: WorkPackage, disposition: str, *, actor, reason: str):
    """Move the package (locked) to what the lead's inspections leave: everything needed
    passed / rejects sent back for rework / a lot still to inspect / part passed, rest owed /
    nothing passed, all still owed."""
    passed, pending, needed = _quantities(package)
    if passed >= needed:
        to = PackageStatus.ACCEPTED
        package.completed_at = package.completed_at or timezone.now()
    elif disposition == Disposition.REWORK:
        to = PackageStatus.RETURNED
    elif pending:
        to = PackageStatus.SHIPPED
    elif passed:
        to = PackageStatus.INSPECTED
    else:
        to = PackageStatus.IN_PROGRESS
    transition(
        package,
        to=to,
        allowed=WorkPackage.TRANSITIONS,
        actor=actor,
        reason=reason if disposition else "",
        update_fields=("completed_at",),
    )


def charge_late(*, actor, package: WorkPackage, amount_yen: int, reason: str) -> MemberCharge:
    """The lead charges the agreed penalty for a package delivered late (or still owed
    after its due date)."""
    require_lead(actor, package.project)
    if package.self_performed or package.member_id is None:
        raise BrokerageError(_("Only a member's package can be charged."), field="package")
    if amount_yen is None or amount_yen < 1:
        raise BrokerageError(_("Give the amount in whole yen."), field="amount_yen")
    if not reason.strip():
        raise BrokerageError(_("Say which agreed penalty applies."), field="reason")
    with transaction.atomic():
        package = lock_one(WorkPackage, package.pk)
        finished = package.completed_at and timezone.localdate(package.completed_at)
        if (finished or timezone.localdate()) <= package.due_date:
            raise InvalidTransition(_("This package is not late."), field="package")
        if package.charges.filter(kind=MemberCharge.Kind.LATE).exists():
            raise Conflict(
                _("The late penalty for this package is already charged."), field="package"
            )
        charge = MemberCharge.objects.create(
            package=package,
            member_id=package.member_id,
            kind=MemberCharge.Kind.LATE,
            amount_yen=amount_yen,
            reason=reason,
            charged_by=actor,
        )
        events.record(
            kind=events.EventKind.CHARGE_LATE,
            subject=charge,
            actor=actor,
            network_id=package.project.network_id,
            company_id=package.member_id,
            amount_yen=amount_yen,
        )
    return charge


# ---------------------------------------------------------------------------------------
# Shipments to the buyer, acceptance and claims


def shippable(project: Project) -> int:
    """Finished items the lead may still ship: per process, what the lead's inspections
    passed across its packages; the scarcest process bounds the finished goods. Less what
    was shipped and not claimed back, and never more than the order still needs."""
    per_process = {}
    for row in (
        Inspection.objects.filter(delivery__package__project=project)
        .values("delivery__package__process")
        .annotate(n=Sum("quantity_passed"))
    ):
        per_process[row["delivery__package__process"]] = row["n"]
    processes = set(
        project.packages.exclude(status=PackageStatus.CANCELLED).values_list("process", flat=True)
    )
    if not processes:
        return 0
    finished = min(per_process.get(p, 0) for p in processes)
    shipped, claimed = _shipped_and_claimed(project)
    still_needed = project.inquiry.quantity - (shipped - claimed)
    return max(min(finished - shipped, still_needed), 0)


def shipment_send(
    *,
    actor,
    project: Project,
    quantity: int,
    packaging: str = "",
    carrier: str = "",
    tracking_number: str = "",
) -> Shipment:
    """The lead ships inspected goods to the buyer, with packaging and tracking number."""
    require_lead(actor, project)
    if quantity is None or quantity < 1:
        raise BrokerageError(_("The quantity must be at least 1."), field="quantity")
    with transaction.atomic():
        project = lock_one(Project, project.pk)
        if project.status not in RUNNING:
            raise InvalidTransition(_("This project is closed."), field="status")
        available = shippable(project)
        if quantity > available:
            raise BrokerageError(
                _("Only items that passed your inspection can be shipped: %(n)d available now.")
                % {"n": available},
                field="quantity",
            )
        shipment = Shipment.objects.create(
            project=project,
            quantity=quantity,
            packaging=packaging,
            carrier=carrier.strip(),
            tracking_number=tracking_number.strip(),
            shipped_by=actor,
        )
        _update_project_delivery(project, actor)
        events.record(
            kind=events.EventKind.SHIPMENT_SENT,
            subject=shipment,
            actor=actor,
            network_id=project.network_id,
            quantity=quantity,
            tracking_number=shipment.tracking_number,
        )
    return shipment


def _shipped_and_claimed(project: Project) -> tuple[int, int]:
    """Items shipped to the buyer, and items of those the buyer claimed back."""
    shipped = project.shipments.aggregate(n=Sum("quantity"))["n"] or 0
    claimed = Claim.objects.filter(shipment__project=project).aggregate(n=Sum("quantity"))["n"] or 0
    return shipped, claimed


def _update_project_delivery(project: Project, actor) -> None:
    """Delivered once the goods shipped and not claimed back cover the order (the project is
    locked by the caller)."""
    shipped, claimed = _shipped_and_claimed(project)
    delivered = shipped - claimed >= project.inquiry.quantity
    if project.status in RUNNING:
        transition(
            project,
            to=ProjectStatus.DELIVERED if delivered else ProjectStatus.IN_PROGRESS,
            allowed=Project.TRANSITIONS,
            actor=actor,
        )


def claim_raise(*, actor, shipment: Shipment, quantity: int, description: str, photos=()) -> Claim:
    """The buyer raises a claim on goods of a shipment it has not yet accepted."""
    project = shipment.project
    if not acts_for_buyer(actor, project):
        raise NotAllowed(_("Only the buyer raises a claim on its delivery."))
    if not description.strip():
        raise BrokerageError(_("Say what is wrong with the goods."), field="description")
    if quantity is None or quantity < 1:
        raise BrokerageError(_("The quantity must be at least 1."), field="quantity")
    with transaction.atomic():
        project = lock_one(Project, project.pk)
        shipment = lock_one(Shipment, shipment.pk)
        if shipment.status != Shipment.Status.SHIPPED:
            raise InvalidTransition(_("This delivery is already accepted."), field="status")
        claimed = shipment.claims.aggregate(n=Sum("quantity"))["n"] or 0
        if quantity > shipment.quantity - claimed:
            raise BrokerageError(
                _("At most the %(n)d items of this delivery not yet claimed.")
                % {"n": shipment.quantity - claimed},
                field="quantity",
            )
        claim = Claim.objects.create(
            shipment=shipment, quantity=quantity, description=description, raised_by=actor
        )
        _photos(photos, claim=claim, uploaded_by=actor)
        _update_project_delivery(project, actor)
        events.record(
            kind=events.EventKind.CLAIM_RAISED,
            subject=claim,
            actor=actor,
            network_id=project.network_id,
            quantity=quantity,
        )
    return claim


def shipment_accept(*, actor, shipment: Shipment) -> Shipment:
    """The buyer accepts a delivery (検収): what it did not claim is accepted. When the
    accepted goods cover the order, the project is accepted and can be settled."""
    project = shipment.project
    if not acts_for_buyer(actor, project):
        raise NotAllowed(_("Only the buyer accepts its delivery."))
    with transaction.atomic():
        project = lock_one(Project, project.pk)
        shipment = lock_one(Shipment, shipment.pk)
        if shipment.status == Shipment.Status.ACCEPTED:
            return shipment
        claimed = shipment.claims.aggregate(n=Sum("quantity"))["n"] or 0
        shipment.accepted_quantity = shipment.quantity - claimed
        shipment.accepted_by, shipment.accepted_at = actor, timezone.now()
        transition(
            shipment,
            to=Shipment.Status.ACCEPTED,
            allowed=Shipment.TRANSITIONS,
            actor=actor,
            update_fields=("accepted_quantity", "accepted_by", "accepted_at"),
        )
        events.record(
            kind=events.EventKind.SHIPMENT_ACCEPTED,
            subject=shipment,
            actor=actor,
            network_id=project.network_id,
            accepted=shipment.accepted_quantity,
        )
        accepted = (
            project.shipments.filter(status=Shipment.Status.ACCEPTED).aggregate(
                n=Sum("accepted_quantity")
            )["n"]
            or 0
        )
        waiting = project.shipments.filter(status=Shipment.Status.SHIPPED).exists()
        if accepted >= project.inquiry.quantity and not waiting:
            project.accepted_at = shipment.accepted_at
            transition(
                project,
                to=ProjectStatus.ACCEPTED,
                allowed=Project.TRANSITIONS,
                actor=actor,
                update_fields=("accepted_at",),
            )
            events.record(
                kind=events.EventKind.PROJECT_ACCEPTED,
                subject=project,
                actor=actor,
                network_id=project.network_id,
            )
    return shipment


def claim_trace(
    *, actor, claim: Claim, package: WorkPackage, charge_yen: int = 0, note: str = ""
) -> Claim:
    """The lead traces a claim to the package (and so the member) responsible, and may
    charge that member."""
    project = claim.shipment.project
    require_lead(actor, project)
    if package.project_id != project.pk or package.member_id is None:
        raise BrokerageError(_("Choose a package of this project."), field="package")
    if charge_yen and (package.self_performed or charge_yen < 0):
        raise BrokerageError(
            _("Charge a positive amount to a member's package."), field="charge_yen"
        )
    with transaction.atomic():
        claim = lock_one(Claim, claim.pk)
        if claim.status != Claim.Status.OPEN:
            raise InvalidTransition(_("This claim is already traced."), field="status")
        package = lock_one(WorkPackage, package.pk)
        claim.package = package
        claim.traced_by, claim.traced_at = actor, timezone.now()
        if note:
            claim.resolution = note
        transition(
            claim,
            to=Claim.Status.TRACED,
            allowed=Claim.TRANSITIONS,
            actor=actor,
            reason=note,
            update_fields=("package", "traced_by", "traced_at", "resolution"),
        )
        # The claimed items are owed again by the package's member.
        if package.status == PackageStatus.ACCEPTED:
            transition(
                package,
                to=PackageStatus.RETURNED,
                allowed=WorkPackage.TRANSITIONS,
                actor=actor,
                reason=claim.description,
            )
        if charge_yen:
            MemberCharge.objects.create(
                package=package,
                member_id=package.member_id,
                kind=MemberCharge.Kind.CLAIM,
                claim=claim,
                quantity=claim.quantity,
                amount_yen=charge_yen,
                reason=claim.description,
                charged_by=actor,
            )
        events.record(
            kind=events.EventKind.CLAIM_TRACED,
            subject=claim,
            actor=actor,
            network_id=project.network_id,
            company_id=package.member_id,
            charge_yen=charge_yen or 0,
        )
    return claim


def claim_resolve(*, actor, claim: Claim, resolution: str) -> Claim:
    """The lead closes a traced claim saying how it was settled with the buyer."""
    require_lead(actor, claim.shipment.project)
    if not resolution.strip():
        raise BrokerageError(_("Say how the claim was settled."), field="resolution")
    with transaction.atomic():
        claim = lock_one(Claim, claim.pk)
        if claim.status != Claim.Status.TRACED:
            raise InvalidTransition(_("Trace the claim to a package first."), field="status")
        claim.resolution = resolution
        claim.resolved_at = timezone.now()
        transition(
            claim,
            to=Claim.Status.RESOLVED,
            allowed=Claim.TRANSITIONS,
            actor=actor,
            reason=resolution,
            update_fields=("resolution", "resolved_at"),
        )
    return claim


# ---------------------------------------------------------------------------------------
# Late packages (scheduled job)


def packages_warn_due(*, today: datetime.date | None = None) -> int:
    """Warn member and lead of packages still owed that are due within DUE_SOON_DAYS, and
    again once overdue. Each warning is marked on the package by a conditional update in
    the event's transaction, so two runs (or two workers) never warn twice."""
    today = today or timezone.localdate()
    warned = 0
    owed = WorkPackage.objects.filter(status__in=PACKAGE_OPEN_WORK, member__isnull=False)
    checks = (
        (
            events.EventKind.PACKAGE_DUE_SOON,
            "due_soon_warned_on",
            Q(due_date__gte=today, due_date__lte=today + datetime.timedelta(days=DUE_SOON_DAYS)),
        ),
        (events.EventKind.PACKAGE_LATE, "late_warned_on", Q(due_date__lt=today)),
    )
    for kind, mark, due in checks:
        pks = owed.filter(due, **{f"{mark}__isnull": True}).values_list("pk", flat=True)[:500]
        for pk in list(pks):
            with transaction.atomic():
                updated = WorkPackage.objects.filter(
                    pk=pk, status__in=PACKAGE_OPEN_WORK, **{f"{mark}__isnull": True}
                ).update(**{mark: today})
                if not updated:
                    continue
                package = WorkPackage.objects.select_related("project").get(pk=pk)
                events.record(
                    kind=kind,
                    subject=package,
                    network_id=package.project.network_id,
                    due_date=package.due_date.isoformat(),
                )
                warned += 1
    return warned
