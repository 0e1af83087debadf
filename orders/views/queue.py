"""The staff's lists: the secretariat's queue by status, the steering committee's."""

from django.db.models import Count
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.pagination import ExactPaginator
from members import selectors as member_selectors
from members.pages import (
    COMMITTEE,
    STAFF,
    page,
)
from members.permissions import roles_of

from .. import selectors
from ..models import (
    INQUIRY_OUTCOMES,
)
from .common import (
    QUEUE_PAGE_SIZE,
    S,
    _render,
)

QUEUE_TABS = [
    (
        "active",
        gettext_lazy("In progress"),
        (S.SUBMITTED, S.QUESTION, S.COMMITTEE, S.OPEN, S.EVALUATION, S.STAGED),
    ),
    ("submitted", gettext_lazy("Received"), (S.SUBMITTED,)),
    ("question", gettext_lazy("Waiting for answer"), (S.QUESTION,)),
    ("committee", gettext_lazy("With the committee"), (S.COMMITTEE,)),
    ("open", gettext_lazy("Open for applications"), (S.OPEN,)),
    ("evaluation", gettext_lazy("Closed: choose the lead"), (S.EVALUATION,)),
    ("staged", gettext_lazy("Split into stages"), (S.STAGED,)),
    ("done", gettext_lazy("Done"), tuple(INQUIRY_OUTCOMES)),
]


def _tabbed(inquiries, tab: str):
    """The tabs with their counts, and the inquiries of the chosen tab in its order."""
    counts = dict(
        inquiries.prefetch_related(None)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    if tab not in {key for key, _label, _s in QUEUE_TABS}:
        raise Http404
    tabs = []
    for key, label, statuses in QUEUE_TABS:
        tabs.append({"key": key, "label": label, "count": sum(counts.get(s, 0) for s in statuses)})
        if key == tab:
            inquiries = inquiries.filter(status__in=statuses)
    inquiries = inquiries.order_by("application_deadline", "submitted_at", "id")
    if tab == "done":
        inquiries = inquiries.order_by("-closed_at", "-id")
    return tabs, inquiries


@page(STAFF)
def inquiry_queue(request):
    roles = roles_of(request.user)
    # The networks whose queue the viewer keeps (None: all, for a platform admin).
    network_ids = None if roles.is_platform_admin else set(roles.staff_network_ids)
    inquiries = selectors.inquiry_list(viewer=request.user)
    if network_ids is not None:
        inquiries = inquiries.filter(network_id__in=network_ids)
    networks = list(
        member_selectors.network_list(viewer=request.user)
        .prefetch_related(None)
        .filter(**({} if network_ids is None else {"pk__in": network_ids}))
    )
    network = None
    if request.GET.get("network", "").isdigit():
        network = next((n for n in networks if n.pk == int(request.GET["network"])), None)
        if network is not None:
            inquiries = inquiries.filter(network=network)
    tab = request.GET.get("status", "active")
    tabs, inquiries = _tabbed(inquiries, tab)
    page = ExactPaginator(inquiries, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    at_risk = set(selectors.inquiries_at_risk(viewer=request.user).values_list("pk", flat=True))
    now = timezone.now()
    rows = [
        {
            "inquiry": inquiry,
            "at_risk": inquiry.pk in at_risk,
            "deadline_passed": inquiry.status == S.OPEN
            and inquiry.application_deadline is not None
            and inquiry.application_deadline <= now,
        }
        for inquiry in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return _render(
        request,
        "orders/queue.html",
        {
            "rows": rows,
            "page": page,
            "tabs": tabs,
            "tab": tab,
            "networks": networks,
            "network": network,
            "querystring": query.urlencode(),
            "at_risk_count": len(at_risk),
            "phone_networks": [n for n in networks if n.is_active and roles.is_secretariat(n.pk)],
        },
    )


@page(COMMITTEE)
def committee_list(request):
    roles = roles_of(request.user)
    inquiries = selectors.inquiry_list(viewer=request.user)
    if not roles.is_platform_admin:
        inquiries = inquiries.filter(network_id__in=roles.committee_network_ids)
    escalated = inquiries.filter(status=S.COMMITTEE).order_by("submitted_at", "id")
    to_open = inquiries.filter(
        status=S.EVALUATION,
        applications_opened_at__isnull=True,
        network__applications_opened_by_committee=True,
    ).order_by("application_deadline", "id")
    decided = (
        inquiries.filter(committee_decision__isnull=False)
        .select_related("committee_decision")
        .order_by("-committee_decision__decided_at")[:20]
    )
    return _render(
        request,
        "orders/committee_list.html",
        {"escalated": escalated, "to_open": to_open, "decided": decided},
    )
