from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        # Register the tasks in every process (web too): they are queued by name.
        from . import tasks  # noqa: F401
