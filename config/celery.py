import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("brokerage")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The default in every thread too, so core.queueing reaches this app through current_app
# without importing config (a lower layer may not).
app.set_default()
