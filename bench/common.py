import json
import sys


def progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def report(name: str, **figures) -> dict:
    """One JSON object per benchmark on stdout."""
    from django.db import connection

    result = {"benchmark": name, "database": connection.vendor, **figures}
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return result
