"""Benchmark 3: inquiry submission by 20 concurrent buyers.

20 buyers, each signed in (session + CSRF), POST `/api/v1/inquiries/` to the same network
through gunicorn (2 sync workers, DEBUG=False, Redis as broker, a file e-mail backend), 400
submissions in all (BENCH_SUBMISSIONS). No Celery worker runs: notifications must be queued,
not sent inline — e-mails written during the load must be 0, DomainEvents = submissions, and
the dispatch tasks are waiting in Redis. Target: p95 ≤ 150 ms. Baseline, same server and
load: a bare view saving the same inquiry with raw SQL (bench/urls.py); the ratio compares
the back-to-back throughputs.

Two phases. "buyers" (the target): each buyer, like a person, reads the answer before the
next submission — a think time drawn uniformly from 0.5–1.5 s (seeded) — so 20 buyers offer
about 18 submissions a second, all 20 of them at once in flight at times. "saturation"
(reported, not a target): the same 20 with no think time, a closed loop that measures the
server's capacity; there the p95 is queueing, about 20 × (CPU per submission) / 2 cores.
"""

import datetime
import http.client
import json
import os
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

from django.utils import timezone

from .api_reads import BENCH_REDIS_URL, gunicorn, session_cookie
from .common import progress, report

BUYERS = 20
THINK_S = (0.5, 1.5)


def post(port, path, body: bytes, headers) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def redis_client():
    import redis

    return redis.Redis.from_url(BENCH_REDIS_URL)


