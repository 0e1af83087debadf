from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing and settlement")

    def ready(self):
        # Register the tasks in every process (web too): billing.enqueue queues them by name.
        from . import tasks  # noqa: F401
