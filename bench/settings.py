"""Settings of the gunicorn processes started by the benchmarks: the app's settings with a
bench-only URLconf (the app's URLs plus the bare baseline view). Never used in production."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
