import datetime

from django.utils import timezone


def pass_deadline(inquiry):
    """Move the clock past the deadline by moving the deadline into the past."""
    type(inquiry).objects.filter(pk=inquiry.pk).update(
        application_deadline=timezone.now() - datetime.timedelta(seconds=1)
    )
    inquiry.refresh_from_db()
    return inquiry
