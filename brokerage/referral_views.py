"""The referral pages: the secretariat's referral list and screen per inquiry, the
service-level view, and the non-member's response page at a signed link (no account).

Every page declares its access and scope (members.pages): referrals are fetched through the
scoped selector (404 for another network's); a user with no secretariat seat gets 403 on the
lists; every write is one service call.
"""

import datetime

from django import forms
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import BrokerageError
from core.transitions import history
from members.forms import apply_service_error
from members.models import DirectoryEntry, Network
from members.pages import POST, PUBLIC, SECRETARIAT, SIGNED_IN, page, require
from members.permissions import roles_of

from . import referral as services
from . import sla
from .models import OfferStatus, ReferralCategory, ReferralStatus

R = ReferralStatus


def _render(request, template: str, context: dict, status: int = 200):
    return render(request, template, context, status=status)


def _visible_referrals(request):
    """The pages' scope: the referrals of the viewer's networks (another's is 404)."""
    return services.referral_list(viewer=request.user)


# The secretariat's pages: 403 for a user with no secretariat seat.
SECRETARIAT_PAGE = {
    "access": SECRETARIAT,
    "refusal": gettext_lazy("Only the secretariat handles referrals."),
}


# ---------------------------------------------------------------------------------------
# The secretariat


TABS = [
    ("open", gettext_lazy("In progress"), (R.SEARCHING, R.AWAITING_CONFIRMATION, R.OFFERED)),
    ("exhausted", gettext_lazy("Secretariat must act"), (R.EXHAUSTED,)),
    ("accepted", gettext_lazy("Accepted"), (R.ACCEPTED,)),
    ("all", gettext_lazy("All"), None),
]


