"""Benchmark 2: API reads under gunicorn.

100,000 inquiries over four networks and every status (a tenth awarded, with their
applications); the secretariat of the largest network lists `/api/v1/inquiries/?page_size=50`
(the first page) and a page 20 pages deep (the `next` cursor of page 19) through gunicorn with
2 sync workers (as in production, DEBUG=False), each loaded for BENCH_DURATION seconds
(default 30) by a small threaded http.client generator, in turns with the baseline: a bare
Django view in the same gunicorn returning the same rows and columns as the list
(bench/urls.py) from one raw SQL query with the same keyset (position, LIMIT page + 1).
The list is paged by keyset: no count, cached or not.
Targets: ratio of requests/s to the bare view ≥ 0.5 on both pages; queries per request equal
for page sizes 10 and 50 and for a cursor page.

Also home of the helpers the HTTP benchmarks share (gunicorn subprocess, sessions, load).
"""

import datetime
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import threading
import time
import urllib.parse
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from .common import progress, report

N_INQUIRIES = int(os.environ.get("BENCH_INQUIRIES", "100000"))
BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"


def duration() -> float:
    return float(os.environ.get("BENCH_DURATION", "30"))


# --- shared helpers --------------------------------------------------------------------


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(workers: int = 2, extra_env: dict | None = None):
    """gunicorn on a free 127.0.0.1 port against the throw-away database, production-like
    (DEBUG=False, persistent connections), with the bench URLconf. Yields the port."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url(),
        "DEBUG": "False",
        "SECRET_KEY": settings.SECRET_KEY,  # the sessions made here must verify there
        "ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_URL": BENCH_REDIS_URL,
        "SECURE_SSL_REDIRECT": "False",  # plain http on loopback, no TLS proxy
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    proc = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn, fixed arguments
        [
            str(BASE_DIR / ".venv" / "bin" / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _ = get(port, "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def session_cookie(user) -> str:
    """A signed-in session for `user` (cookie header value), with a CSRF cookie."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils.crypto import get_random_string

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "members.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    csrf = get_random_string(32)
    return f"sessionid={store.session_key}; csrftoken={csrf}", csrf


def get(port: int, path: str, headers: dict | None = None, timeout: float = 30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def load(port: int, path: str, headers: dict, seconds: float, concurrency: int) -> dict:
    """GET `path` from `concurrency` threads for `seconds`: requests/s, p50/p95 ms, errors."""
    return _summary(*_measure(port, path, headers, seconds, concurrency))


def load_alternating(
    port: int, targets: dict, seconds: float, concurrency: int, rounds: int = 5
) -> dict:
    """`load` for each of `targets` ({name: (path, headers)}), `seconds` each in all, in turns
    of seconds/rounds: on a shared machine a burst of other work then falls on all of them
    alike instead of skewing their ratio (one after the other it swung 0.2-0.6)."""
    measured = {name: ([], 0, 0.0) for name in targets}
    for _ in range(rounds):
        for name, (path, headers) in targets.items():
            latencies, errors, elapsed = _measure(
                port, path, headers, seconds / rounds, concurrency
            )
            total = measured[name]
            measured[name] = (total[0] + latencies, total[1] + errors, total[2] + elapsed)
    return {name: _summary(*m) for name, m in measured.items()}


def _measure(port, path, headers, seconds, concurrency) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client():
        mine, bad = [], 0
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            try:
                status, _ = get(port, path, headers)
            except OSError:
                status = 0
            if status == 200:
                mine.append((time.perf_counter() - t0) * 1000)
            else:
                bad += 1
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0], time.monotonic() - started


def _summary(latencies: list[float], errors: int, elapsed: float) -> dict:
    latencies = sorted(latencies)
    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1) if latencies else None,
        "errors": errors,
    }


# --- data ------------------------------------------------------------------------------


