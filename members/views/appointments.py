"""Lead-company appointments: opened by the staff, recommended by the members, decided by
the committee or the secretariat, withdrawn by the secretariat."""

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from core.errors import BrokerageError, NotAllowed
from core.models import StatusChange

from .. import selectors, services
from ..forms import (
    AppointmentOpenForm,
    AppointmentWithdrawForm,
    DecideForm,
    RecommendForm,
    apply_service_error,
    call_service,
)
from ..models import (
    AppointmentStatus,
    LeadAppointment,
    Membership,
    MembershipClass,
    MembershipStatus,
    Network,
    Recommendation,
)
from ..pages import (
    MEMBER,
    POST,
    SIGNED_IN,
    STAFF,
    networks_kept,
    page,
    require,
)
from ..permissions import roles_of


@page(STAFF | MEMBER)
def appointment_list(request):
    status = request.GET.get("status", AppointmentStatus.PENDING)
    appointments = selectors.appointment_list(viewer=request.user)
    if status in AppointmentStatus.values:
        appointments = appointments.filter(status=status)
    else:
        status = ""
    roles = roles_of(request.user)
    return render(
        request,
        "members/appointment_list.html",
        {
            "appointments": appointments,
            "status": status,
            "statuses": AppointmentStatus.choices,
            "open_networks": list(
                Network.objects.filter(
                    pk__in=roles.secretariat_network_ids | roles.committee_network_ids,
                    is_active=True,
                ).order_by("pk")
            ),
        },
    )


def _appointment_candidates(request, network: Network):
    """Active joint-order members of the network that are not lead companies yet."""
    active = Membership.objects.filter(
        company=OuterRef("pk"), network=network, status=MembershipStatus.ACTIVE
    )
    return (
        selectors.company_list(viewer=request.user)
        .prefetch_related(None)
        .filter(Exists(active.filter(membership_class=MembershipClass.JOINT_ORDER)))
        .exclude(Exists(active.filter(membership_class=MembershipClass.LEAD)))
        .order_by("legal_name_kana", "id")
    )


def _networks_kept_with_committee(request):
    return networks_kept(request, committee_too=True)


@page(STAFF, scope=_networks_kept_with_committee, lookup="network_id")
def appointment_open(request, network: Network):
    """The secretariat (or the committee) puts a joint-order member forward as a lead (403
    for whoever keeps no network, 404 for another network's)."""
    form = AppointmentOpenForm(
        request.POST or None, candidates=_appointment_candidates(request, network)
    )
    if request.method == "POST" and form.is_valid():
        try:
            appointment = services.appointment_open(
                actor=request.user,
                network=network,
                company=form.cleaned_data["company"],
                statement=form.cleaned_data["statement"],
            )
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except (ValidationError, BrokerageError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(
                request,
                _("The appointment was opened: the members may now recommend the candidate."),
            )
            return redirect("appointment_detail", pk=appointment.pk)
    return render(request, "members/appointment_form.html", {"network": network, "form": form})


def _visible_appointments(request):
    return selectors.appointment_list(viewer=request.user)


def _withdrawal_reason(appointment: LeadAppointment) -> str:
    if appointment.status != AppointmentStatus.WITHDRAWN:
        return ""
    change = (
        StatusChange.objects.filter(
            content_type=ContentType.objects.get_for_model(LeadAppointment),
            object_id=appointment.pk,
            to_status=AppointmentStatus.WITHDRAWN,
        )
        .order_by("-created_at", "-id")
        .first()
    )
    return change.reason if change else ""


def _render_appointment(
    request, appointment, *, recommend_form=None, decide_form=None, withdraw_form=None
):
    roles = roles_of(request.user)
    recommendations = list(
        Recommendation.objects.filter(appointment=appointment).select_related(
            "recommender", "recommended_by"
        )
    )
    pending = appointment.status == AppointmentStatus.PENDING
    may_recommend = (
        pending
        and roles.company_id is not None
        and roles.company_id != appointment.company_id
        and appointment.network_id in roles.member_network_ids
        and all(r.recommender_id != roles.company_id for r in recommendations)
    )
    may_decide = pending and (
        roles.is_committee(appointment.network_id) or roles.is_secretariat(appointment.network_id)
    )
    return render(
        request,
        "members/appointment_detail.html",
        {
            "appointment": appointment,
            "recommendations": recommendations,
            "needed": appointment.network.lead_recommendations_required,
            "recommend_form": (recommend_form or RecommendForm()) if may_recommend else None,
            "decide_form": (decide_form or DecideForm()) if may_decide else None,
            "withdrawal_reason": _withdrawal_reason(appointment),
            "withdraw_form": (withdraw_form or AppointmentWithdrawForm(prefix="withdraw"))
            if pending and roles.is_secretariat(appointment.network_id)
            else None,
        },
    )


@page(SIGNED_IN, scope=_visible_appointments)
def appointment_detail(request, appointment: LeadAppointment):
    return _render_appointment(request, appointment)


@page(SIGNED_IN, scope=_visible_appointments, methods=POST)
def appointment_recommend(request, appointment: LeadAppointment):
    form = RecommendForm(request.POST)
    if form.is_valid() and call_service(
        form,
        lambda: services.appointment_recommend(
            actor=request.user, appointment=appointment, comment=form.cleaned_data["comment"]
        ),
    ):
        messages.success(request, _("Your recommendation was recorded."))
        return redirect("appointment_detail", pk=appointment.pk)
    return _render_appointment(request, appointment, recommend_form=form)


@page(SIGNED_IN, scope=_visible_appointments, methods=POST)
def appointment_decide(request, appointment: LeadAppointment):
    roles = roles_of(request.user)
    require(
        roles.is_committee(appointment.network_id) or roles.is_secretariat(appointment.network_id)
    )
    form = DecideForm(request.POST)
    if form.is_valid() and call_service(
        form,
        lambda: services.appointment_decide(
            actor=request.user, appointment=appointment, **form.cleaned_data
        ),
    ):
        messages.success(request, _("The committee's decision was recorded."))
        return redirect(reverse("appointment_detail", kwargs={"pk": appointment.pk}))
    return _render_appointment(request, appointment, decide_form=form)


@page(SIGNED_IN, scope=_visible_appointments, methods=POST)
def appointment_withdraw(request, appointment: LeadAppointment):
    require(roles_of(request.user).is_secretariat(appointment.network_id))
    form = AppointmentWithdrawForm(request.POST, prefix="withdraw")
    if form.is_valid() and call_service(
        form,
        lambda: services.appointment_withdraw(
            actor=request.user, appointment=appointment, reason=form.cleaned_data["reason"]
        ),
    ):
        messages.success(request, _("The appointment was withdrawn."))
        return redirect("appointment_detail", pk=appointment.pk)
    return _render_appointment(request, appointment, withdraw_form=form)
