from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BrokerageConfig(AppConfig):
    name = "brokerage"
    verbose_name = _("Brokerage")

    def ready(self):
        # Register the tasks in every process (web too), not only in workers where Celery's
        # lazy autodiscovery runs: lower layers queue them by name (core.events).
        from . import tasks  # noqa: F401
