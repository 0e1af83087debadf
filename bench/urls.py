"""The app's URLs plus bare baseline views for benchmarks 2 and 3 (only in the bench's
gunicorn).

`raw-inquiries` returns a page of the secretariat's inquiries from one raw SQL query, with no
authentication, serializer or cursor signing, paged as the API is (keyset on (submitted_at,
id), newest first, one row more than the page to know whether another follows; `after` and
`after_id` give the position): the floor the real list is compared to.
`raw-submit` saves the same inquiry as a submission with raw SQL in one transaction (its
material and processes looked up, the row and its process links inserted), with no
authentication, validation, reference counter, audit trail or event: the floor of a
submission.
"""

import json
import uuid

from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from config.urls import handler404, handler500  # noqa: F401
from config.urls import urlpatterns as app_urlpatterns

RAW_SQL = """
SELECT i.id, i.reference, i.network_id, i.status, i.title, i.description, m.code,
       (SELECT {agg} FROM orders_inquiry_processes ip
          JOIN members_process p ON p.id = ip.process_id WHERE ip.inquiry_id = i.id),
       i.finish_kind, i.finish_grit, i.finish_ra_input, i.required_ra_um, i.quantity,
       i.lot_pattern, i.length_mm, i.width_mm, i.height_mm, i.weight_kg,
       i.desired_delivery_date, i.delivery_prefecture, i.delivery_city, i.budget_yen,
       i.nda_required, COALESCE(NULLIF(b.organisation, ''), b.name), i.submitted_at,
       i.published_at, i.application_deadline, i.award_mode, i.applications_opened_at,
       i.outcome_reason, i.closed_at, a.company_id, c.legal_name, a.status
  FROM orders_inquiry i
  JOIN members_material m ON m.id = i.material_id
  JOIN members_buyer b ON b.id = i.buyer_id
  LEFT JOIN orders_award a ON a.inquiry_id = i.id
  LEFT JOIN members_company c ON c.id = a.company_id
 WHERE i.network_id = %s{keyset}
 ORDER BY i.submitted_at DESC, i.id DESC
 LIMIT %s
"""
# The API's keyset condition after a row (its redundant first bound gives the index a start).
KEYSET = (
    " AND i.submitted_at <= %s AND (i.submitted_at < %s OR (i.submitted_at = %s AND i.id < %s))"
)
# The list's columns (InquiryListSerializer), the award's flat.
COLUMNS = [
    "id", "reference", "network", "status", "title", "description", "material", "processes",
    "finish_kind", "finish_grit", "finish_ra_input", "required_ra_um", "quantity",
    "lot_pattern", "length_mm", "width_mm", "height_mm", "weight_kg", "desired_delivery_date",
    "delivery_prefecture", "delivery_city", "budget_yen", "nda_required", "buyer_name",
    "submitted_at", "published_at", "application_deadline", "award_mode",
    "applications_opened_at", "outcome_reason", "closed_at", "award_company",
    "award_company_name", "award_status",
]  # fmt: skip


def raw_inquiries(request):
    agg = (
        "string_agg(p.code, ',' ORDER BY p.sort_order, p.code)"  # the processes' order
        if connection.vendor == "postgresql"
        else "group_concat(p.code)"
    )
    size = int(request.GET.get("page_size", 50))
    params, keyset = [int(request.GET["network"])], ""
    if "after" in request.GET:
        after, after_id = request.GET["after"], int(request.GET["after_id"])
        params, keyset = [*params, after, after, after, after_id], KEYSET
    with connection.cursor() as cursor:
        cursor.execute(RAW_SQL.format(agg=agg, keyset=keyset), [*params, size + 1])
        rows = [dict(zip(COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    more = len(rows) > size
    body = json.dumps({"more": more, "results": rows[:size]}, default=str, ensure_ascii=False)
    return HttpResponse(body, content_type="application/json")


SUBMIT_COLUMNS = (
    "network_id, reference, buyer_id, entered_by_id, status, title, description, material_id,"
    " finish_kind, finish_grit, quantity, lot_pattern, length_mm, width_mm, height_mm,"
    " weight_kg, desired_delivery_date, delivery_prefecture, delivery_city, nda_required,"
    " submitted_at, award_mode, outcome_reason, idempotency_key"
)


@csrf_exempt
def raw_submit(request):
    data = json.loads(request.body)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM members_material WHERE code = %s", [data["material"]])
        (material_id,) = cursor.fetchone()
        cursor.execute(
            "SELECT id FROM members_process WHERE code IN %s", [tuple(data["processes"])]
        )
        process_ids = [row[0] for row in cursor.fetchall()]
        values = [
            data["network"],
            f"RAW-{uuid.uuid4().hex[:24]}",
            int(request.GET["buyer"]),
            int(request.GET["user"]),
            "submitted",
            data["title"],
            data["description"],
            material_id,
            data["finish_kind"],
            data["finish_grit"],
            data["quantity"],
            "",
            data["length_mm"],
            data["width_mm"],
            data["height_mm"],
            data["weight_kg"],
            data["desired_delivery_date"],
            data["delivery_prefecture"],
            "",
            False,
            timezone.now(),
            "",
            "",
            "",
        ]
        placeholders = ", ".join(["%s"] * len(values))
        cursor.execute(
            f"INSERT INTO orders_inquiry ({SUBMIT_COLUMNS}) VALUES ({placeholders}) RETURNING id",  # noqa: S608 - constant columns, placeholders
            values,
        )
        (inquiry_id,) = cursor.fetchone()
        cursor.executemany(
            "INSERT INTO orders_inquiry_processes (inquiry_id, process_id) VALUES (%s, %s)",
            [(inquiry_id, p) for p in process_ids],
        )
    return JsonResponse({"id": inquiry_id}, status=201)


urlpatterns = [
    path("bench/raw-inquiries/", raw_inquiries),
    path("bench/raw-submit/", raw_submit),
    *app_urlpatterns,
]
