"""The monthly close writes documents by a faster path than a project settled on its own
(on PostgreSQL: COPY of CSV rendered while the next chunk is planned): both must store
exactly the same documents, whatever the text holds."""

from billing import settlement
from billing.models import Document, RunKind, SettlementRun
from orders.models import Inquiry, WorkPackage
from tests.billing.books import OCTOBER, Books, tokyo
from tests.factories import NetworkFactory

AWKWARD = 'a,"b" \\N c\\d\n2行目\t'


def projects_with_awkward_text(books: Books) -> list:
    lead = books.lead_user()
    member = books.company_user()
    projects = []
    for i in range(3):
        project = books.project(
            lead=lead,
            accepted_at=tokyo(2026, 10, 1 + i, 12),
            packages=[{"member": member, "quantity": 4 + i, "unit_price": 1_250}],
        )
        Inquiry.objects.filter(pk=project.inquiry_id).update(title=f"{AWKWARD}{i}")
        package = WorkPackage.objects.get(project=project)
        books.charge(package, 7 * (i + 1), by=lead, reason=AWKWARD)
        projects.append(project)
    return projects


def stored(network) -> list[tuple]:
    rows = []
    documents = Document.objects.filter(network=network, project__isnull=False)
    for d in documents.order_by("project__inquiry__title", "kind", "issuer_name"):
        rows.append(
            (
                d.kind,
                d.status,
                d.issuer_name,
                d.recipient_name,
                d.issuer_unregistered,
                d.transaction_date,
                d.due_date,
                d.rounding,
                d.subtotal_yen,
                d.tax_yen,
                d.total_yen,
                d.cancel_reason,
                d.team_pay_due,
                d.replaces_id,
                [
                    # Without the project's reference, which differs between networks.
                    (n.position, n.description.split(" ", 1)[1], n.quantity, n.unit_price_yen)
                    for n in d.lines.order_by("position")
                ],
                list(d.tax_lines.values_list("rate", "taxable_yen", "tax_yen")),
            )
        )
    return rows


def test_the_close_stores_what_settling_each_project_stores(books, buff, stainless):
    projects_with_awkward_text(books)
    twin = Books(NetworkFactory(slug="twin-writes"), buff, stainless)
    projects_with_awkward_text(twin)

    assert books.close().status == "completed"
    run = SettlementRun.objects.create(
        network=twin.network, kind=RunKind.MONTHLY_CLOSE, period=OCTOBER, progress_total=3
    )
    twin_projects = settlement.month_projects(twin.network, OCTOBER).select_related(
        "lead", "inquiry__buyer", "network"
    )
    for project in twin_projects.order_by("pk"):
        settlement.settle_project(project=project, run=run)

    closed, settled = stored(books.network), stored(twin.network)
    assert len(closed) == 6
    assert any(AWKWARD in line[1] for row in closed for line in row[14])
    # Names differ by network only where the companies do; compare everything else.
    strip = [(row[0], row[1], *row[4:]) for row in closed]
    assert strip == [(row[0], row[1], *row[4:]) for row in settled]
