from django.utils.functional import SimpleLazyObject

from .selectors import notification_list


def unread_notification_count(user):
    """The number of unread notifications, counted only if a template shows it."""
    if user is None or not user.is_authenticated:
        return 0
    return SimpleLazyObject(
        lambda: notification_list(viewer=user).filter(read_at__isnull=True).count()
    )


def unread(request):
    """The navigation's inbox badge."""
    return {"unread_notifications": unread_notification_count(getattr(request, "user", None))}
