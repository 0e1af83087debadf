"""Inspection (検品): the lead inspects a member's delivery, with the sampling plan worked out
on the page; the network's staff read it."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from core.errors import BrokerageError
from members.forms import call_service
from members.pages import SIGNED_IN, page, require

from .. import execution, selectors
from ..project_forms import InspectionForm
from .common import ONLY_LEAD, _is_lead, _is_staff


def _plan_for(delivery, params) -> tuple:
    """(plan, error, inputs) for the level, AQL and quantity received in `params` (GET, or the
    form's 'work out the sample' button). Never writes."""
    raw = params.get("quantity_received") or params.get("received") or delivery.quantity
    level = params.get("inspection_level") or params.get("level") or "II"
    aql = params.get("aql") or "1.0"
    try:
        received = int(str(raw).strip())
    except ValueError:
        return None, _("Give the quantity received as a whole number."), {}
    inputs = {"quantity_received": received, "inspection_level": level, "aql": aql}
    try:
        plan = execution.sampling_plan(lot_size=received, level=level, aql=aql)
    except BrokerageError as exc:
        return None, exc.message, inputs
    return plan, None, inputs


def _visible_deliveries(request):
    return selectors.delivery_list(viewer=request.user)


def _blank_form(delivery, params, inputs: dict) -> InspectionForm:
    """The form, filled with what `params` already chose and the sampling inputs."""
    initial = {
        "method": InspectionForm.SAMPLE,
        "quantity_received": delivery.quantity,
        "inspection_level": "II",
        "aql": "1.0",
        "defects_found": 0,
    }
    for name in ("method", "quantity_passed", "defects_found", "defect_reason", "disposition"):
        if params.get(name) not in (None, ""):
            initial[name] = params[name]
    initial.update(inputs)
    return InspectionForm(initial=initial)


@page(SIGNED_IN, scope=_visible_deliveries)
def delivery_inspect(request, delivery):
    package = delivery.package
    project = package.project
    is_lead = _is_lead(request.user, project)
    if not (is_lead or _is_staff(request.user, project)):
        require(request.method != "POST", ONLY_LEAD)
        # The member sees its inspection results on its package page.
        return redirect(reverse("work_package", args=[package.pk]) + "#deliveries")
    inspection = getattr(delivery, "inspection", None)
    context = {
        "delivery": delivery,
        "package": package,
        "project": project,
        "inspection": inspection,
        "is_lead": is_lead,
    }
    if inspection is not None:
        if request.method == "POST":
            messages.error(request, _("This delivery is already inspected."))
        context["photos"] = list(inspection.photos.all())
        context["charge"] = getattr(inspection, "charge", None)
        return render(request, "orders/project_inspection.html", context)
    require(request.method != "POST" or is_lead, ONLY_LEAD)

    form = None
    params = {}
    if request.method == "POST" and "work_out" not in request.POST:
        form = InspectionForm(request.POST, request.FILES)
        if form.is_valid() and call_service(
            form,
            lambda: execution.inspection_record(
                actor=request.user, delivery=delivery, **form.service_kwargs()
            ),
        ):
            messages.success(request, _("The inspection was recorded. The member sees the result."))
            return redirect("delivery_inspect", pk=delivery.pk)
        params = request.POST
    elif request.method == "POST":
        params = request.POST  # 'work out the sample': show the plan, save nothing
    else:
        params = request.GET
    plan, plan_error, inputs = _plan_for(delivery, params)
    if form is None:
        form = _blank_form(delivery, params, inputs)
    context.update(
        {
            "form": form if is_lead else None,
            "plan": plan,
            "plan_error": plan_error,
            "plan_sample": min(plan.sample_size, plan.lot_size) if plan else None,
        }
    )
    return render(request, "orders/project_inspection.html", context)
