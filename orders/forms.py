"""Forms of the inquiry-flow pages. They check the shape of the input; the services hold the
rules, and `members.forms.apply_service_error` puts what a service refuses back on the form."""

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from members.forms import (
    FieldsetsMixin,
    LocalNameChoiceField,
    prefecture_choices,
    set_minimum,
)
from members.models import Buyer, FinishKind, Material, Process
from members.templatetags.members_tags import local_name

from .models import INQUIRY_SPEC_FIELDS, AwardMode, Inquiry
from .services import INQUIRY_FIELDS, REFERRAL_CATEGORIES
from .uploads import MAX_ATTACHMENT_BYTES

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


def datetime_input():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT_FORMAT)


def drop_browser_minimums(form: forms.BaseForm) -> None:
    """The browser's own min checks would hide the server's message; the server decides."""
    for field in form.fields.values():
        field.widget.attrs.pop("min", None)


class LocalNameMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return local_name(obj)


class CompanyMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.legal_name}（{obj.city}）" if obj.city else obj.legal_name


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several drawings or photos in one input; cleans to a list (possibly empty)."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


FULL_WIDTH_DIGITS = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９"}


class YenField(forms.IntegerField):
    """Accepts ¥1,200,000 or full-width digits as typed; the value is 1200000."""

    widget = forms.TextInput

    def to_python(self, value):
        if isinstance(value, str):
            value = value.translate(FULL_WIDTH_DIGITS)
            for mark in (",", "，", "¥", "￥", "円"):
                value = value.replace(mark, "")
        return super().to_python(value)


# ---------------------------------------------------------------------------------------
# The buyer's inquiry


class InquiryForm(FieldsetsMixin, forms.ModelForm):
    FIELDSETS = (
        (_("What should be made"), ("title", "description", "material", "processes")),
        (_("Finish"), ("finish_kind", "finish_grit", "finish_ra_input")),
        (
            _("Quantity and size of one piece"),
            ("quantity", "lot_pattern", "length_mm", "width_mm", "height_mm", "weight_kg"),
        ),
        (
            _("Delivery"),
            ("desired_delivery_date", "delivery_prefecture", "delivery_city"),
        ),
        (_("Budget and confidentiality"), ("budget_yen", "nda_required")),
        (_("Drawings and photos"), ("files",)),
    )

    budget_yen = YenField(
        label=_("budget (yen)"),
        required=False,
        min_value=1,
        help_text=_("Optional, excluding consumption tax. It helps the lead companies."),
    )
    network = forms.ModelChoiceField(
        queryset=None,
        label=_("network to ask"),
        empty_label=None,
        help_text=_("The network whose secretariat receives your inquiry."),
    )
    material = LocalNameChoiceField(queryset=None, label=_("material"))
    processes = LocalNameMultipleChoiceField(
        queryset=None,
        label=_("processes"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Tick every process the work needs. Not sure? Tick the closest one and explain "
            "in the description."
        ),
    )
    files = MultipleFileField(
        label=_("drawings and photos"),
        required=False,
        help_text=_(
            "PDF, JPEG, PNG, WebP, GIF, DXF or STEP, up to %(mb)d MB each. You may choose "
            "several files at once."
        )
        % {"mb": MAX_ATTACHMENT_BYTES >> 20},
    )
    # A retried or double-clicked submission creates one inquiry.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)

    class Meta:
        model = Inquiry
        fields = list(INQUIRY_SPEC_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            "finish_kind": forms.RadioSelect,
            "lot_pattern": forms.RadioSelect,
            "desired_delivery_date": DATE_INPUT,
        }
        # The model's verbose names are shared with other models ("title" of a contact,
        # "quantity" of machines): the form says what they mean here.
        labels = {
            "title": _("inquiry title"),
            "description": _("details of the work"),
            "quantity": _("quantity (pieces)"),
        }
        help_texts = {
            "title": _("e.g. Mirror polishing of stainless tumblers"),
            "description": _(
                "What the piece is, what it is used for, the current surface, and anything the "
                "polisher should know (e.g. scratches to avoid, packing)."
            ),
            "finish_grit": _("When the finish is a grit number, e.g. 400."),
            "finish_ra_input": _("When the finish is a roughness, e.g. 0.1."),
            "weight_kg": _("Weight of one piece."),
            "nda_required": _(
                "Tick if the drawings must stay confidential: they are then shown to the lead "
                "companies only after an NDA is signed."
            ),
            "delivery_city": _("City, ward or town, e.g. 燕市."),
        }

    def __init__(self, *args, networks=None, **kwargs):
        super().__init__(*args, **kwargs)
        assert set(self.Meta.fields) <= INQUIRY_FIELDS
        networks = list(networks or [])
        self.fields["network"].queryset = _queryset_of(networks)
        self._only_network = networks[0] if len(networks) == 1 else None
        if self._only_network is not None:
            # One network: no choice to make.
            self.fields["network"].widget = forms.HiddenInput()
            self.fields["network"].required = False
            self.fields["network"].initial = self._only_network.pk
        self.fields["material"].queryset = Material.objects.filter(is_active=True)
        self.fields["processes"].queryset = Process.objects.filter(is_active=True)
        self.fields["finish_kind"].choices = [
            ("", _("No particular requirement")),
            *FinishKind.choices,
        ]
        self.fields["finish_kind"].required = False
        self.fields["delivery_prefecture"].choices = prefecture_choices(_("Choose a prefecture"))
        for name in ("quantity", "length_mm", "width_mm", "height_mm"):
            set_minimum(self.fields[name], 1)
        if not self.is_bound and not self.initial.get("idempotency_key"):
            self.initial["idempotency_key"] = uuid.uuid4().hex
        self.fields["title"].widget.attrs["placeholder"] = _("e.g. Mirror polishing of tumblers")
        self.fields["budget_yen"].widget.attrs.update(
            {"inputmode": "numeric", "placeholder": _("e.g. 1,500,000")}
        )
        drop_browser_minimums(self)

    def fieldsets(self):
        sets = [
            (legend, [self[name] for name in names if name in self.fields])
            for legend, names in self.FIELDSETS
        ]
        sets = [(legend, fields) for legend, fields in sets if fields]
        if not isinstance(self.fields["network"].widget, forms.HiddenInput):
            sets.insert(0, (_("Where to send it"), [self["network"]]))
        return sets

    def clean_network(self):
        return self.cleaned_data.get("network") or self._only_network

    def clean(self):
        data = super().clean()
        kind = data.get("finish_kind")
        # Keep only the value that belongs to the chosen finish.
        if kind != FinishKind.GRIT:
            data["finish_grit"] = None
        if kind != FinishKind.RA:
            data["finish_ra_input"] = None
        required = {
            FinishKind.GRIT: ("finish_grit", _("Give the grit number, e.g. 400.")),
            FinishKind.RA: ("finish_ra_input", _("Give the roughness Ra in µm, above 0.")),
        }
        field, message = required.get(kind, (None, None))
        if field and data.get(field) is None and field not in self.errors:
            self.add_error(field, message)
        return data

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


