"""The order record pages (受注実績): the network staff's dashboard with its charts and the
members' scorecards, their CSV exports, the probation rule and probations, and a member's
own scorecard.

Who sees what: the secretariat and the steering committee of a network see its record
(another network's is 404; a user with no staff seat gets 403); only the secretariat sets
the probation rule or lifts a probation; a member company sees its own scorecard only.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.csv import excel_bytes
from members.forms import call_service
from members.models import Membership, MembershipStatus, Network, Probation, ProbationRule
from members.pages import COMPANY, POST, STAFF, page, require
from members.permissions import roles_of
from members.templatetags.members_tags import is_japanese, local_name

from . import charts, probation, record
from .record_forms import LiftForm, ProbationRuleForm, RecordFilterForm


def _render(request, template: str, context: dict, status: int = 200):
    return render(request, template, context, status=status)


def _staff_networks(request):
    """The pages' scope: the networks in whose secretariat or committee the viewer sits
    (another network's record is 404)."""
    roles = roles_of(request.user)
    if roles.is_platform_admin:
        return Network.objects.all()
    return Network.objects.filter(pk__in=roles.staff_network_ids)


def _staff_probations(request):
    networks = _staff_networks(request)
    return Probation.objects.select_related("membership__network").filter(
        membership__network__in=networks
    )


# The staff's pages: 403 with no seat anywhere.
STAFF_PAGE = {
    "access": STAFF,
    "refusal": gettext_lazy("Only the network's secretariat and committee see its record."),
}
NETWORK_PAGE = {**STAFF_PAGE, "scope": _staff_networks, "lookup": "network_id"}


def _month_label(month, *, with_year: bool) -> str:
    if is_japanese():
        return f"{month.year % 100:02d}年{month.month}月" if with_year else f"{month.month}月"
    return month.strftime("%b %y" if with_year else "%b")


def _year_label(year: record.YearValue) -> str:
    return _("FY%(year)d") % {"year": year.year}


def _fiscal_year_name(network: Network, period: record.Period) -> str:
    """ "FY2026" when the period is exactly one fiscal year, else empty."""
    if record.fiscal_year(network, period.start) != period:
        return ""
    return _("FY%(year)d") % {"year": period.start.year}


def _yen(value: int) -> str:
    return f"¥{value:,}"


def _hover(value: int, orders: int) -> str:
    return _("%(value)s, %(orders)d orders") % {"value": _yen(value), "orders": orders}


def _charts(rec: record.NetworkRecord) -> dict:
    months = rec.by_month
    long = len(months) > 12
    # Past a year, every few months are labelled so the labels do not run together.
    every = -(-len(months) // 12)
    month_items = [
        (
            _month_label(m.month, with_year=long) if i % every == 0 else "",
            m.value_yen,
            f"{m.month:%Y-%m}: {_hover(m.value_yen, m.orders)}",
        )
        for i, m in enumerate(months)
    ]
    return {
        "months": charts.column_chart(month_items, title=_("Order value per month")),
        "years": charts.column_chart(
            [
                (_year_label(y), y.value_yen, f"{_year_label(y)}: {_hover(y.value_yen, y.orders)}")
                for y in rec.by_year
            ],
            title=_("Order value per fiscal year"),
            height=220,
        ),
        "processes": charts.row_chart(
            [(local_name(p), p.value_yen, _hover(p.value_yen, p.orders)) for p in rec.by_process],
            title=_("Order value per process"),
        ),
        "materials": charts.row_chart(
            [(local_name(m), m.value_yen, _hover(m.value_yen, m.orders)) for m in rec.by_material],
            title=_("Order value per material"),
        ),
    }


def _filters(request, network: Network):
    form = RecordFilterForm(request.GET or None, network=network)
    period, process, material = form.filters()
    return form, period, process, material


def _query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# ---------------------------------------------------------------------------------------
# The staff's dashboard


@page(**STAFF_PAGE)
def record_index(request):
    """The record of the viewer's only network, or a choice of its networks."""
    networks = list(_staff_networks(request))
    if len(networks) == 1:
        return redirect("record_dashboard", network_id=networks[0].pk)
    return _render(request, "brokerage/record/index.html", {"networks": networks})


@page(**NETWORK_PAGE)
def record_dashboard(request, network: Network):
    form, period, process, material = _filters(request, network)
    rec = record.network_record(network=network, period=period, process=process, material=material)
    cards = record.scorecards(network=network, period=period)
    rule = ProbationRule.objects.filter(network=network).first()
    return _render(
        request,
        "brokerage/record/dashboard.html",
        {
            "network": network,
            "form": form,
            "record": rec,
            "charts": _charts(rec),
            "cards": cards,
            "rule": rule,
            "on_probation": sum(1 for c in cards if c.probation),
            "querystring": _query(request),
            "is_secretariat": roles_of(request.user).is_secretariat(network.pk),
            "fiscal_year_name": _fiscal_year_name(network, period),
        },
    )


# ---------------------------------------------------------------------------------------
# CSV (core.csv: a byte-order mark for Excel on Japanese Windows, no formula cells)


def _csv_response(rows: list[list], filename: str) -> HttpResponse:
    response = HttpResponse(excel_bytes(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _rate(value) -> str:
    return "" if value is None else formats.number_format(value, 1)


def _period_name(network: Network, period: record.Period, what: str) -> str:
    return f"{what}-{network.slug}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"


@page(**NETWORK_PAGE)
def record_csv(request, network: Network):
    """The dashboard's figures as one table: section, item, count, amount (yen)."""
    _form, period, process, material = _filters(request, network)
    rec = record.network_record(network=network, period=period, process=process, material=material)
    counts, response = rec.counts, rec.response
    inquiries = _("Inquiries")
    rows = [
        [_("Section"), _("Item"), _("Count"), _("Amount (yen, excl. tax)")],
        [_("Period"), f"{period.start.isoformat()} – {period.end.isoformat()}", "", ""],
        [_("Filter"), _("process"), local_name(process) if process else _("All processes"), ""],
        [_("Filter"), _("material"), local_name(material) if material else _("All materials"), ""],
        [inquiries, _("Received"), counts.received, ""],
        [inquiries, _("Awarded"), counts.awarded, ""],
        [inquiries, _("Referred"), counts.referred, ""],
        [inquiries, _("Referred and taken by the target"), counts.referral_taken, ""],
        [inquiries, _("Declined with reasons"), counts.rejected, ""],
        [inquiries, _("Withdrawn by the buyer"), counts.withdrawn, ""],
        [inquiries, _("Still without an answer"), counts.unanswered, ""],
        [inquiries, _("Rate answered (%)"), _rate(counts.answered_rate), ""],
        [_("Orders"), _("Total"), rec.orders, rec.order_value_yen],
    ]
    rows += [
        [_("Per month"), m.month.strftime("%Y-%m"), m.orders, m.value_yen] for m in rec.by_month
    ]
    rows += [[_("Per fiscal year"), _year_label(y), y.orders, y.value_yen] for y in rec.by_year]
    rows += [[_("Per process"), local_name(p), p.orders, p.value_yen] for p in rec.by_process]
    rows += [[_("Per material"), local_name(m), m.orders, m.value_yen] for m in rec.by_material]
    answer = _("Working days to an answer")
    rows += [
        [answer, _("Inquiries answered"), response.answered, ""],
        [answer, _("Median"), "" if response.median_days is None else response.median_days, ""],
        [
            answer,
            _("90% answered within"),
            "" if response.p90_days is None else response.p90_days,
            "",
        ],
        [
            answer,
            _("Within the %(days)d-day limit") % {"days": response.limit_days},
            response.within_limit,
            "",
        ],
    ]
    return _csv_response(rows, _period_name(network, period, "record"))


def _scorecard_rows(cards: list[record.Scorecard]) -> list[list]:
    header = [
        _("Company"),
        _("Membership"),
        _("Packages taken"),
        _("Package value (yen)"),
        _("Completed"),
        _("On time"),
        _("On-time rate (%)"),
        _("Items inspected"),
        _("Rejected at inspection"),
        _("Claimed by buyers"),
        _("Defect rate (%)"),
        _("Invitations"),
        _("Accepted"),
        _("Declined"),
        _("Expired unanswered"),
        _("Charges"),
        _("Charges (yen)"),
        _("On probation since"),
        _("Largest package on probation (yen)"),
    ]
    classes = dict(Membership._meta.get_field("membership_class").choices)
    rows = [header]
    for c in cards:
        rows.append(
            [
                local_name(c.company),
                classes.get(c.membership_class, c.membership_class),
                c.packages_taken,
                c.package_value_yen,
                c.completed,
                c.on_time,
                _rate(c.on_time_rate),
                c.inspected,
                c.rejected,
                c.claimed,
                _rate(c.defect_rate),
                c.invitations,
                c.accepted,
                c.declined,
                c.expired,
                c.charges,
                c.charges_yen,
                timezone.localdate(c.probation.since).isoformat() if c.probation else "",
                c.probation.max_package_value_yen if c.probation else "",
            ]
        )
    return rows


@page(**NETWORK_PAGE)
def scorecards_csv(request, network: Network):
    _form, period, _process, _material = _filters(request, network)
    cards = record.scorecards(network=network, period=period)
    return _csv_response(_scorecard_rows(cards), _period_name(network, period, "scorecards"))


# ---------------------------------------------------------------------------------------
# Probation: the rule, the open probations, lifting one


@page(**NETWORK_PAGE)
def probation_page(request, network: Network):
    """The network's probation rule (the secretariat edits it) and its probations."""
    is_secretariat = roles_of(request.user).is_secretariat(network.pk)
    rule = ProbationRule.objects.filter(network=network).first()
    form = ProbationRuleForm(instance=rule or ProbationRule(network=network))
    if request.method == "POST":
        require(is_secretariat, _("Only the network's secretariat may do this."))
        form = ProbationRuleForm(request.POST, instance=rule or ProbationRule(network=network))
        if form.is_valid() and call_service(
            form,
            lambda: probation.probation_rule_set(
                actor=request.user, network=network, data=form.cleaned_data
            ),
        ):
            messages.success(request, _("The probation rule is saved."))
            return redirect("record_probation", network_id=network.pk)
    probations = list(
        Probation.objects.filter(membership__network=network)
        .select_related("membership__company", "lifted_by")
        .order_by("lifted_at", "-since")[:100]
    )
    return _render(
        request,
        "brokerage/record/probation.html",
        {
            "network": network,
            "rule": rule,
            "form": form,
            "is_secretariat": is_secretariat,
            "open_probations": [p for p in probations if p.lifted_at is None],
            "lifted_probations": [p for p in probations if p.lifted_at is not None][:30],
            "lift_form": LiftForm(),
        },
    )


@page(**STAFF_PAGE, scope=_staff_probations, methods=POST)
def probation_lift(request, item: Probation):
    network = item.membership.network
    form = LiftForm(request.POST)
    if form.is_valid() and call_service(
        form,
        lambda: probation.probation_lift(
            actor=request.user, probation=item, reason=form.cleaned_data["reason"]
        ),
    ):
        messages.success(
            request,
            _("The probation of %(company)s is lifted.")
            % {"company": local_name(item.membership.company)},
        )
    else:
        messages.error(
            request,
            " ".join(form.errors.get("reason", [])) or _("Say why the probation is lifted."),
        )
    return redirect(reverse("record_probation", kwargs={"network_id": network.pk}))


# ---------------------------------------------------------------------------------------
# A member's own scorecard


@page(COMPANY, refusal=gettext_lazy("Only member companies have a scorecard."))
def my_scorecard(request):
    """The viewer's company's scorecard in each network where it can join project teams,
    with its probation (why, the limit, until when) and the network's rule."""
    roles = roles_of(request.user)
    memberships = (
        Membership.objects.filter(
            company_id=roles.company_id,
            membership_class__in=record.SCORED_CLASSES,
            status__in=(MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED),
        )
        .select_related("network__probation_rule")
        .order_by("network__name")
    )
    sections, seen = [], set()
    for membership in memberships:
        network = membership.network
        if network.pk in seen:
            continue
        seen.add(network.pk)
        form, period, _process, _material = _filters(request, network)
        cards = record.scorecards(network=network, period=period, company_id=roles.company_id)
        sections.append(
            {
                "network": network,
                "form": form,
                "period": period,
                "card": cards[0] if cards else None,
                "rule": getattr(network, "probation_rule", None),
            }
        )
    return _render(request, "brokerage/record/my_scorecard.html", {"sections": sections})