def _fiscal_year(network: Network, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    start_month = network.fiscal_year_start_month
    year = today.year if today.month >= start_month else today.year - 1
    start = datetime.date(year, start_month, 1)
    end = datetime.date(year + 1, start_month, 1) - datetime.timedelta(days=1)
    return start, end


@page(**SECRETARIAT_PAGE)
def referral_list(request):
    """Every referral of the secretariat's networks by state, and this fiscal year's record
    (outcomes per category) for each network."""
    referrals = services.referral_list(viewer=request.user)
    tab = request.GET.get("status", "open")
    tabs = []
    for key, label, statuses in TABS:
        scoped = referrals.filter(status__in=statuses) if statuses else referrals
        tabs.append({"key": key, "label": label, "count": scoped.count()})
        if key == tab:
            shown = scoped
    if not any(t["key"] == tab for t in tabs):
        tab, shown = "all", referrals
    roles = roles_of(request.user)
    networks = Network.objects.order_by("name")
    if not roles.is_platform_admin:
        networks = networks.filter(pk__in=roles.secretariat_network_ids)
    today = timezone.localdate()
    records = []
    categories = [(c, label) for c, label in ReferralCategory.choices]
    for network in networks:
        period = _fiscal_year(network, today)
        table = services.referral_outcomes(network=network, period=period)
        records.append(
            {
                "network": network,
                "period": period,
                "rows": [(label, table[c]) for c, label in categories],
                "total": table["total"],
            }
        )
    return _render(
        request,
        "brokerage/referral/list.html",
        {
            "referrals": shown.order_by("-created_at", "-id")[:200],
            "tabs": tabs,
            "tab": tab,
            "records": records,
        },
    )


@page(**SECRETARIAT_PAGE, scope=_visible_referrals, lookup="inquiry_pk", field="inquiry_id")
def referral_for_inquiry(request, referral):
    """The referral screen of an inquiry, reached from the inquiry's page."""
    return redirect("referral_detail", pk=referral.pk)


class AddCandidateForm(forms.Form):
    target = forms.ChoiceField(label=gettext_lazy("candidate"))
    reason = forms.CharField(
        label=gettext_lazy("why this candidate"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def __init__(self, *args, referral, **kwargs):
        super().__init__(*args, **kwargs)
        network_id = referral.inquiry.network_id
        taken_companies = {o.company_id for o in referral.offers.all() if o.company_id}
        taken_networks = {o.partner_network_id for o in referral.offers.all() if o.is_partner}
        entries = (
            DirectoryEntry.objects.filter(network_id=network_id, consents_to_referrals=True)
            .exclude(company_id__in=taken_companies)
            .select_related("company")
            .order_by("company__legal_name_kana")
        )
        partners = (
            Network.objects.filter(partners=network_id, is_active=True)
            .exclude(pk__in=taken_networks)
            .order_by("name")
        )
        self.companies = {e.company_id: e.company for e in entries}
        self.networks = {n.pk: n for n in partners}
        self.has_choices = bool(self.companies or self.networks)
        self.fields["target"].choices = [
            (
                _("Non-member directory"),
                [(f"c{pk}", c.legal_name) for pk, c in self.companies.items()],
            ),
            (_("Partner networks"), [(f"n{pk}", n.name) for pk, n in self.networks.items()]),
        ]

    def target_kwargs(self) -> dict:
        value = self.cleaned_data["target"]
        kind, pk = value[0], int(value[1:])
        if kind == "c":
            return {"company": self.companies[pk]}
        return {"partner_network": self.networks[pk]}


def _labelled(changes) -> list:
    labels = dict(ReferralStatus.choices)
    changes = list(changes)
    for change in changes:
        change.label = labels.get(change.to_status, change.to_status)
    return changes


def _render_detail(request, referral, *, add_form=None, status=200):
    offers = list(
        referral.offers.select_related("company", "partner_network", "added_by").order_by(
            "rank", "id"
        )
    )
    for offer in offers:
        offer.reason_labels = services.reason_labels(offer.reasons)
    can_send = referral.status in (R.AWAITING_CONFIRMATION, R.EXHAUSTED)
    return _render(
        request,
        "brokerage/referral/detail.html",
        {
            "referral": referral,
            "inquiry": referral.inquiry,
            "offers": offers,
            "can_send": can_send,
            "has_pending": any(o.status == OfferStatus.PENDING for o in offers),
            "add_form": add_form
            if add_form is not None
            else (AddCandidateForm(referral=referral) if referral.status != R.ACCEPTED else None),
            "history": _labelled(history(referral)),
            "missing": referral.inquiry.processes.filter(pk__in=referral.missing_process_ids),
        },
        status=status,
    )


@page(**SECRETARIAT_PAGE, scope=_visible_referrals)
def referral_detail(request, referral):
    """The referral screen: candidates with their reasons and distance, the state of each
    offer, one-click send, a candidate added by hand."""
    return _render_detail(request, referral)


@page(SIGNED_IN, scope=_visible_referrals, methods=POST)
def referral_send(request, referral):
    """One click: send the referral to the chosen candidate (or the best one)."""
    offer = None
    if request.POST.get("offer"):
        offer = get_object_or_404(referral.offers.all(), pk=request.POST["offer"])
    try:
        referral = services.referral_confirm(actor=request.user, referral=referral, offer=offer)
    except BrokerageError as exc:
        if exc.status_code == 403:
            raise PermissionDenied(exc.message) from exc
        messages.error(request, exc.message)
    else:
        sent = referral.offers.filter(status=OfferStatus.OFFERED).first()
        messages.success(
            request,
            _("The referral was sent to %(target)s.")
            % {"target": sent.target_name if sent else ""},
        )
    return redirect("referral_detail", pk=referral.pk)


@page(SIGNED_IN, scope=_visible_referrals, methods=POST)
def referral_add(request, referral):
    require(roles_of(request.user).is_secretariat(referral.inquiry.network_id))
    form = AddCandidateForm(request.POST, referral=referral)
    if form.is_valid():
        try:
            services.referral_add_candidate(
                actor=request.user,
                referral=referral,
                reason=form.cleaned_data["reason"],
                **form.target_kwargs(),
            )
        except BrokerageError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("The candidate was added to the list."))
            return redirect("referral_detail", pk=referral.pk)
    return _render_detail(request, referral, add_form=form, status=400)


@page(SIGNED_IN, scope=_visible_referrals, methods=POST)
def referral_share(request, referral):
    """Record that the buyer agreed to share its identity and the details."""
    try:
        services.referral_buyer_agree(actor=request.user, referral=referral)
    except BrokerageError as exc:
        raise PermissionDenied(exc.message) from exc
    messages.success(request, _("Offers sent from now on include the buyer and the details."))
    return redirect("referral_detail", pk=referral.pk)


@page(**SECRETARIAT_PAGE)
def service_level(request):
    """Inquiries at risk of missing the service level: due date, working days left."""
    show_all = request.GET.get("all") == "1"
    rows = sla.inquiries_at_risk_sla(viewer=request.user, include_all=show_all)
    return _render(
        request,
        "brokerage/referral/service_level.html",
        {"rows": rows, "show_all": show_all, "today": timezone.localdate()},
    )


# ---------------------------------------------------------------------------------------
# The target, through its signed link


class RespondForm(forms.Form):
    answer = forms.ChoiceField(
        choices=[("accept", gettext_lazy("Accept")), ("decline", gettext_lazy("Decline"))]
    )
    reason = forms.CharField(
        label=gettext_lazy("reason for declining"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("answer") == "decline" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why you decline."))
        return data


def _link_state(offer) -> str:
    if offer.status == OfferStatus.OFFERED:
        return "expired" if timezone.now() >= offer.expires_at else "open"
    if offer.status == OfferStatus.EXPIRED:
        return "expired"
    return "answered"


@page(PUBLIC)  # the signed token in the link is the scope: it names one offer
def referral_respond(request, token: str):
    """The target's page: what it may see of the inquiry, accept or decline with a reason.
    A tampered, expired or used link says so plainly."""
    try:
        offer = services.referral_offer_from_token(token)
    except signing.BadSignature:
        return _render(
            request, "brokerage/referral/respond_invalid.html", {"reason": "invalid"}, 404
        )
    form = RespondForm()
    state = _link_state(offer)
    if request.method == "POST" and state == "open":
        form = RespondForm(request.POST)
        if form.is_valid():
            accept = form.cleaned_data["answer"] == "accept"
            try:
                offer = services.referral_respond(
                    offer=offer, accept=accept, reason=form.cleaned_data["reason"]
                )
            except BrokerageError as exc:
                apply_service_error(form, exc)
            else:
                return redirect("referral_respond", token=token)
    context = services.offer_context(offer)
    context.update({"form": form, "state": state, "token": token})
    if state == "expired":
        status = 410
    elif request.method == "POST":
        status = 400 if form.errors else 409  # refused, or a used link posted again
    else:
        status = 200
    return _render(request, "brokerage/referral/respond.html", context, status)