def build(rng: random.Random):
    from members.models import (
        Buyer,
        Company,
        Material,
        Network,
        NetworkStaff,
        Process,
        StaffRole,
        User,
    )
    from orders.models import Application, Award, Inquiry, InquiryStatus

    # Built once per run: the order record's benchmark reads the same inquiries.
    built = list(Network.objects.filter(slug__startswith="reads").order_by("slug"))
    if built:
        return built, User.objects.get(username="bench-secretariat")
    networks = [Network.objects.create(name=f"読取網{n}", slug=f"reads{n}") for n in range(4)]
    processes = [
        Process.objects.get_or_create(
            code=f"rd-p{i}", defaults={"name_ja": f"p{i}", "name_en": f"p{i}", "sort_order": i}
        )[0]
        for i in range(8)
    ]
    materials = [
        Material.objects.get_or_create(
            code=f"rd-m{i}", defaults={"name_ja": f"m{i}", "name_en": f"m{i}", "sort_order": i}
        )[0]
        for i in range(6)
    ]
    secretariat = User.objects.create_user("bench-secretariat", "sec@example.com", "x")
    NetworkStaff.objects.create(network=networks[0], user=secretariat, role=StaffRole.SECRETARIAT)
    buyer_users = User.objects.bulk_create(
        [User(username=f"rd-buyer{n}", email=f"rb{n}@example.com") for n in range(500)]
    )
    buyers = Buyer.objects.bulk_create(
        [
            Buyer(user=u, kind="company", name=f"発注者{n}", email=u.email)
            for n, u in enumerate(buyer_users)
        ]
    )
    companies = Company.objects.bulk_create(
        [
            Company(legal_name=f"読取研磨{n}", legal_name_kana=f"ヨミトリ{n}", prefecture="15")
            for n in range(200)
        ]
    )
    lead_user = User.objects.create_user("rd-lead", "lead@example.com", "x")
    statuses = [s for s, _ in InquiryStatus.choices]
    weights = [8, 2, 1, 10, 5, 1, 10, 8, 3, 2]  # most history is awarded, open or declined
    now = timezone.now()
    Through = Inquiry.processes.through
    batch = 5000
    for start in range(0, N_INQUIRIES, batch):
        rows = []
        for n in range(start, start + batch):
            buyer = rng.choice(buyers)
            status = rng.choices(statuses, weights)[0]
            rows.append(
                Inquiry(
                    network=networks[0] if rng.random() < 0.55 else rng.choice(networks[1:]),
                    reference=f"RD-{n:07d}",
                    buyer=buyer,
                    entered_by_id=buyer.user_id,
                    status=status,
                    title=f"部品{n}の鏡面研磨",
                    description="SUS304 タンブラー、鏡面仕上げ。" * rng.randint(1, 4),
                    material=rng.choice(materials),
                    finish_kind="grit",
                    finish_grit=rng.choice([240, 400, 800]),
                    quantity=rng.randint(1, 5000),
                    length_mm=rng.randint(10, 2000),
                    width_mm=rng.randint(10, 1000),
                    height_mm=rng.randint(5, 500),
                    weight_kg=Decimal(rng.randint(1, 5000)) / 10,
                    desired_delivery_date=datetime.date(2026, 1, 1)
                    + datetime.timedelta(days=rng.randint(0, 700)),
                    delivery_prefecture=f"{rng.randint(1, 47):02d}",
                    published_at=now if status in ("open", "evaluation", "awarded") else None,
                )
            )
        made = Inquiry.objects.bulk_create(rows)
        # submitted_at is auto_now_add: spread it over three years afterwards, as history is.
        Through.objects.bulk_create(
            [
                Through(inquiry_id=i.pk, process_id=p.pk)
                for i in made
                for p in rng.sample(processes, rng.randint(1, 3))
            ]
        )
        awarded = [i for i in made if i.status == "awarded"]
        apps = Application.objects.bulk_create(
            [
                Application(
                    inquiry=i,
                    company=rng.choice(companies),
                    submitted_by=lead_user,
                    price_yen=rng.randint(10_000, 5_000_000),
                    lead_time_days=rng.randint(3, 60),
                )
                for i in awarded
            ]
        )
        Award.objects.bulk_create(
            [
                Award(
                    inquiry=a.inquiry,
                    application=a,
                    company=a.company,
                    mode="coordination",
                    status="confirmed",
                    reason="調整",
                )
                for a in apps
            ]
        )
        progress(f"inquiries: {start + batch:,}/{N_INQUIRIES:,}")
    with connection.cursor() as cursor:
        # submitted_at is auto_now_add: spread it over three years, as history is.
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE orders_inquiry"
                " SET submitted_at = now() - random() * 94608000 * interval '1 second'"
            )
            # What autovacuum does to a live table: drop the dead rows of that UPDATE, mark the
            # visibility map (index-only counts) and refresh the statistics.
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute(
                "UPDATE orders_inquiry SET submitted_at = "
                "datetime('now', '-' || (abs(random()) % 94608000) || ' seconds')"
            )
    return networks, secretariat


def queries_per_request(user, page_size: int, *, cursor_page: bool = False) -> int:
    from rest_framework.test import APIClient

    client = APIClient()
    # A session, as in production: the user and its roles are read again for each request.
    client.force_login(user)
    path = f"/api/v1/inquiries/?page_size={page_size}"
    first = client.get(path)  # warm
    if cursor_page:
        path = first.json()["next"]
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


