"""Integrity checks of settlement data the database does not enforce (docs/integrity.md).

A document line's links to the project, package and charge it bills carry no foreign-key
constraint (the checks were a third of the monthly close). Django's PROTECT on them still
refuses every ORM delete of a linked row, and nothing in the platform deletes projects,
packages or charges; only SQL around the application can leave a line pointing at nothing.
`document_lines_dangling` finds such lines; `manage.py billing_check_integrity` and the daily
job (brokerage.integrity) report them.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, QuerySet

from orders.models import MemberCharge, Project, WorkPackage

from .models import DocumentLine

# The links checked: the line's field and the model it points at.
LINE_LINKS = (("project", Project), ("package", WorkPackage), ("charge", MemberCharge))


@dataclass(frozen=True)
class DanglingLine:
    """A document line whose `link` (project, package or charge) `missing_id` is gone."""

    link: str
    line_id: int
    document_id: int
    document_number: str
    network_id: int
    missing_id: int


def _dangling(link: str, model) -> QuerySet[DocumentLine]:
    """One anti-join over the lines table; the linked table's primary key serves it (no
    index on the lines is needed)."""
    column = f"{link}_id"
    return DocumentLine.objects.filter(**{f"{column}__isnull": False}).filter(
        ~Exists(model.objects.filter(pk=OuterRef(column)))
    )


def document_lines_dangling_counts() -> dict[int, dict[str, int]]:
    """Per network (of the line's document): how many of its lines point at a missing
    project, package or charge. Empty when the data is sound."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for link, model in LINE_LINKS:
        rows = (
            _dangling(link, model)
            .order_by()
            .values_list("document__network_id")
            .annotate(n=Count("pk"))
        )
        for network_id, n in rows:
            counts[network_id][link] = n
    return dict(sorted(counts.items()))


def document_lines_dangling(*, limit: int | None = None) -> list[DanglingLine]:
    """Document lines whose project, package or charge no longer exists, by link and line;
    at most `limit` per link (None: all)."""
    found: list[DanglingLine] = []
    for link, model in LINE_LINKS:
        rows = (
            _dangling(link, model)
            .order_by("pk")
            .values_list(
                "pk", "document_id", "document__number", "document__network_id", f"{link}_id"
            )
        )
        found += [DanglingLine(link, *row) for row in (rows if limit is None else rows[:limit])]
    return found