def _queryset_of(networks):
    from members.models import Network

    return Network.objects.filter(pk__in=[n.pk for n in networks])


class GuestBuyerForm(forms.Form):
    """Who a visitor without an account is, for a guest inquiry."""

    kind = forms.ChoiceField(
        label=_("you are"), choices=Buyer.Kind.choices, widget=forms.RadioSelect, initial="company"
    )
    name = forms.CharField(label=_("your name"), max_length=200)
    organisation = forms.CharField(
        label=_("company name"),
        max_length=200,
        required=False,
        help_text=_("Leave empty if you ask as a private person."),
    )
    email = forms.EmailField(
        label=_("e-mail"), help_text=_("We send a confirmation link to this address.")
    )
    phone = forms.CharField(label=_("phone"), max_length=30, required=False)
    # A honeypot: hidden from people by the page's CSS (class, not inline style: the CSP
    # forbids those), skipped by screen readers and the tab key. Bots fill every field.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    HONEYPOT = "website"

    def clean(self):
        data = super().clean()
        if data.get("kind") == Buyer.Kind.COMPANY and not data.get("organisation"):
            self.add_error("organisation", _("Give the company name."))
        return data

    @property
    def is_bot(self) -> bool:
        """The hidden field was filled in: answer as if sent, save and send nothing."""
        return self.HONEYPOT in self.fields and bool(self.data.get(self.add_prefix(self.HONEYPOT)))

    def person_fields(self):
        return [f for f in self.visible_fields() if f.name != self.HONEYPOT]

    def buyer_data(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "name": data["name"],
            "organisation": data.get("organisation") or "",
            "email": data["email"],
            "phone": data.get("phone") or "",
        }