DEEP_PAGES = 20


def _path(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.path}?{parts.query}"


def deep_paths(port: int, headers: dict, network_id: int) -> tuple[str, str]:
    """The API path of page DEEP_PAGES (following `next`) and the bare view's path for the
    same page (after the last row of the page before it)."""
    from orders.models import Inquiry

    path, last_id = "/api/v1/inquiries/?page_size=50", None
    for _ in range(DEEP_PAGES - 1):
        status, body = get(port, path, headers)
        assert status == 200, body[:500]
        page = json.loads(body)
        last_id, path = page["results"][-1]["id"], _path(page["next"])
    after = Inquiry.objects.get(pk=last_id).submitted_at.isoformat()
    query = urllib.parse.urlencode(
        {"network": network_id, "page_size": 50, "after": after, "after_id": last_id}
    )
    return path, f"/bench/raw-inquiries/?{query}"


def run() -> dict:
    rng = random.Random(20261126)
    networks, secretariat = build(rng)
    from orders.models import Inquiry

    visible = Inquiry.objects.filter(network=networks[0]).count()
    q10 = queries_per_request(secretariat, 10)
    q50 = queries_per_request(secretariat, 50)
    q_cursor = queries_per_request(secretariat, 50, cursor_page=True)
    cookie, _csrf = session_cookie(secretariat)
    headers = {"Cookie": cookie, "Accept": "application/json"}
    api_path = "/api/v1/inquiries/?page_size=50"
    raw_path = f"/bench/raw-inquiries/?network={networks[0].pk}&page_size=50"
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "4"))
    seconds = duration()
    with gunicorn(workers=2) as port:
        api_deep, raw_deep = deep_paths(port, headers, networks[0].pk)
        targets = {
            "api": (api_path, headers),
            "raw": (raw_path, {}),
            "api_deep": (api_deep, headers),
            "raw_deep": (raw_deep, {}),
        }
        for api_name, raw_name in (("api", "raw"), ("api_deep", "raw_deep")):
            status, body = get(port, *targets[api_name])
            assert status == 200, body[:500]
            page = json.loads(body)
            status, body = get(port, *targets[raw_name])
            raw_page = json.loads(body)
            assert [r["id"] for r in page["results"]] == [r["id"] for r in raw_page["results"]], (
                f"the bare view returns other rows ({api_name})"
            )
            assert (page["next"] is not None) == raw_page["more"]
        for path, hdr in targets.values():  # warm both workers
            load(port, path, hdr, 2, concurrency)
        progress(
            f"loading the API endpoint and the bare raw-SQL view, first page and page"
            f" {DEEP_PAGES}, {seconds:.0f} s each in turns ({concurrency} clients)"
        )
        measured = load_alternating(port, targets, seconds, concurrency)
        api, raw = measured["api"], measured["raw"]
        deep, raw_deep_rps = measured["api_deep"], measured["raw_deep"]
    ratio = round(api["rps"] / raw["rps"], 2) if raw["rps"] else None
    ratio_deep = round(deep["rps"] / raw_deep_rps["rps"], 2) if raw_deep_rps["rps"] else None
    return report(
        "api_reads",
        inquiries=N_INQUIRIES,
        visible_to_secretariat=visible,
        endpoint=api_path,
        server="gunicorn, 2 sync workers, DEBUG=False",
        load=f"{concurrency} threaded http.client clients, {seconds:.0f} s each in 5 turns",
        api_rps=api["rps"],
        api_p50_ms=api["p50_ms"],
        api_p95_ms=api["p95_ms"],
        api_errors=api["errors"],
        raw_rps=raw["rps"],
        raw_p95_ms=raw["p95_ms"],
        ratio_to_raw=ratio,
        deep_page=DEEP_PAGES,
        deep_api_rps=deep["rps"],
        deep_api_p95_ms=deep["p95_ms"],
        deep_api_errors=deep["errors"],
        deep_raw_rps=raw_deep_rps["rps"],
        deep_ratio_to_raw=ratio_deep,
        queries_page_10=q10,
        queries_page_50=q50,
        queries_cursor_page=q_cursor,
        pagination="keyset (cursor), no count",
        targets={
            "ratio_to_raw": ">= 0.5",
            "deep_ratio_to_raw": ">= 0.5",
            "queries_page_10 == queries_page_50 == queries_cursor_page": True,
        },
        met=bool(
            ratio
            and ratio >= 0.5
            and ratio_deep
            and ratio_deep >= 0.5
            and q10 == q50 == q_cursor
            and api["errors"] == deep["errors"] == 0
        ),
    )