def run() -> dict:
    from brokerage.models import Notification
    from core.models import DomainEvent
    from members.models import Buyer, Material, Network, NetworkStaff, Process, StaffRole, User
    from orders.models import Inquiry

    total = int(os.environ.get("BENCH_SUBMISSIONS", "400"))
    try:
        redis_client().ping()
    except Exception as exc:
        return report("submission", skipped=f"needs Redis at {BENCH_REDIS_URL}: {exc}", met=None)
    network = Network.objects.create(name="投稿網", slug="submit")
    staff = User.objects.create_user("sub-secretariat", "subsec@example.com", "x")
    NetworkStaff.objects.create(network=network, user=staff, role=StaffRole.SECRETARIAT)
    process = Process.objects.get_or_create(
        code="sub-buff", defaults={"name_ja": "バフ", "name_en": "buff", "sort_order": 1}
    )[0]
    material = Material.objects.get_or_create(
        code="sub-sus", defaults={"name_ja": "SUS", "name_en": "SUS", "sort_order": 1}
    )[0]
    buyers = []
    for n in range(BUYERS):
        user = User.objects.create_user(f"sub-buyer{n}", f"sb{n}@example.com", "x")
        Buyer.objects.create(user=user, kind="company", name=f"発注者{n}", email=user.email)
        buyers.append(user)
    events_before = DomainEvent.objects.count()
    queue_before = redis_client().llen("notifications")
    payload = {
        "network": network.pk,
        "title": "ステンレス製タンブラーの鏡面研磨",
        "description": "SUS304 タンブラー 500個、鏡面仕上げ",
        "material": material.code,
        "processes": [process.code],
        "finish_kind": "grit",
        "finish_grit": 400,
        "quantity": 500,
        "length_mm": 90,
        "width_mm": 90,
        "height_mm": 150,
        "weight_kg": "0.3",
        "desired_delivery_date": (timezone.localdate() + datetime.timedelta(days=60)).isoformat(),
        "delivery_prefecture": "13",
    }
    body = json.dumps(payload).encode()
    per_buyer = total // BUYERS
    mail_dir = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    sessions = [session_cookie(u) for u in buyers]
    raw_paths = [f"/bench/raw-submit/?buyer={u.buyer.pk}&user={u.pk}" for u in buyers]

    def phase(port, think: bool, raw: bool = False) -> dict:
        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()

        def buyer_loop(n, cookie, csrf, start_gate):
            rng = random.Random(n)
            headers = {
                "Cookie": cookie,
                "X-CSRFToken": csrf,
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
            start_gate.wait()
            for _ in range(per_buyer):
                t0 = time.perf_counter()
                path = raw_paths[n] if raw else "/api/v1/inquiries/"
                status, content = post(port, path, body, headers)
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    if status == 201:
                        latencies.append(ms)
                    else:
                        failures.append(f"{status} {content[:200]!r}")
                if think:
                    time.sleep(rng.uniform(*THINK_S))

        gate = threading.Barrier(BUYERS + 1)
        threads = [
            threading.Thread(target=buyer_loop, args=(n, c, t, gate))
            for n, (c, t) in enumerate(sessions)
        ]
        for t in threads:
            t.start()
        gate.wait()
        started = time.monotonic()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        latencies.sort()
        return {
            "submissions": len(latencies),
            "failures": len(failures),
            "first_failure": failures[0] if failures else None,
            "throughput_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "p95_ms": (round(latencies[int(len(latencies) * 0.95) - 1], 1) if latencies else None),
        }

    with gunicorn(workers=2, extra_env={"EMAIL_URL": f"filemail://{mail_dir}"}) as port:
        # Warm both workers (imports, connections) with one submission each, not counted.
        for (cookie, csrf), _ in zip(sessions[:2], range(2), strict=False):
            status, content = post(
                port,
                "/api/v1/inquiries/",
                body,
                {"Cookie": cookie, "X-CSRFToken": csrf, "Content-Type": "application/json"},
            )
            assert status == 201, content[:500]
        warm = 2
        progress(f"{BUYERS} buyers submitting {per_buyer * BUYERS} inquiries, thinking between")
        buyers_phase = phase(port, think=True)
        progress(f"{BUYERS} buyers submitting {per_buyer * BUYERS} more, back to back")
        saturation = phase(port, think=False)
        progress("baseline: the bare raw-SQL submission, the same two ways")
        raw_buyers = phase(port, think=True, raw=True)
        raw_saturation = phase(port, think=False, raw=True)
    submitted = buyers_phase["submissions"] + saturation["submissions"]
    emails_sent = len(list(mail_dir.iterdir()))
    events = DomainEvent.objects.count() - events_before - warm
    queued = redis_client().llen("notifications") - queue_before - warm
    notifications_sent = Notification.objects.filter(email_status="sent").count()
    raw_saved = Inquiry.objects.filter(network=network, reference__startswith="RAW-").count()
    saved = Inquiry.objects.filter(network=network).count() - warm - raw_saved
    redis_client().delete("notifications")  # the bench's dispatch tasks: no worker will take them
    p95 = buyers_phase["p95_ms"]
    return report(
        "submission",
        concurrent_buyers=BUYERS,
        think_time_s=list(THINK_S),
        server="gunicorn, 2 sync workers, DEBUG=False, Redis broker, no Celery worker",
        **buyers_phase,
        saturation=saturation,
        baseline="bare view: the same inquiry saved with raw SQL, no auth, checks or events",
        baseline_buyers=raw_buyers,
        baseline_saturation=raw_saturation,
        # The server's capacity against the floor's: the back-to-back throughputs.
        ratio_to_raw=(
            round(saturation["throughput_per_s"] / raw_saturation["throughput_per_s"], 2)
            if raw_saturation["throughput_per_s"]
            else None
        ),
        inquiries_saved=saved,
        domain_events_written=events,
        dispatch_tasks_queued_in_redis=queued,
        emails_sent_during_load=emails_sent,
        notifications_sent_during_load=notifications_sent,
        targets={
            "p95_ms": "<= 150 (buyers thinking between submissions)",
            "emails_sent_during_load": 0,
            "domain_events_written": "= submissions",
        },
        met=bool(
            p95 is not None
            and p95 <= 150
            and not buyers_phase["failures"]
            and not saturation["failures"]
            and raw_saved == raw_buyers["submissions"] + raw_saturation["submissions"]
            and emails_sent == 0
            and notifications_sent == 0
            and events == submitted == saved
        ),
    )
