"""Supported ORM only (issue 14): no module of the apps reaches into Django's private caches.
Filling a queryset's result cache or an instance's prefetch cache by hand breaks silently
on a Django upgrade; `Prefetch(to_attr=...)`, `prefetch_related_objects`, annotations and
passing the objects one already has do the same through the documented API."""

import ast
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.orders.test_inquiry_api import URL, body

ROOT = Path(__file__).resolve().parents[2]
APPS = ("brokerage", "members", "orders", "billing", "core", "config")
PRIVATE = {
    "_result_cache",
    "_prefetch_done",
    "_prefetched_objects_cache",
    "_known_related_objects",
    "fields_cache",
}


def _private_uses(source: str) -> list[tuple[int, str]]:
    """(line, name) of each attribute or string naming a private ORM cache."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Constant) and node.value in PRIVATE:
            found.append((node.lineno, node.value))  # __dict__["…"], getattr(x, "…")
    return found


def test_the_scan_sees_attributes_and_strings():
    source = (
        'qs._result_cache = []\ncache = obj.__dict__.setdefault("_prefetched_objects_cache", {})'
    )
    assert _private_uses(source) == [(1, "_result_cache"), (2, "_prefetched_objects_cache")]


def test_no_app_module_uses_private_orm_caches():
    uses = [
        f"{path.relative_to(ROOT).as_posix()}:{line}: {name}"
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
        for line, name in _private_uses(path.read_text(encoding="utf-8"))
    ]
    assert not uses, "private ORM internals (use Prefetch/annotations instead):\n" + "\n".join(uses)


def test_the_submission_answer_reads_nothing_back(api, network, buyer_user, buff, stainless):
    """What the private caches were for, kept with the supported API: after the inquiry's
    INSERT, answering the submission runs no SELECT at all (processes, attachments, stages
    and award included), so a submission costs the same number of queries as before."""
    client = api.as_(buyer_user)
    client.post(URL, body(network), format="json")  # fills Django's content-type cache
    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, body(network), format="json")
    assert response.status_code == 201, response.json()
    sql = [q["sql"] for q in queries.captured_queries]
    inserted = next(i for i, s in enumerate(sql) if s.startswith('INSERT INTO "orders_inquiry"'))
    assert not [s for s in sql[inserted:] if s.startswith("SELECT")]
