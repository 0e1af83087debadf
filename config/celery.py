import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("brokerage")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each installed app's tasks.py (brokerage, billing, orders): found here by the workers, and
# imported by the app's AppConfig.ready in every process, since lower layers queue tasks by
# name (core.queueing). A task keeps its `name=` when it moves between apps.
app.autodiscover_tasks()
# The default in every thread too, so core.queueing reaches this app through current_app
# without importing config (a lower layer may not).
app.set_default()
