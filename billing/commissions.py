"""The month's commissions (手数料): the network's share of each company's sales in its first
months in the network, billed by the network to the company at the end of the monthly close."""

import datetime
from collections import defaultdict

from django.db import transaction
from django.db.models import Min

from members.models import Company, Membership, Network

from . import runs, tax, terms
from .issuing import DocumentSpec, LineSpec, issue_now
from .models import COMPANY_ISSUED, Document, DocumentKind, DocumentStatus, SettlementRun
from .periods import local_date, month_end
from .settlement import month_projects

# project id → (lead id, accepted at, reference)
MonthProjects = dict[int, tuple[int, datetime.datetime, str]]
# company id → [(project id, sales in yen)]
Sales = dict[int, list[tuple[int, int]]]


def commission_documents(run: SettlementRun) -> list[DocumentSpec]:
    """The month's commissions: for each company, the network's basis points of its sales in
    each project of the month while it is within `commission_months` of joining the network
    (its earliest membership's joined_on) on the project's acceptance date: accepted_on <
    joined_on + commission_months. A member's sales are its statement subtotals; the lead's,
    its invoice subtotal less its team's statement subtotals. Each line is rounded down; one
    document per company with a line per project. 0 basis points or 0 months: none."""
    network = run.network
    if not network.commission_basis_points or not network.commission_months:
        return []
    projects = _month_projects(network, run.period)
    sales = _month_sales(run, projects)
    lines = _commission_lines(network, projects, sales)
    period_end = month_end(run.period)
    due = terms.network_due_date(period_end)
    companies = Company.objects.in_bulk(list(lines))
    return [
        DocumentSpec(
            kind=DocumentKind.COMMISSION,
            source_key=f"commission:{run.period:%Y-%m}:company:{company_id}",
            network=network,
            issuer_company=None,
            recipient_company=companies[company_id],
            recipient_buyer=None,
            transaction_date=period_end,
            due_date=due,
            rounding=tax.DEFAULT_ROUNDING,
            lines=company_lines,
        ).prepare()
        for company_id, company_lines in lines.items()
    ]


def _month_projects(network: Network, period: datetime.date) -> MonthProjects:
    """The month's accepted projects (those the close settled), as plain rows."""
    return {
        pk: (lead_id, accepted_at, reference)
        for pk, lead_id, accepted_at, reference in month_projects(network, period)
        .order_by()
        .values_list("pk", "lead_id", "accepted_at", "inquiry__reference")
        .iterator(chunk_size=2000)
    }


def _month_sales(run: SettlementRun, projects: MonthProjects) -> Sales:
    """Each company's sales per project, from the documents the run issued: a member's are
    its statement subtotals, the lead's its invoice subtotal less its team's."""
    invoiced: dict[int, int] = {}
    team: dict[int, dict[int, int]] = defaultdict(dict)
    issued = (
        Document.objects.filter(run=run, status=DocumentStatus.ISSUED, kind__in=COMPANY_ISSUED)
        .order_by()
        .values_list("project_id", "kind", "issuer_company_id", "subtotal_yen")
    )
    for project_id, kind, issuer_id, subtotal in issued.iterator(chunk_size=2000):
        if project_id not in projects:
            continue
        if kind == DocumentKind.INVOICE:
            invoiced[project_id] = subtotal
        else:
            team[project_id][issuer_id] = subtotal
    sales: Sales = defaultdict(list)
    for project_id, subtotal in invoiced.items():
        statements = team.get(project_id, {})
        sales[projects[project_id][0]].append((project_id, subtotal - sum(statements.values())))
        for company_id, amount in statements.items():
            sales[company_id].append((project_id, amount))
    return sales


def _commission_lines(
    network: Network, projects: MonthProjects, sales: Sales
) -> dict[int, list[LineSpec]]:
    """A line per company and project still within the company's commission window."""
    points, months = network.commission_basis_points, network.commission_months
    joined = dict(
        Membership.objects.filter(network=network, company_id__in=list(sales))
        .order_by()
        .values("company_id")
        .annotate(first=Min("joined_on"))
        .values_list("company_id", "first")
    )
    lines: dict[int, list[LineSpec]] = {}
    for company_id in sorted(sales):
        if company_id not in joined:
            continue
        window_end = terms.add_months(joined[company_id], months)
        for project_id, amount in sorted(sales[company_id]):
            _lead, accepted_at, reference = projects[project_id]
            if amount <= 0 or local_date(accepted_at) >= window_end:
                continue
            commission = tax.round_yen(amount * points, 10_000, tax.RoundingMode.DOWN)
            if commission < 1:
                continue
            line = tax.Line(
                f"{reference} 手数料 売上 ¥{amount:,} × {points / 100:g}%",
                quantity=1,
                unit_price_yen=commission,
                tax_rate=tax.STANDARD_RATE,
            )
            lines.setdefault(company_id, []).append(LineSpec(line, project_id=project_id))
    return lines


def commissions_issue(run: SettlementRun, actor) -> None:
    """Issue (or, recomputing, replace) the month's commission documents in one transaction;
    a recomputing run cancels the commissions no longer due."""
    specs = commission_documents(run)
    with transaction.atomic():
        locked = runs.lock_running(run)
        existing = Document.objects.filter(
            network_id=run.network_id,
            kind=DocumentKind.COMMISSION,
            status=DocumentStatus.ISSUED,
            source_key__startswith=f"commission:{run.period:%Y-%m}:",
        )
        issue_now(locked, actor, specs, existing)
