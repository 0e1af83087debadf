"""What the project pages share: finding objects as the viewer may see them, who the viewer is
to a project, the words and badges of states, and the two shapes of a POST (a plain button, a
form) that every action page follows."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy

from core.errors import BrokerageError, NotAllowed
from members.forms import call_service
from members.permissions import roles_of

from .. import execution, selectors
from ..models import InvitationStatus, Project, ProjectStatus
from ..models import PackageStatus as P
from ..project_forms import payment_terms_plain

# Badge colour per package status: what needs someone's hand stands out.
PACKAGE_BADGES = {
    P.OPEN: "attention",
    P.AWAITING_AGREEMENT: "warn",
    P.READY: "",
    P.IN_PROGRESS: "",
    P.SHIPPED: "attention",
    P.INSPECTED: "",
    P.RETURNED: "warn",
    P.ACCEPTED: "ok",
    P.CANCELLED: "muted",
}
PROJECT_BADGES = {
    ProjectStatus.FORMING: "attention",
    ProjectStatus.IN_PROGRESS: "",
    ProjectStatus.DELIVERED: "attention",
    ProjectStatus.ACCEPTED: "ok",
    ProjectStatus.CANCELLED: "muted",
}
# The words the project pages use for a project's and an invitation's state: the model labels
# "Delivered" and "Accepted" share their msgids with other pages (送信済み, 受け入れ).
PROJECT_LABELS = {
    ProjectStatus.FORMING: ProjectStatus.FORMING.label,
    ProjectStatus.IN_PROGRESS: gettext_lazy("In production"),
    ProjectStatus.DELIVERED: gettext_lazy("Shipped in full, awaiting acceptance"),
    ProjectStatus.ACCEPTED: ProjectStatus.ACCEPTED.label,
    ProjectStatus.CANCELLED: ProjectStatus.CANCELLED.label,
}
INVITATION_LABELS = {
    InvitationStatus.INVITED: (gettext_lazy("Waiting for the answer"), ""),
    InvitationStatus.ACCEPTED: (gettext_lazy("Took the work"), "ok"),
    InvitationStatus.DECLINED: (gettext_lazy("Declined the work"), "muted"),
    InvitationStatus.EXPIRED: (InvitationStatus.EXPIRED.label, "muted"),
    InvitationStatus.WITHDRAWN: (InvitationStatus.WITHDRAWN.label, "muted"),
    InvitationStatus.CANCELLED: (InvitationStatus.CANCELLED.label, "muted"),
}


# ---------------------------------------------------------------------------------------
# Objects and the viewer


# The pages' scopes (members.pages): what the viewer may see; anything else is 404.


def visible_projects(request):
    return selectors.project_list(viewer=request.user)


def visible_packages(request):
    return selectors.package_list(viewer=request.user)


ONLY_LEAD = gettext_lazy("Only the lead company of this project may do this.")


def _is_lead(user, project: Project) -> bool:
    return roles_of(user).acts_for(project.lead_id)


def _is_staff(user, project: Project) -> bool:
    return roles_of(user).is_staff_of(project.network_id)


def _is_buyer(user, project: Project) -> bool:
    return user.is_authenticated and project.inquiry.buyer.user_id == user.pk


def _is_package_member(user, package) -> bool:
    """The member company that took the package (not the lead doing it itself)."""
    return package.member_id is not None and roles_of(user).acts_for(package.member_id)


def _board_url(project_id: int, anchor: str = "") -> str:
    url = reverse("project_board", args=[project_id])
    return f"{url}#{anchor}" if anchor else url


def agreement_pdf_url(agreement_id: int) -> str | None:
    """The agreement's PDF: the page route if orders/urls.py has it, else the API's."""
    for name in ("agreement_pdf", "agreement-pdf"):
        try:
            return reverse(name, args=[agreement_id])
        except NoReverseMatch:
            continue
    return None


# ---------------------------------------------------------------------------------------
# The two shapes of a POST


def _run(request, call, done: str, back: str):
    """A plain button (no fields): refused as not allowed → 403; a broken rule → the reason
    as a message on the page it came from."""
    try:
        call()
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except BrokerageError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(back)


def _form_action(request, form, service_call, success_message, success_url, page, *, warnings=None):
    """A form: valid and accepted by `service_call(cleaned_data)` → `success_message` (and the
    service's `warnings`), then off to `success_url`; the message and the URL may be functions
    of what the service returned. Otherwise `page(bound=…)` shows the page again with the
    bound form (keyed by its prefix, as the pages look it up) and its errors; what the service
    refuses lands on the field it names (members.forms.call_service)."""
    done = []
    if form.is_valid() and call_service(form, lambda: done.append(service_call(form.cleaned_data))):
        result = done[0]
        messages.success(request, _of(success_message, result))
        for warning in warnings(result) if warnings else ():
            messages.warning(request, warning)
        return redirect(_of(success_url, result))
    return page(bound={form.prefix: form})


def _of(value, result):
    return value(result) if callable(value) else value


# ---------------------------------------------------------------------------------------
# Shown on several pages


def _group(items, key) -> dict:
    grouped: dict = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    return grouped


def _due(package, today: datetime.date) -> str:
    """'late', 'soon' or '' for a package still owed to the lead."""
    if package.status == P.ACCEPTED or package.member_id is None:
        return ""
    if package.due_date < today:
        return "late"
    if package.due_date <= today + datetime.timedelta(days=execution.DUE_SOON_DAYS):
        return "soon"
    return ""


def _terms(project: Project) -> str:
    return payment_terms_plain(
        project.payment_closing_day, project.payment_month_offset, project.payment_day
    )


def _label(project: Project) -> None:
    project.label = PROJECT_LABELS.get(project.status, project.get_status_display())
    project.badge = PROJECT_BADGES.get(project.status, "")