class PhonedBuyerForm(GuestBuyerForm):
    """Who the buyer of an inquiry taken by phone is, as the secretariat enters it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields[self.HONEYPOT]  # the secretariat is no bot
        self.fields["kind"].label = _("the buyer is")
        self.fields["name"].label = _("buyer's name")
        self.fields["organisation"].help_text = _("Leave empty for a private person.")
        self.fields["email"].help_text = _("The buyer's answers and the award go to this address.")


# ---------------------------------------------------------------------------------------
# The buyer's answers


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("your answer"), widget=forms.Textarea(attrs={"rows": 4}))


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("reason (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("It helps the network to serve you better next time."),
    )


class AttachmentForm(forms.Form):
    files = MultipleFileField(label=_("add drawings or photos"))


# ---------------------------------------------------------------------------------------
# The secretariat's screening


def award_mode_choices(network, *, with_default: bool):
    modes = []
    if network.award_by_bid:
        modes.append((AwardMode.BID, AwardMode.BID.label))
    if network.award_by_coordination:
        modes.append((AwardMode.COORDINATION, AwardMode.COORDINATION.label))
    if with_default:
        return [("", _("The network's default")), *modes]
    return modes


class PublishForm(forms.Form):
    deadline = forms.DateTimeField(
        label=_("application deadline"),
        required=False,
        widget=datetime_input(),
        help_text=_("Leave empty for the network's usual window."),
    )
    award_mode = forms.ChoiceField(label=_("how the lead is chosen"), required=False)

    def __init__(self, *args, network, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["award_mode"].choices = award_mode_choices(network, with_default=True)
        self.fields["deadline"].help_text = _(
            "Leave empty for the network's usual window (%(days)d days)."
        ) % {"days": network.application_window_days}

    def service_kwargs(self) -> dict:
        return {
            "deadline": self.cleaned_data["deadline"],
            "award_mode": self.cleaned_data["award_mode"] or None,
        }


class QuestionForm(forms.Form):
    question = forms.CharField(
        label=_("question to the buyer"), widget=forms.Textarea(attrs={"rows": 3})
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("reason given to the buyer"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The buyer reads this. A declined buyer rarely comes back: be specific."),
    )


class EscalateForm(forms.Form):
    reason = forms.CharField(
        label=_("why the committee must decide"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Internal: the buyer does not see it."),
    )


REFERRAL_LABELS = {
    "process": _("A process no member covers"),
    "location": _("The location"),
    "deadline": _("The deadline"),
    "capacity": _("No spare capacity"),
    "no_applicant": _("No lead company applied"),
    "secretariat": _("Other (secretariat's judgement)"),
}


class ReferForm(forms.Form):
    category = forms.ChoiceField(
        label=_("why it is referred"),
        choices=[(c, REFERRAL_LABELS[c]) for c in REFERRAL_CATEGORIES],
        initial="process",
    )
    reason = forms.CharField(
        label=_("message to the buyer"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Say to whom the inquiry is referred and why."),
    )


MAX_STAGES = 4


class SplitForm(forms.Form):
    """A process chain: up to four stages in working order, each a network (this one or a
    partner) and the inquiry's processes it does. Empty rows are left out."""

    def __init__(self, *args, inquiry, **kwargs):
        super().__init__(*args, **kwargs)
        from members.models import Network

        network_ids = [inquiry.network_id, *inquiry.network.partners.values_list("pk", flat=True)]
        networks = Network.objects.filter(pk__in=network_ids, is_active=True).order_by("pk")
        processes = inquiry.processes.all()
        for n in range(1, MAX_STAGES + 1):
            network_field = LocalNameChoiceField(
                queryset=networks,
                label=_("stage %(n)d: network") % {"n": n},
                required=False,
                empty_label=_("(no stage)"),
            )
            if n <= 2:
                network_field.initial = inquiry.network_id
            self.fields[f"network_{n}"] = network_field
            self.fields[f"processes_{n}"] = LocalNameMultipleChoiceField(
                queryset=processes,
                label=_("stage %(n)d: processes") % {"n": n},
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )

    def rows(self):
        """(n, [network, processes]) per stage row, for the template."""
        return [
            (n, [self[f"network_{n}"], self[f"processes_{n}"]]) for n in range(1, MAX_STAGES + 1)
        ]

    def clean(self):
        data = super().clean()
        stages = []
        for n in range(1, MAX_STAGES + 1):
            network = data.get(f"network_{n}")
            processes = list(data.get(f"processes_{n}") or [])
            if network and not processes:
                self.add_error(f"processes_{n}", _("Tick the processes of this stage."))
            elif processes and not network:
                self.add_error(f"network_{n}", _("Choose the network of this stage."))
            elif network:
                stages.append((network, processes))
        if not self.errors and len(stages) < 2:
            raise ValidationError(_("A chain has at least two stages."))
        self.stages = stages
        return data


