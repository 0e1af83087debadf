"""`make bench`: the platform's speed figures, on a throw-away database.

Runs on PostgreSQL when DATABASE_URL points there (the production case), on SQLite otherwise
(and says so in every result). The database is created for the run and dropped after it.
"""

import os
import sys

import django


def main(names: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    from . import api_reads, matching, notifications, record, settlement, submission

    benchmarks = {
        "matching": matching.run,
        "api_reads": api_reads.run,
        "submission": submission.run,
        "monthly_close": settlement.run,
        "notifications": notifications.run,
        "record": record.run,
    }
    selected = names or list(benchmarks)
    kind = (
        "production-like"
        if connection.vendor == "postgresql"
        else "embedded default; set DATABASE_URL for PostgreSQL"
    )
    print(f"database: {connection.vendor} ({kind})", file=sys.stderr)
    setup_test_environment()
    # Its own name, so a test run beside it is not disturbed; on SQLite a file, not memory:
    # the HTTP benchmarks' gunicorn processes open the same database.
    from django.conf import settings

    if connection.vendor == "sqlite":
        bench_name = str(settings.VAR_DIR / "bench.sqlite3")
    else:
        bench_name = f"bench_{connection.settings_dict['NAME']}"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = bench_name
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = bench_name
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        for name in selected:
            benchmarks[name]()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
