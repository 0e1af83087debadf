from django.db.models import QuerySet

from .models import Notification


def notification_list(*, viewer) -> QuerySet[Notification]:
    """A user's own inbox; nobody reads another's."""
    if not viewer.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=viewer)
