"""Reads of the order flow, scoped to the viewer. Sealed prices are hidden here and in the
serializers: an application's price is shown to its own company, and to others only once the
applications are opened."""

import dataclasses
import datetime
from functools import cache

from django.db import connection
from django.db.models import (
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from core.transitions import history
from members.matching import MatchCriteria, capability_matches
from members.models import Membership, MembershipClass, MembershipStatus
from members.permissions import roles_of
from members.prefectures import PREFECTURE_CAPITALS

from .execution import DUE_SOON_DAYS
from .models import (
    Agreement,
    Application,
    ApplicationStatus,
    Award,
    Claim,
    DeadlineExtension,
    Delivery,
    EarlyClose,
    Inquiry,
    InquiryAttachment,
    InquiryMessage,
    InquiryStage,
    InquiryStatus,
    Invitation,
    LeadCall,
    MemberCharge,
    Project,
    Shipment,
    WorkPackage,
    WorkStandard,
)
from .projects import capacity_left

S = InquiryStatus
PUBLISHED = (S.OPEN, S.EVALUATION, S.AWARDED)


def inquiry_list(*, viewer) -> QuerySet[Inquiry]:
    """Staff see their networks' inquiries; buyers their own; lead companies the published
    calls of their networks (the open board, and what they applied to)."""
    qs = Inquiry.objects.select_related(
        # award__application: the award's price and lead time are serialized for staff.
        "network",
        "buyer",
        "material",
        "award__company",
        "award__application",
    ).prefetch_related(
        "processes",
        "attachments",
        "stages__network",
        "stages__processes",
        "stages__inquiry__award__company",
    )
    return _visible(qs, viewer)


def _visible(qs: QuerySet, viewer) -> QuerySet:
    """`qs` (of inquiries) narrowed to what `viewer` may see, as `inquiry_list` says."""
    roles = roles_of(viewer)
    if roles.is_platform_admin:
        return qs
    # Only the clauses that can match this viewer: a secretariat's list is then a plain
    # `network_id = …`, which walks the (network, -submitted_at) index and stops at the page.
    clauses = []
    if roles.staff_network_ids:
        clauses.append(Q(network_id__in=roles.staff_network_ids))
    if roles.is_buyer:
        # By the buyer's id (loaded with the user): a buyer's list and its count stay on the
        # inquiry table, without a join to the buyers.
        clauses.append(Q(buyer_id=viewer.buyer.pk))
    if roles.company_id:
        lead_of = Membership.objects.filter(
            network=OuterRef("network"),
            company_id=roles.company_id,
            membership_class=MembershipClass.LEAD,
            status=MembershipStatus.ACTIVE,
        )
        applied = Application.objects.filter(inquiry=OuterRef("pk"), company_id=roles.company_id)
        clauses.append(Q(Exists(lead_of), status__in=PUBLISHED) | Q(Exists(applied)))
    if not clauses:
        return qs.none()
    visible = clauses[0]
    for clause in clauses[1:]:
        visible |= clause
    return qs.filter(visible)


def inquiry_as_submitted(inquiry: Inquiry, processes) -> Inquiry:
    """A just-submitted inquiry with what `inquiry_list` would prefetch, without reading it
    back (answering a submission is the hot path of the buyers' window). It has no
    attachments, stages or award yet: each is prefetched from an empty queryset, which Django
    answers without a query. Its processes are the ones it was saved with, kept as
    `submitted_processes` (a plain list, as `Prefetch(to_attr=...)` would leave) for
    `SubmittedInquirySerializer`."""
    prefetch_related_objects(
        [inquiry],
        Prefetch("attachments", queryset=InquiryAttachment.objects.none()),
        Prefetch("stages", queryset=InquiryStage.objects.none()),
        Prefetch("award", queryset=Award.objects.none()),
    )
    inquiry.submitted_processes = list(processes)
    return inquiry


# The inquiry's own columns in the API list; what it shows of related rows is added below.
INQUIRY_ROW_COLUMNS = (
    "id",
    "reference",
    "network_id",
    "status",
    "title",
    "description",
    "finish_kind",
    "finish_grit",
    "finish_ra_input",
    "required_ra_um",
    "quantity",
    "lot_pattern",
    "length_mm",
    "width_mm",
    "height_mm",
    "weight_kg",
    "desired_delivery_date",
    "delivery_prefecture",
    "delivery_city",
    "budget_yen",
    "nda_required",
    "submitted_at",
    "published_at",
    "application_deadline",
    "award_mode",
    "applications_opened_at",
    "outcome_reason",
    "closed_at",
)


def inquiry_row_list(*, viewer) -> QuerySet[dict]:
    """`inquiry_list` as the API list's flat rows (dicts): one query a page, no model
    instances, none of the detail's prefetches (who may see the buyer and the award is the
    serializer's business, from these columns). Filter, order and slice it like the model
    queryset, then read a page with `inquiry_rows`. It is paged by keyset, never counted."""
    return _visible(_row_template().all(), viewer)  # a clone: the template is shared


@cache
def _row_template() -> QuerySet[dict]:
    """The rows' columns, resolved once per process: resolving the joined columns cost as
    much as compiling the whole query, on every page. Only ever cloned (filter, order_by)."""
    # On PostgreSQL the process codes come in the same query (an array subquery);
    # elsewhere from a second one (`inquiry_rows`).
    inline = connection.vendor == "postgresql"
    codes = {"process_codes": _process_codes_array()} if inline else {}
    return Inquiry.objects.values(
        *INQUIRY_ROW_COLUMNS,
        material_code=F("material__code"),
        buyer_user_id=F("buyer__user_id"),
        buyer_name=F("buyer__name"),
        buyer_organisation=F("buyer__organisation"),
        award_company_id=F("award__company_id"),
        award_company_name=F("award__company__legal_name"),
        award_status=F("award__status"),
        **codes,
    )


def inquiry_rows(queryset: QuerySet[dict]) -> list[dict]:
    """One page of `inquiry_row_list` (filtered, ordered, sliced) read into rows."""
    rows = list(queryset)
    return rows if connection.vendor == "postgresql" else _add_process_codes(rows)


def _process_links():
    return Inquiry.processes.through.objects.order_by("process__sort_order", "process__code")


def _process_codes_array() -> RawSQL:
    """PostgreSQL: the row's process codes in the processes' order, as an array subquery.
    Written as SQL (from the models' table and column names): the ORM's ArraySubquery cost
    a third of building the page's query, on every page. It refers to the list's base
    table by its name, which is the outer query's alias for it."""
    links = Inquiry.processes.through._meta
    process = links.get_field("process").related_model._meta
    # Only table and column names from the models, no input: nothing to inject.
    sql = (
        f'ARRAY(SELECT p."code" FROM "{links.db_table}" l'  # noqa: S608
        f' JOIN "{process.db_table}" p ON p."id" = l."{links.get_field("process").column}"'
        f' WHERE l."{links.get_field("inquiry").column}" = "{Inquiry._meta.db_table}"."id"'
        ' ORDER BY p."sort_order", p."code")'
    )
    return RawSQL(sql, [])  # noqa: S611


def _add_process_codes(rows: list[dict]) -> list[dict]:
    """Sets each row's `process_codes` (in the processes' order) from one query."""
    codes = {row["id"]: [] for row in rows}
    links = _process_links().filter(inquiry_id__in=codes).values_list("inquiry_id", "process__code")
    for inquiry_id, code in links:
        codes[inquiry_id].append(code)
    for row in rows:
        row["process_codes"] = codes[row["id"]]
    return rows


def application_list(*, viewer) -> QuerySet[Application]:
    """Own company's applications; staff see their networks' (prices masked until opened);
    nobody else."""
    roles = roles_of(viewer)
    qs = Application.objects.select_related("inquiry", "company").prefetch_related("proposed_team")
    if roles.is_platform_admin:
        return qs
    return qs.filter(
        Q(company_id=roles.company_id) | Q(inquiry__network_id__in=roles.staff_network_ids)
        if roles.company_id
        else Q(inquiry__network_id__in=roles.staff_network_ids)
    )


def can_see_price(*, viewer, application: Application) -> bool:
    roles = roles_of(viewer)
    if roles.acts_for(application.company_id):
        return True
    return application.inquiry.applications_opened_at is not None and (
        roles.is_staff_of(application.inquiry.network_id)
    )


def match_criteria(inquiry: Inquiry) -> MatchCriteria:
    latlon = PREFECTURE_CAPITALS.get(inquiry.delivery_prefecture, (None, None))
    days = (inquiry.desired_delivery_date - timezone.localdate()).days
    return MatchCriteria(
        network_id=inquiry.network_id,
        process_ids=tuple(p.pk for p in inquiry.processes.all()),
        material_id=inquiry.material_id,
        length_mm=inquiry.length_mm,
        width_mm=inquiry.width_mm,
        height_mm=inquiry.height_mm,
        weight_kg=inquiry.weight_kg,
        quantity=inquiry.quantity,
        required_ra_um=inquiry.required_ra_um,
        days_available=max(days, 0),
        latitude=latlon[0],
        longitude=latlon[1],
    )


def inquiry_matches(*, inquiry: Inquiry, limit: int = 100):
    """The ranked member capabilities for the inquiry, and which processes no member covers."""
    matches = capability_matches(match_criteria(inquiry), limit=limit)
    covered = {m.process_id for m in matches if m.is_candidate}
    uncovered = [p for p in inquiry.processes.all() if p.pk not in covered]
    return matches, uncovered


def leads_to_call(inquiry: Inquiry) -> list[int]:
    """Lead companies whose team can cover the inquiry: all leads when the members together
    cover every process; otherwise only leads that cover a process themselves. Recorded as
    the inquiry's `LeadCall`s when it is published."""
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


def called_lead_ids(inquiry: Inquiry) -> list[int]:
    """The lead companies the inquiry's publication called (`LeadCall`)."""
    return list(LeadCall.objects.filter(inquiry=inquiry).values_list("company_id", flat=True))


def leads_not_answered(inquiry: Inquiry) -> list[int]:
    """Called leads, still active lead companies of the network, that have neither an
    active application nor declined: while any is left, only the committee closes early."""
    active_lead = Membership.objects.filter(
        network_id=inquiry.network_id,
        company=OuterRef("company"),
        membership_class=MembershipClass.LEAD,
        status=MembershipStatus.ACTIVE,
    )
    applied = Application.objects.filter(
        inquiry=inquiry, company=OuterRef("company"), status=ApplicationStatus.ACTIVE
    )
    return list(
        LeadCall.objects.filter(inquiry=inquiry, declined_at__isnull=True)
        .filter(Exists(active_lead))
        .exclude(Exists(applied))
        .order_by("company_id")
        .values_list("company_id", flat=True)
    )


def own_call(inquiry: Inquiry, *, company_id: int | None) -> LeadCall | None:
    """The viewer's company's call to the inquiry, if it was called."""
    if company_id is None:
        return None
    return LeadCall.objects.filter(inquiry=inquiry, company_id=company_id).first()


def call_answers(inquiry: Inquiry) -> list[dict]:
    """For the secretariat: each called lead and its answer (applied, declined, none)."""
    applied = set(
        Application.objects.filter(inquiry=inquiry, status=ApplicationStatus.ACTIVE).values_list(
            "company_id", flat=True
        )
    )
    rows = []
    for call in LeadCall.objects.filter(inquiry=inquiry).select_related("company"):
        answer = "applied" if call.company_id in applied else "declined" if call.declined_at else ""
        rows.append({"call": call, "company": call.company, "answer": answer})
    return rows


def inquiries_at_risk(*, viewer, within: datetime.timedelta = datetime.timedelta(days=1)):
    """Open inquiries of the viewer's networks closing soon with no application yet."""
    roles = roles_of(viewer)
    soon = timezone.now() + within
    return (
        Inquiry.objects.filter(
            network_id__in=roles.staff_network_ids,
            status=S.OPEN,
            application_deadline__lte=soon,
        )
        .exclude(applications__status="active")
        .select_related("network")
    )


def timeline_entries(inquiry, *, viewer) -> list[dict]:
    """Status changes and questions/answers, oldest first. Internal reasons (escalation) show
    to staff only; the buyer sees what concerns it."""
    staff = roles_of(viewer).is_staff_of(inquiry.network_id)
    labels = dict(InquiryStatus.choices)
    entries = []
    for change in history(inquiry):
        private = change.to_status in (InquiryStatus.COMMITTEE,) and not staff
        entries.append(
            {
                "at": change.created_at,
                "kind": "status",
                "status": str(labels.get(change.to_status, change.to_status)),
                "text": "" if private else change.reason,
                "actor": (str(change.actor) if staff and change.actor else change.actor_label)
                or None,
            }
        )
    for message in InquiryMessage.objects.filter(inquiry=inquiry).select_related("author"):
        entries.append(
            {
                "at": message.created_at,
                "kind": message.kind,
                "status": "",
                "text": message.body,
                "actor": str(message.author) if staff else None,
            }
        )
    entries += _window_entries(inquiry, staff=staff)
    return sorted(entries, key=lambda e: e["at"])


def _window_entries(inquiry, *, staff: bool) -> list[dict]:
    """Extensions of the deadline (the buyer sees the new deadline; the staff also who and
    why), and for the staff the leads' declines and an early close with its reason."""
    from django.utils.translation import gettext as _

    entries = []
    for extension in DeadlineExtension.objects.filter(inquiry=inquiry).select_related(
        "extended_by"
    ):
        new = timezone.localtime(extension.new_deadline).strftime("%Y-%m-%d %H:%M")
        text = _("New deadline: %(deadline)s") % {"deadline": new}
        entries.append(
            {
                "at": extension.created_at,
                "kind": "deadline_extended",
                "status": _("Deadline extended"),
                "text": f"{text}\n{extension.reason}" if staff else text,
                "actor": str(extension.extended_by) if staff else None,
            }
        )
    if not staff:
        return entries
    declined = LeadCall.objects.filter(inquiry=inquiry, declined_at__isnull=False)
    for call in declined.select_related("company", "declined_by"):
        entries.append(
            {
                "at": call.declined_at,
                "kind": "call_declined",
                "status": _("%(company)s declined the call") % {"company": call.company},
                "text": call.decline_reason,
                "actor": str(call.declined_by) if call.declined_by else None,
            }
        )
    early = EarlyClose.objects.filter(inquiry=inquiry).select_related("closed_by").first()
    if early is not None:
        text = early.reason
        if early.basis == EarlyClose.Basis.COMMITTEE:
            votes = _("Votes: %(for)d for, %(against)d against, %(abstained)d abstained") % {
                "for": early.votes_for or 0,
                "against": early.votes_against or 0,
                "abstained": early.votes_abstained or 0,
            }
            text = f"{text}\n{votes}"
        entries.append(
            {
                "at": early.closed_at,
                "kind": "closed_early",
                "status": _("Applications closed early: %(basis)s")
                % {"basis": early.get_basis_display()},
                "text": text,
                "actor": str(early.closed_by),
            }
        )
    return entries


def project_list(*, viewer):
    """The lead's projects, the projects whose packages a member took, and the network's
    projects for its staff."""
    roles = roles_of(viewer)
    qs = Project.objects.select_related("inquiry__buyer", "lead", "network")
    if roles.is_platform_admin:
        return qs
    visible = Q(network_id__in=roles.staff_network_ids)
    if roles.company_id:
        visible |= Q(lead_id=roles.company_id) | Q(packages__member_id=roles.company_id)
    if viewer.is_authenticated:
        visible |= Q(inquiry__buyer__user=viewer)
    return qs.filter(visible).distinct()


def package_list(*, viewer):
    """A lead sees its projects' packages; a member the packages it took or is invited to;
    the network's staff all of theirs."""
    roles = roles_of(viewer)
    qs = WorkPackage.objects.select_related(
        "project__inquiry__buyer", "project__lead", "process", "material", "member"
    )
    if roles.is_platform_admin:
        return qs
    visible = Q(project__network_id__in=roles.staff_network_ids)
    if roles.company_id:
        visible |= (
            Q(project__lead_id=roles.company_id)
            | Q(member_id=roles.company_id)
            | Q(invitations__company_id=roles.company_id)
        )
    return qs.filter(visible).distinct()


def invitation_list(*, viewer):
    """The invited member's own, the lead's, and the network's staff (read-only board)."""
    roles = roles_of(viewer)
    qs = Invitation.objects.select_related("package__process", "package__project", "company")
    if roles.is_platform_admin:
        return qs
    visible = Q(package__project__network_id__in=roles.staff_network_ids)
    if roles.company_id:
        visible |= Q(company_id=roles.company_id) | Q(package__project__lead_id=roles.company_id)
    return qs.filter(visible)


def agreement_list(*, viewer):
    roles = roles_of(viewer)
    qs = Agreement.objects.select_related("project__inquiry", "project__lead", "member")
    if roles.is_platform_admin:
        return qs
    # The secretariat (disputes); not the committee: unit prices are the firms' business.
    return qs.filter(
        Q(project__network_id__in=roles.secretariat_network_ids)
        | Q(member_id=roles.company_id or 0)
        | Q(project__lead_id=roles.company_id or 0)
    )


def _package_scope(viewer, prefix: str) -> Q | None:
    """Who sees the work of a package: its member, the project's lead and the network's
    staff. None: everything (platform admin)."""
    roles = roles_of(viewer)
    if roles.is_platform_admin:
        return None
    visible = Q(**{f"{prefix}project__network_id__in": roles.staff_network_ids})
    if roles.company_id:
        visible |= Q(**{f"{prefix}project__lead_id": roles.company_id}) | Q(
            **{f"{prefix}member_id": roles.company_id}
        )
    return visible


def delivery_list(*, viewer):
    """Deliveries to the lead with their inspection: the member, the lead, the staff."""
    qs = Delivery.objects.select_related(
        "package__project__inquiry", "package__process", "package__member", "inspection"
    ).prefetch_related("inspection__photos")
    scope = _package_scope(viewer, "package__")
    return qs if scope is None else qs.filter(scope)


def standard_list(*, viewer):
    qs = WorkStandard.objects.select_related("package__project")
    scope = _package_scope(viewer, "package__")
    return qs if scope is None else qs.filter(scope)


def charge_list(*, viewer):
    """Charges to a member: the member charged, the lead, the staff."""
    qs = MemberCharge.objects.select_related("package__project__inquiry", "member")
    scope = _package_scope(viewer, "package__")
    return qs if scope is None else qs.filter(scope)


def shipment_list(*, viewer):
    """Shipments to the buyer: the buyer, the lead, the staff (members do not see the
    buyer)."""
    roles = roles_of(viewer)
    qs = Shipment.objects.select_related("project__inquiry__buyer", "project__lead")
    if roles.is_platform_admin:
        return qs
    visible = Q(project__network_id__in=roles.staff_network_ids)
    if roles.company_id:
        visible |= Q(project__lead_id=roles.company_id)
    if viewer.is_authenticated:
        visible |= Q(project__inquiry__buyer__user=viewer)
    return qs.filter(visible)


def claim_list(*, viewer):
    """Claims: the buyer, the lead, the staff, and the member of the package it was traced
    to."""
    roles = roles_of(viewer)
    qs = Claim.objects.select_related(
        "shipment__project__inquiry", "package__process", "package__member"
    ).prefetch_related("photos")
    if roles.is_platform_admin:
        return qs
    visible = Q(shipment__project__network_id__in=roles.staff_network_ids)
    if roles.company_id:
        visible |= Q(shipment__project__lead_id=roles.company_id) | Q(
            package__member_id=roles.company_id
        )
    if viewer.is_authenticated:
        visible |= Q(shipment__project__inquiry__buyer__user=viewer)
    return qs.filter(visible)


def project_board(project: Project) -> list[dict]:
    """The lead's board: each package with what passed inspection, what awaits it, what is
    still owed and whether it is late. Three queries whatever the number of packages."""

    passed = dict(
        Delivery.objects.filter(package__project=project, inspection__isnull=False)
        .values("package")
        .annotate(n=Sum("inspection__quantity_passed"))
        .values_list("package", "n")
    )
    pending = dict(
        Delivery.objects.filter(package__project=project, inspection__isnull=True)
        .values("package")
        .annotate(n=Sum("quantity"))
        .values_list("package", "n")
    )
    today = timezone.localdate()
    rows = []
    for package in project.packages.select_related("process", "material", "member"):
        done = passed.get(package.pk, 0) or 0
        waiting = pending.get(package.pk, 0) or 0
        finished = package.status in ("accepted", "cancelled")
        rows.append(
            {
                "package": package,
                "passed": done,
                "awaiting_inspection": waiting,
                "owed": 0 if finished else max(package.quantity - done - waiting, 0),
                "late": not finished and package.member_id is not None and package.due_date < today,
                "due_soon": not finished
                and package.member_id is not None
                and today <= package.due_date <= today + datetime.timedelta(days=DUE_SOON_DAYS),
            }
        )
    return rows


def package_suggestions(package: WorkPackage, *, limit: int = 20) -> list[dict]:
    """Members to invite for a package: the matching of part 1 for the package's process,
    material and quantity, with each member's capacity left that month after its other
    packages. Candidates with room first; the lead itself is left out."""
    inquiry = package.project.inquiry
    criteria = dataclasses.replace(
        match_criteria(inquiry),
        process_ids=(package.process_id,),
        material_id=package.material_id,
        quantity=package.quantity,
        days_available=max((package.due_date - timezone.localdate()).days, 0),
    )
    invited = set(package.invitations.filter(status="invited").values_list("company_id", flat=True))
    rows = []
    for match in capability_matches(criteria, limit=limit + 1):
        if match.company_id == package.project.lead_id:
            continue
        left = capacity_left(company_id=match.company_id, package=package)
        rows.append(
            {
                "match": match,
                "capacity_left": left,
                "capacity_short": left is None or left < package.quantity,
                "invited": match.company_id in invited,
            }
        )
    rows.sort(key=lambda r: (not r["match"].is_candidate, r["capacity_short"]))
    return rows[:limit]
