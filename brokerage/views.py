"""The inbox page: the user's own notifications, newest first; reading is a POST."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from members.pages import POST, SIGNED_IN, page

from . import selectors
from .context_processors import unread_notification_count
from .notifications import notification_mark_read

INBOX_PAGE_SIZE = 30


@page(SIGNED_IN)
def inbox(request):
    notifications = selectors.notification_list(viewer=request.user).order_by("-created_at", "-id")
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    page = Paginator(notifications, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "brokerage/inbox.html",
        {
            "page": page,
            "unread_only": unread_only,
            "querystring": "unread=1" if unread_only else "",
            "unread_notifications": unread_notification_count(request.user),
        },
    )


@page(
    SIGNED_IN,
    scope=lambda request: selectors.notification_list(viewer=request.user),
    methods=POST,
)
def notification_read(request, notification):
    """Mark one notification read; with `open`, go on to the page it links to."""
    notification_mark_read(actor=request.user, notification=notification)
    link = notification.link
    if "open" in request.POST and link and url_has_allowed_host_and_scheme(link, None):
        return redirect(link)
    return redirect(_back(request))


@page(SIGNED_IN, methods=POST)
def notification_read_all(request):
    unread = selectors.notification_list(viewer=request.user).filter(read_at__isnull=True)
    count = 0
    for notification in unread:
        notification_mark_read(actor=request.user, notification=notification)
        count += 1
    if count:
        messages.success(request, _("All notifications are marked as read."))
    return redirect(_back(request))


def _back(request) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return "inbox"
