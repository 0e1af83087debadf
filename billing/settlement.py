"""A project's settlement: the lead's invoice to the buyer and each member's statement to the
lead, computed from the project's facts (packages passed, charges) and issued in its run."""

import datetime
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from core.errors import BrokerageError, InvalidTransition
from members.models import Company, Network
from members.permissions import roles_of
from orders.models import Inspection, MemberCharge, Project, ProjectStatus, WorkPackage

from . import tax, terms
from .issuing import DocumentSpec, IssueBatch, LineSpec, money_error
from .models import COMPANY_ISSUED, Document, DocumentKind, DocumentStatus, RunKind, SettlementRun
from .periods import local_date, month_range

# What a settlement reads of a project (a month may hold 10,000 of them).
PROJECT_FIELDS = (
    "network_id",
    "status",
    "order_value_yen",
    "payment_closing_day",
    "payment_month_offset",
    "payment_day",
    "accepted_at",
    "lead__legal_name",
    "lead__invoice_registration_number",
    "lead__tax_rounding",
    "inquiry__reference",
    "inquiry__title",
    "inquiry__buyer__name",
    "inquiry__buyer__organisation",
)
CHARGE_LABELS = {
    MemberCharge.Kind.INSPECTION: "検品不良",
    MemberCharge.Kind.CLAIM: "クレーム",
    MemberCharge.Kind.LATE: "納期遅延",
}


def month_projects(network: Network, period: datetime.date):
    """The network's projects the buyer accepted in the month (Tokyo time): what its monthly
    close settles."""
    start, end = month_range(period)
    return Project.objects.filter(
        network=network,
        status=ProjectStatus.ACCEPTED,
        accepted_at__gte=start,
        accepted_at__lt=end,
    )


@dataclass(frozen=True)
class PackageFacts:
    pk: int
    member_id: int
    quantity: int
    unit_price_yen: int
    process: str
    material: str


@dataclass(frozen=True)
class ChargeFacts:
    pk: int
    package_id: int
    member_id: int
    kind: str
    quantity: int
    amount_yen: int
    reason: str


@dataclass
class ProjectFacts:
    """What a project's settlement reads, loaded for a batch of projects in a few queries
    (plain rows, not model instances: a month may hold 100,000 packages)."""

    packages: list[PackageFacts] = field(default_factory=list)  # members' packages
    passed: dict[int, int] = field(default_factory=dict)  # package id → quantity passed
    charges: list[ChargeFacts] = field(default_factory=list)
    companies: dict[int, Company] = field(default_factory=dict)  # the members, shared
    existing: dict[str, Document] = field(default_factory=dict)  # issued, by source key


def load_project_facts(project_ids: list[int]) -> dict[int, ProjectFacts]:
    """The facts of each project, in five queries whatever their number."""
    facts = {pk: ProjectFacts() for pk in project_ids}
    _load_packages(facts, project_ids)
    passed = (
        Inspection.objects.filter(delivery__package__project_id__in=project_ids)
        .order_by()
        .values_list("delivery__package__project_id", "delivery__package_id")
        .annotate(n=Sum("quantity_passed"))
    )
    for project_id, package_id, n in passed:
        facts[project_id].passed[package_id] = n or 0
    _load_charges(facts, project_ids)
    member_ids = {p.member_id for f in facts.values() for p in f.packages}
    companies = Company.objects.in_bulk(member_ids)
    documents = Document.objects.filter(
        project_id__in=project_ids, status=DocumentStatus.ISSUED, kind__in=COMPANY_ISSUED
    )
    for document in documents:
        facts[document.project_id].existing[document.source_key] = document
    for project_facts in facts.values():
        project_facts.companies = companies
    return facts


def _load_packages(facts: dict[int, ProjectFacts], project_ids: list[int]) -> None:
    """The packages members perform (not the lead's own), in statement order."""
    packages = (
        WorkPackage.objects.filter(
            project_id__in=project_ids, self_performed=False, member__isnull=False
        )
        .order_by("project_id", "member_id", "due_date", "id")
        .values_list(
            "project_id",
            "pk",
            "member_id",
            "quantity",
            "unit_price_yen",
            "process__name_ja",
            "material__name_ja",
        )
    )
    for project_id, *row in packages:
        facts[project_id].packages.append(PackageFacts(*row))


def _load_charges(facts: dict[int, ProjectFacts], project_ids: list[int]) -> None:
    """The charges to members (deductions on their statements), in the order charged."""
    charges = (
        MemberCharge.objects.filter(package__project_id__in=project_ids)
        .order_by("charged_at", "id")
        .values_list(
            "package__project_id",
            "pk",
            "package_id",
            "member_id",
            "kind",
            "quantity",
            "amount_yen",
            "reason",
        )
    )
    for project_id, *row in charges:
        facts[project_id].charges.append(ChargeFacts(*row))