class DeadlineForm(forms.Form):
    deadline = forms.DateTimeField(
        label=_("new deadline"),
        widget=datetime_input(),
        help_text=_(
            "Later than the current deadline: a published deadline is never brought forward."
        ),
    )
    reason = forms.CharField(
        label=_("reason for the extension"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Every called lead company is told, with this reason."),
    )


class CloseApplicationsForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "The called lead companies are told, with this reason, before any price opens."
        ),
    )


class CommitteeCloseForm(forms.Form):
    votes_for = forms.IntegerField(label=_("votes for"), min_value=0, max_value=999, initial=0)
    votes_against = forms.IntegerField(
        label=_("votes against"), min_value=0, max_value=999, initial=0
    )
    votes_abstained = forms.IntegerField(
        label=_("abstentions"), min_value=0, max_value=999, initial=0
    )
    reason = forms.CharField(
        label=_("reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept on the record; the called lead companies read it."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        drop_browser_minimums(self)


class DeclineCallForm(forms.Form):
    reason = forms.CharField(
        label=_("why your company does not apply"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The secretariat reads this. You may still apply until the deadline."),
    )


class ChooseForm(forms.Form):
    application = forms.ModelChoiceField(queryset=None, label=_("application"), empty_label=None)
    reason = forms.CharField(
        label=_("reason for this choice"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept on the record: the members see why a lead was chosen."),
    )

    def __init__(self, *args, applications, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["application"]
        field.queryset = applications
        field.label_from_instance = lambda a: a.company.legal_name


class CommitteeDecisionForm(forms.Form):
    accept = forms.TypedChoiceField(
        label=_("decision"),
        choices=[("1", _("Accept and publish")), ("0", _("Decline"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    votes_for = forms.IntegerField(label=_("votes for"), min_value=0, initial=0)
    votes_against = forms.IntegerField(label=_("votes against"), min_value=0, initial=0)
    votes_abstained = forms.IntegerField(label=_("abstentions"), min_value=0, initial=0)
    reason = forms.CharField(
        label=_("reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("When declined, the buyer reads this reason."),
    )
    deadline = forms.DateTimeField(
        label=_("application deadline (when accepted)"),
        required=False,
        widget=datetime_input(),
        help_text=_("Leave empty for the network's usual window."),
    )
    award_mode = forms.ChoiceField(label=_("how the lead is chosen"), required=False)

    def __init__(self, *args, network, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["award_mode"].choices = award_mode_choices(network, with_default=True)
        drop_browser_minimums(self)

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data["award_mode"] = data["award_mode"] or None
        return data


# ---------------------------------------------------------------------------------------
# The lead company's application


class ApplicationForm(forms.Form):
    price_yen = YenField(
        label=_("price (yen, excl. tax)"),
        min_value=1,
        help_text=_("For the whole order, in whole yen, excluding consumption tax."),
    )
    lead_time_days = forms.IntegerField(
        label=_("lead time (days)"),
        min_value=1,
        max_value=3650,
        help_text=_("Days from the order to delivery."),
    )
    proposed_team = CompanyMultipleChoiceField(
        queryset=None,
        label=_("proposed team (tentative)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Joint-order members you would ask to work with you. Not binding."),
    )
    notes = forms.CharField(
        label=_("notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("How you would do the work, conditions, questions."),
    )
    # The application being revised; empty for a first application. A colleague's blank
    # form posted after yours is refused instead of overwriting your price.
    application = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, team_candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proposed_team"].queryset = team_candidates
        self.fields["price_yen"].widget.attrs.update(
            {"inputmode": "numeric", "placeholder": _("e.g. 850,000")}
        )
        drop_browser_minimums(self)


def raise_file_error(name: str, error: ValidationError) -> ValidationError:
    """A refused upload's message, with the file's name so the buyer knows which."""
    messages = error.message_dict.get("file") if hasattr(error, "error_dict") else error.messages
    return ValidationError([f"{name}: {m}" for m in messages or error.messages])
