"""Forms of the project pages (issue 5). They check the shape of the input; the services in
orders/projects.py and orders/execution.py hold the rules, and `members.forms.call_service`
puts what a service refuses on the field it names — so each field is named as the service's
argument is."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from members.forms import LocalNameChoiceField, set_minimum
from members.models import Material, Process

from . import sampling
from .forms import DATE_INPUT, MultipleFileField, YenField, drop_browser_minimums
from .models import Disposition

MONTH_END = 31


def _day_choices() -> list[tuple[int, str]]:
    """1日 … 30日, then the month end (stored as 31, as the services read it)."""
    days = [(n, _("day %(n)d") % {"n": n}) for n in range(1, 31)]
    return [*days, (MONTH_END, _("month end"))]


def _month_choices() -> list[tuple[int, str]]:
    return [(n, month_offset_text(n)) for n in range(0, 7)]


def month_offset_text(offset: int) -> str:
    if offset == 0:
        return str(_("the same month"))
    if offset == 1:
        return str(_("the next month"))
    if offset == 2:
        return str(_("the month after next"))
    return str(_("%(n)d months later") % {"n": offset})


def payment_terms_plain(closing_day: int, month_offset: int, payment_day: int) -> str:
    """The terms as a shop owner says them: 月末締め翌月末払い, 20日締め翌月10日払い."""
    close = _("month end") if closing_day >= MONTH_END else _("day %(n)d") % {"n": closing_day}
    if payment_day >= MONTH_END:
        # In Japanese the month is already said: 翌月「末」払い.
        pay = pgettext("payment day", "month end")
    else:
        pay = _("day %(n)d") % {"n": payment_day}
    return str(
        _("closing on %(close)s, paid on %(pay)s of %(when)s")
        % {"close": close, "pay": pay, "when": month_offset_text(month_offset)}
    )


class IntegerSelect(forms.TypedChoiceField):
    def __init__(self, *, choices, **kwargs):
        super().__init__(choices=choices, coerce=int, **kwargs)


# ---------------------------------------------------------------------------------------
# The lead: opening the project, packages, invitations, standards, shipments, claims


class ProjectOpenForm(forms.Form):
    order_value_yen = YenField(
        label=_("order value (yen, excl. tax)"),
        help_text=_("The amount agreed with the buyer, without consumption tax."),
    )
    delivery_date = forms.DateField(
        label=_("delivery date to the buyer"),
        widget=DATE_INPUT,
    )
    payment_closing_day = IntegerSelect(label=_("closing day"), choices=(), initial=MONTH_END)
    payment_month_offset = IntegerSelect(label=_("paid in"), choices=(), initial=1)
    payment_day = IntegerSelect(label=_("payment day"), choices=(), initial=MONTH_END)
    share_buyer_identity = forms.BooleanField(
        label=_("Show the buyer's name to the team members"),
        required=False,
        help_text=_(
            "Members then know who the goods are for. Leave unticked to keep it to yourself."
        ),
    )
    share_order_value = forms.BooleanField(
        label=_("Show the order value to the team members"),
        required=False,
    )
    invitation_hours = forms.IntegerField(
        label=_("hours a member has to answer an invitation"),
        initial=72,
        help_text=_(
            "72 hours = 3 days. After that the invitation expires and you can ask another member."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payment_closing_day"].choices = _day_choices()
        self.fields["payment_month_offset"].choices = _month_choices()
        self.fields["payment_day"].choices = _day_choices()
        self.fields["order_value_yen"].widget.attrs.update(
            {"inputmode": "numeric", "placeholder": _("e.g. 1,000,000")}
        )
        self.fields["invitation_hours"].widget.attrs["inputmode"] = "numeric"
        drop_browser_minimums(self)

    def agreed_fields(self):
        return [self["order_value_yen"], self["delivery_date"]]

    def payment_fields(self):
        return [self[n] for n in ("payment_closing_day", "payment_month_offset", "payment_day")]

    def sharing_fields(self):
        return [self[n] for n in ("share_buyer_identity", "share_order_value", "invitation_hours")]

    def terms_example(self) -> str:
        """What the chosen (or initial) terms mean, in words."""
        values = []
        for name in ("payment_closing_day", "payment_month_offset", "payment_day"):
            value = self[name].value()
            try:
                values.append(int(value))
            except (TypeError, ValueError):
                values.append(self.fields[name].initial)
        return payment_terms_plain(*values)


class PackageForm(forms.Form):
    process = LocalNameChoiceField(queryset=None, label=_("process"))
    material = LocalNameChoiceField(queryset=None, label=_("material"))
    quantity = forms.IntegerField(label=_("quantity (pieces)"))
    unit_price_yen = YenField(label=_("unit price (yen, excl. tax)"))
    due_date = forms.DateField(
        label=_("due date to you"),
        widget=DATE_INPUT,
        help_text=_("When the member must deliver to your company; before the buyer's date."),
    )
    packaging = forms.CharField(
        label=_("packaging"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("e.g. one piece per bag, 20 per box"),
    )
    inspection_criteria = forms.CharField(
        label=_("inspection criteria"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What you check when the goods arrive, e.g. no scratches visible at 30 cm"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["process"].queryset = Process.objects.filter(is_active=True)
        self.fields["material"].queryset = Material.objects.filter(is_active=True)
        set_minimum(self.fields["quantity"], 1)
        self.fields["quantity"].widget.attrs["inputmode"] = "numeric"
        self.fields["unit_price_yen"].widget.attrs["inputmode"] = "numeric"
        drop_browser_minimums(self)


class InviteForm(forms.Form):
    """One form per package: each suggested member's button posts its company."""

    company = forms.ModelChoiceField(queryset=None, label=_("member"))

    def __init__(self, *args, companies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = companies


class StandardForm(forms.Form):
    title = forms.CharField(label=_("title of the standard"), max_length=200)
    note = forms.CharField(
        label=_("how to do it"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("e.g. #400 → #800 → buff finish; no polishing marks on the rim"),
    )
    file = forms.FileField(
        label=_("document or photo"),
        required=False,
        help_text=_("PDF or a photo of the sample piece (optional if you write the steps)."),
    )


class ShipmentForm(forms.Form):
    quantity = forms.IntegerField(label=_("quantity (pieces)"))
    packaging = forms.CharField(label=_("packaging"), required=False, max_length=500)
    carrier = forms.CharField(
        label=_("carrier"), required=False, max_length=100, help_text=_("e.g. ヤマト運輸")
    )
    tracking_number = forms.CharField(label=_("tracking number"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quantity"].widget.attrs["inputmode"] = "numeric"
        drop_browser_minimums(self)


class TraceForm(forms.Form):
    package = forms.ModelChoiceField(queryset=None, label=_("work package responsible"))
    charge_yen = YenField(
        label=_("charge to the member (yen, excl. tax)"),
        required=False,
        help_text=_("Leave empty if you do not charge the member."),
    )
    note = forms.CharField(
        label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, packages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["package"].queryset = packages
        self.fields["package"].label_from_instance = _package_label
        drop_browser_minimums(self)


def _package_label(package) -> str:
    from members.templatetags.members_tags import local_name

    member = package.member.legal_name if package.member_id else "—"
    return f"{local_name(package.process)} / {local_name(package.material)} — {member}"


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("how it was settled with the buyer"), widget=forms.Textarea(attrs={"rows": 2})
    )


class WithdrawInvitationForm(forms.Form):
    reason = forms.CharField(
        label=_("why you withdraw the invitation (the member is told)"), max_length=500
    )


class CancelPackageForm(forms.Form):
    reason = forms.CharField(
        label=_("why you cancel the package (invited members are told)"), max_length=500
    )


class LateChargeForm(forms.Form):
    amount_yen = YenField(label=_("penalty (yen, excl. tax)"))
    reason = forms.CharField(
        label=_("agreed penalty that applies"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("e.g. Agreement article 3: 1% of the amount per day late"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        drop_browser_minimums(self)


# ---------------------------------------------------------------------------------------
# The lead's inspection (検品)


class InspectionForm(forms.Form):
    ALL, SAMPLE = "all", "sample"

    method = forms.ChoiceField(
        label=_("how you inspect"),
        choices=(
            (SAMPLE, _("Sampling inspection (ISO 2859-1)")),
            (ALL, _("Every item inspected")),
        ),
        widget=forms.RadioSelect,
        initial=SAMPLE,
    )
    quantity_received = forms.IntegerField(
        label=_("quantity received (pieces)"),
        help_text=_("Count what actually arrived."),
    )
    quantity_passed = forms.IntegerField(
        label=_("good items (pieces)"),
        required=False,
        help_text=_("Every item inspected: how many are good."),
    )
    inspection_level = forms.ChoiceField(
        label=_("inspection level"),
        required=False,
        initial="II",
        help_text=_("II is the usual level. S-1 … S-4: small samples for costly checks."),
    )
    aql = forms.ChoiceField(
        label=_("AQL (%)"),
        required=False,
        initial="1.0",
        help_text=_("The defect rate still acceptable, e.g. 1.0 %."),
    )
    defects_found = forms.IntegerField(
        label=_("defective items found in the sample"), required=False, initial=0
    )
    defect_reason = forms.CharField(
        label=_("what is wrong with the rejected items"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    disposition = forms.ChoiceField(
        label=_("rejected items"),
        required=False,
        choices=Disposition.choices,
        widget=forms.RadioSelect,
    )
    charge_yen = YenField(
        label=_("amount charged to the member (yen, excl. tax)"),
        required=False,
        help_text=_("Only when the rejected items are scrapped and charged."),
    )
    photos = MultipleFileField(
        label=_("photos of the defects"),
        required=False,
        help_text=_("JPEG, PNG, WebP or GIF; you may choose several at once."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspection_level"].choices = [(level, level) for level in sampling.LEVELS]
        self.fields["aql"].choices = [(str(a), str(a)) for a in sampling.AQLS]
        for name in ("quantity_received", "quantity_passed", "defects_found"):
            self.fields[name].widget.attrs["inputmode"] = "numeric"
        drop_browser_minimums(self)

    # The groups the page shows, in order (the plan sits between level/AQL and the defects).
    def received_fields(self):
        return [self["quantity_received"]]

    def plan_fields(self):
        return [self["inspection_level"], self["aql"]]

    def sample_fields(self):
        return [self["defects_found"]]

    def every_item_fields(self):
        return [self["quantity_passed"]]

    def rejected_fields(self):
        return [self[n] for n in ("defect_reason", "disposition", "charge_yen", "photos")]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {
            "quantity_received": data["quantity_received"],
            "defect_reason": data.get("defect_reason") or "",
            "disposition": data.get("disposition") or "",
            "charge_yen": data.get("charge_yen"),
            "photos": data.get("photos") or [],
        }
        if data["method"] == self.SAMPLE:
            kwargs.update(
                inspection_level=data.get("inspection_level") or "",
                aql=data.get("aql") or "",
                defects_found=data.get("defects_found"),
            )
        else:
            kwargs["quantity_passed"] = data.get("quantity_passed")
        return kwargs


# ---------------------------------------------------------------------------------------
# The member: answering an invitation, delivering


class RespondForm(forms.Form):
    ACCEPT, DECLINE = "accept", "decline"

    # Posted by the button pressed (引き受ける / 辞退する).
    decision = forms.ChoiceField(
        choices=((ACCEPT, _("Accept")), (DECLINE, _("Decline"))), widget=forms.HiddenInput
    )
    reason = forms.CharField(
        label=_("reason, if you decline"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("e.g. fully booked that month. It helps the lead plan the next job."),
    )


class DeliveryForm(forms.Form):
    quantity = forms.IntegerField(label=_("quantity delivered (pieces)"))
    note = forms.CharField(
        label=_("note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("e.g. 2 boxes, sent by ヤマト運輸"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quantity"].widget.attrs["inputmode"] = "numeric"
        drop_browser_minimums(self)


# ---------------------------------------------------------------------------------------
# The buyer: a claim on a delivery


class ClaimForm(forms.Form):
    quantity = forms.IntegerField(label=_("how many items (pieces)"))
    description = forms.CharField(
        label=_("what is wrong"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("e.g. fine scratches on the rim of 5 tumblers"),
    )
    photos = MultipleFileField(
        label=_("photos"),
        required=False,
        help_text=_("JPEG, PNG, WebP or GIF; you may choose several at once."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quantity"].widget.attrs["inputmode"] = "numeric"
        drop_browser_minimums(self)
