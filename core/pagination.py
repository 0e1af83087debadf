"""Pagination of the API lists and the pages.

Two kinds, chosen by how a list grows:

- `KeysetPagination` (cursor) for the lists that grow with trade and without bound:
  inquiries, applications, notifications and documents (the partner feed has its own cursor).
  A page is `WHERE (ordering keys) beyond the last row ORDER BY … LIMIT n + 1`: no count, no
  offset, the same cost on page 1 and page 5,000, and a row inserted while a client walks the
  list is never shown twice nor makes another row skip.
- `Pagination` (page numbers, exact `count`) for the bounded lists (a network's companies,
  capabilities, memberships, projects …), and `ExactPaginator` for the pages' page numbers.
  Counts are always exact: nothing is remembered between requests.
"""

from django.core import signing
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param


class Pagination(pagination.PageNumberPagination):
    """Pages of 50 by default; a client may ask for up to 200. The count is exact."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ExactPaginator(Paginator):
    """Django's paginator counting the filtered base table only: the list's `select_related`
    joins, prefetches and ordering are dropped from the count (the filter's own joins stay).
    Exact on every request."""

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if hasattr(object_list, "select_related"):
            object_list = object_list.select_related(None).prefetch_related(None).order_by()
        return object_list.count()


class KeysetPagination(pagination.BasePagination):
    """Cursor (keyset) pagination over the list's ordering, ended by a unique key (`id`).

    The ordering is the queryset's (the model's default, or what `?ordering=` chose); `id` is
    appended if missing. The cursor is the last row's ordering values, signed (opaque, and a
    changed or forged cursor is refused with 400 naming `cursor`), and bound to the ordering
    it was made for. Nullable ordering fields sort their empty values last in both directions.

    `paginate_queryset(…, rows=f)` lets a view turn the sliced queryset into its own rows (a
    list of dicts or objects carrying the ordering fields).
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    cursor_query_param = "cursor"
    salt = "core.pagination.keyset"
    invalid_cursor_message = _("This cursor is not valid for this list; start again without it.")

    def paginate_queryset(self, queryset, request, view=None, rows=None):
        self.request = request
        self.page_size = self._page_size(request)
        ordering = self._ordering(queryset)
        fields = [self._field(queryset.model, name.lstrip("-")) for name in ordering]
        position = self._decode(request, ordering, fields)
        queryset = queryset.order_by(*self._order_by(ordering, fields))
        if position is not None:
            queryset = queryset.filter(self._beyond(ordering, fields, position))
        sliced = queryset[: self.page_size + 1]
        items = list(rows(sliced) if rows is not None else sliced)
        self.has_next = len(items) > self.page_size
        items = items[: self.page_size]
        self.next_cursor = (
            self._encode(ordering, [_value(items[-1], n.lstrip("-")) for n in ordering])
            if self.has_next
            else None
        )
        return items

    def get_next_link(self):
        if self.next_cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self.next_cursor)

    def get_first_link(self):
        url = self.request.build_absolute_uri()
        return remove_query_param(url, self.cursor_query_param)

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page (same filters, the cursor set); null on the "
                    "last page.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": (
                    "Opaque position from the previous page's `next` link; absent for the "
                    "first page. A cursor made for another ordering, or altered, answers 400."
                ),
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (default {self.page_size}, at most "
                f"{self.max_page_size}).",
                "schema": {"type": "integer"},
            },
        ]

    # --- internals ---------------------------------------------------------------------

    def _page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            return self.page_size
        return min(size, self.max_page_size) if size > 0 else self.page_size

    @staticmethod
    def _ordering(queryset) -> list[str]:
        ordering = list(queryset.query.order_by or queryset.model._meta.ordering)
        if not all(isinstance(term, str) for term in ordering):
            raise ImproperlyConfigured("Keyset pagination orders by field names only.")
        ordering = ["id" if t == "pk" else "-id" if t == "-pk" else t for t in ordering]
        if not any(t.lstrip("-") == "id" for t in ordering):
            ordering.append("-id" if ordering and ordering[0].startswith("-") else "id")
        # Whatever follows the unique key cannot change the order.
        return ordering[: [t.lstrip("-") for t in ordering].index("id") + 1]

    @staticmethod
    def _field(model, name: str):
        try:
            return model._meta.get_field(name)
        except FieldDoesNotExist:
            raise ImproperlyConfigured(f"Keyset pagination: {name} is no field") from None

    @staticmethod
    def _order_by(ordering, fields):
        terms = []
        for term, field in zip(ordering, fields, strict=True):
            name = term.lstrip("-")
            if not field.null:
                terms.append(term)  # plain, so the list's index serves the order
            elif term.startswith("-"):
                terms.append(F(name).desc(nulls_last=True))
            else:
                terms.append(F(name).asc(nulls_last=True))
        return terms

    @staticmethod
    def _beyond(ordering, fields, position) -> Q:
        """Rows after `position` in `ordering` (empty values last), as a filter."""
        condition = None
        # Built from the last key outwards: beyond = k1 beyond | (k1 equal & rest beyond).
        for term, field, value in reversed(list(zip(ordering, fields, position, strict=True))):
            name = term.lstrip("-")
            op = "lt" if term.startswith("-") else "gt"
            if value is None:
                equal, after = Q(**{f"{name}__isnull": True}), None
            else:
                equal = Q(**{name: value})
                after = Q(**{f"{name}__{op}": value})
                if field.null:
                    after |= Q(**{f"{name}__isnull": True})
            if condition is None:  # the unique key: strictly beyond, never the row itself
                condition = after if after is not None else Q(pk__in=[])
                continue
            tie = equal & condition
            condition = tie if after is None else after | tie
        first, value = ordering[0], position[0]
        if value is not None and not fields[0].null:
            # Redundant, but an index range the database can start from.
            op = "lte" if first.startswith("-") else "gte"
            condition &= Q(**{f"{first.lstrip('-')}__{op}": value})
        return condition

    def _encode(self, ordering, values) -> str:
        return signing.dumps([ordering, [_plain(v) for v in values]], salt=self.salt)

    def _decode(self, request, ordering, fields):
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return None
        try:
            made_for, values = signing.loads(raw, salt=self.salt)
            if made_for != ordering or len(values) != len(fields):
                raise ValueError("cursor of another ordering")
            return [
                None if v is None else field.to_python(v)
                for field, v in zip(fields, values, strict=True)
            ]
        except (signing.BadSignature, ValueError, TypeError, DjangoValidationError):
            raise ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}, code="invalid"
            ) from None


def _value(row, name: str):
    return row[name] if isinstance(row, dict) else getattr(row, name)


def _plain(value):
    """A cursor value as JSON: full precision (DjangoJSONEncoder would cut microseconds)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