def project_documents(project: Project, facts: ProjectFacts) -> list[DocumentSpec]:
    """The documents an accepted project settles into, prepared (totals and digest).

    - The lead's invoice to the buyer: the order value as one lump-sum line (一式) at 10%,
      with the lead's rounding.
    - Each member's statement to the lead: per package the quantity its inspections passed
      (at most the package's quantity) × unit price, less one deduction line per charge to
      the member; 10% once on the net, with the member's rounding. Packages the lead did
      itself bill nothing (the lead does not invoice itself).

    Both fall due under the project's payment terms from the acceptance date (Tokyo).
    """
    accepted_on = local_date(project.accepted_at)
    try:
        due = terms.due_date(
            accepted_on,
            closing_day=project.payment_closing_day,
            month_offset=project.payment_month_offset,
            payment_day=project.payment_day,
        )
    except tax.MoneyRuleError as exc:
        raise money_error(exc, project.inquiry.reference) from exc
    specs = [_lead_invoice(project, accepted_on, due)]
    for member_id, member_lines in _member_lines(project, facts).items():
        if member_lines:
            specs.append(
                _member_statement(
                    project, facts.companies[member_id], member_lines, accepted_on, due
                )
            )
    return [spec.prepare() for spec in specs]


def _lead_invoice(project: Project, accepted_on: datetime.date, due: datetime.date) -> DocumentSpec:
    """The lead's invoice to the buyer: the order value as one lump-sum line (一式)."""
    line = tax.Line(
        f"{project.inquiry.reference} {project.inquiry.title} 一式",
        quantity=1,
        unit_price_yen=project.order_value_yen,
        tax_rate=tax.STANDARD_RATE,
    )
    return DocumentSpec(
        kind=DocumentKind.INVOICE,
        source_key=f"invoice:project:{project.pk}",
        network=project.network,
        issuer_company=project.lead,
        recipient_company=None,
        recipient_buyer=project.inquiry.buyer,
        transaction_date=accepted_on,
        due_date=due,
        rounding=project.lead.tax_rounding,
        lines=[LineSpec(line, project_id=project.pk)],
        project_id=project.pk,
    )


def _member_lines(project: Project, facts: ProjectFacts) -> dict[int, list[LineSpec]]:
    """Each member's statement lines: its packages' passed quantities, then a deduction per
    charge to it. A member with packages but nothing passed has an empty list."""
    reference = project.inquiry.reference
    lines: dict[int, list[LineSpec]] = {}
    for package in facts.packages:
        package_lines = lines.setdefault(package.member_id, [])
        quantity = min(facts.passed.get(package.pk, 0), package.quantity)
        if quantity < 1:
            continue
        line = tax.Line(
            f"{reference} {package.process}（{package.material}）",
            quantity=quantity,
            unit_price_yen=package.unit_price_yen,
            tax_rate=tax.STANDARD_RATE,
        )
        package_lines.append(LineSpec(line, project_id=project.pk, package_id=package.pk))
    for charge in facts.charges:
        if charge.member_id not in lines:
            continue
        count = f" {charge.quantity}個" if charge.quantity else ""
        line = tax.Line(
            f"{reference} 控除（{CHARGE_LABELS[charge.kind]}{count}）{charge.reason}",
            quantity=1,
            unit_price_yen=-charge.amount_yen,
            tax_rate=tax.STANDARD_RATE,
            is_deduction=True,
        )
        lines[charge.member_id].append(
            LineSpec(line, project_id=project.pk, package_id=charge.package_id, charge_id=charge.pk)
        )
    return lines


def _member_statement(
    project: Project,
    member: Company,
    lines: list[LineSpec],
    accepted_on: datetime.date,
    due: datetime.date,
) -> DocumentSpec:
    return DocumentSpec(
        kind=DocumentKind.STATEMENT,
        source_key=f"statement:project:{project.pk}:company:{member.pk}",
        network=project.network,
        issuer_company=member,
        recipient_company=project.lead,
        recipient_buyer=None,
        transaction_date=accepted_on,
        due_date=due,
        rounding=member.tax_rounding,
        lines=lines,
        project_id=project.pk,
    )


def settle_project(
    *,
    project: Project,
    run: SettlementRun,
    actor=None,
    facts: ProjectFacts | None = None,
    batch: IssueBatch | None = None,
) -> list[DocumentSpec]:
    """Issue an accepted project's documents (see `project_documents`): what is already
    issued for the same source is skipped; a recomputing run (reopened) replaces what
    changed. Returns the specs of the documents issued now.

    Preconditions: the project is accepted by the buyer; the run is its network's monthly
    close. Alone it runs in one transaction; the monthly close passes the `facts` it loaded
    for a batch of projects and a `batch` it writes in its own transaction."""
    if actor is not None:  # None: the scheduled job
        roles_of(actor).require_secretariat(
            project.network_id, _("Only the network's secretariat may run the settlement.")
        )
    if project.status != ProjectStatus.ACCEPTED or project.accepted_at is None:
        raise InvalidTransition(
            _("Project %(ref)s is not yet accepted by the buyer, so it cannot be settled.")
            % {"ref": project.inquiry.reference},
            field="project",
        )
    if run.kind != RunKind.MONTHLY_CLOSE or run.network_id != project.network_id:
        raise BrokerageError(_("Settle a project in its network's monthly close."), field="run")
    if facts is None:
        facts = load_project_facts([project.pk])[project.pk]
    specs = project_documents(project, facts)  # raises before any write
    if batch is not None:
        return batch.add(specs, facts.existing)
    batch = IssueBatch(run, actor)
    planned = batch.add(specs, facts.existing)
    with transaction.atomic():
        batch.flush()
    return planned
