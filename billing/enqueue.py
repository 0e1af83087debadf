"""Starting a settlement run from a page or the API: the checks a person should hear about at
once (who, which month), then the run is queued for the settlement worker after the request's
transaction commits; the close itself may take minutes, so it never runs in the request.

The tasks live in billing.tasks (which imports this module); they are queued here by name.
"""

import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import BrokerageError, Conflict, NotAllowed
from core.queueing import enqueue
from members.models import Network
from members.permissions import roles_of

from .models import RunKind, RunStatus, SettlementRun
from .periods import month_over

TASKS = {
    RunKind.MONTHLY_CLOSE: "billing.monthly_close_task",
    RunKind.ANNUAL_FEES: "billing.annual_fees_task",
}


def run_queue(*, actor, network: Network, kind: str, period: datetime.date) -> SettlementRun | None:
    """The secretariat starts (or resumes, or recomputes after a reopen) a network's monthly
    close of `period` (first day of a month that is over) or its annual fees of the fiscal
    year starting on `period`. Queues `billing.monthly_close_task` / `annual_fees_task` on
    commit and returns the existing run of that period, if any. Refused: not the network's
    secretariat (NotAllowed), a wrong period (field `period`), a month already closed
    (Conflict: reopen it first)."""
    if not roles_of(actor).is_secretariat(network.pk):
        raise NotAllowed(_("Only the network's secretariat may run the settlement."))
    if kind not in TASKS:
        raise BrokerageError(_("Choose a monthly close or the annual fees."), field="kind")
    if period.day != 1:
        raise BrokerageError(_("Give the first day of the month."), field="period")
    if kind == RunKind.MONTHLY_CLOSE:
        if not month_over(period):
            raise BrokerageError(_("This month is not over yet."), field="period")
    elif period.month != network.fiscal_year_start_month:
        raise BrokerageError(
            _("The network's fiscal year starts on the 1st of month %(m)d.")
            % {"m": network.fiscal_year_start_month},
            field="period",
        )
    run = SettlementRun.objects.filter(network=network, kind=kind, period=period).first()
    if run is not None and kind == RunKind.MONTHLY_CLOSE and run.status == RunStatus.COMPLETED:
        raise Conflict(
            _("This month is already closed. Reopen it with a reason to correct it."),
            field="period",
        )
    # A broker outage is logged, not raised: the daily job and the resume scan catch up.
    transaction.on_commit(lambda: enqueue(TASKS[kind], network.pk, period.isoformat(), actor.pk))
    return run
