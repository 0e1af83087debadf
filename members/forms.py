"""Forms of the member pages. They check the shape of the input; the services hold the rules,
and `apply_service_error` puts what a service refuses back on the form."""

from decimal import Decimal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import BrokerageError, NotAllowed

from . import selectors, services
from .models import Capability, Company, FinishKind, MembershipClass, MembershipStatus
from .prefectures import PREFECTURES
from .templatetags.members_tags import is_japanese, local_name
from .validators import normalize_code


def apply_service_error(form: forms.BaseForm, exc: ValidationError | BrokerageError) -> None:
    """Show a service's refusal on the form: on the field it names, else above the form."""
    if isinstance(exc, BrokerageError):
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.error_dict.items():
        messages = [m for error in errors for m in error.messages]
        if field in form.fields:
            form.add_error(field, messages)
        elif field == NON_FIELD_ERRORS:
            form.add_error(None, messages)
        else:
            form.add_error(None, [f"{field}: {m}" for m in messages])


def call_service(form: forms.BaseForm, call) -> bool:
    """Run a service for a valid form: refused as not allowed → 403; a broken rule → shown on
    the form (on the field it names). True when the service succeeded."""
    try:
        call()
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except (ValidationError, BrokerageError) as exc:
        apply_service_error(form, exc)
        return False
    return True


def changed_fields(form: forms.BaseForm) -> dict:
    """Only what the user changed, so a service writes no more than that."""
    return {
        name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data
    }


class FieldsetsMixin:
    """`FIELDSETS` = ((legend, (field names…)), …): the template shows the form in groups."""

    FIELDSETS: tuple = ()

    def fieldsets(self):
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]


def prefecture_choices(empty_label):
    index = 1 if is_japanese() else 2
    return [("", empty_label)] + [(row[0], row[index]) for row in PREFECTURES]


def set_minimum(field: forms.Field, minimum) -> None:
    """Say the model's real lower bound (a size of 0 is no size) instead of the column's 0."""
    field.min_value = minimum
    field.validators = [v for v in field.validators if not isinstance(v, MinValueValidator)]
    field.validators.append(MinValueValidator(minimum))


class LocalNameChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return local_name(obj)


# ---------------------------------------------------------------------------------------
# Company profile

# Codes people type with hyphens, spaces or full-width digits: the form accepts them long,
# normalises them, and the model's validators then see the plain code.
CODE_FIELDS = ("corporate_number", "invoice_registration_number", "postal_code")


class CompanyProfileForm(FieldsetsMixin, forms.ModelForm):
    FIELDSETS = (
        (_("Name"), ("legal_name", "legal_name_kana", "name_en")),
        (_("Official numbers"), ("corporate_number", "invoice_registration_number")),
        (_("Address"), ("postal_code", "prefecture", "city", "address_line")),
        (_("Contact"), ("phone", "email", "website")),
        (_("About the company"), ("employees", "capital_yen", "description")),
        (_("Location on the map (optional)"), ("latitude", "longitude")),
    )

    class Meta:
        model = Company
        fields = [
            "legal_name",
            "legal_name_kana",
            "name_en",
            "corporate_number",
            "invoice_registration_number",
            "postal_code",
            "prefecture",
            "city",
            "address_line",
            "phone",
            "email",
            "website",
            "employees",
            "capital_yen",
            "description",
            "latitude",
            "longitude",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        assert set(self.Meta.fields) <= services.COMPANY_FIELDS
        self.fields["prefecture"].choices = prefecture_choices(_("Choose a prefecture"))
        for name in CODE_FIELDS:
            field = self.fields[name]
            field.max_length = 30
            field.validators = [
                v for v in field.validators if not isinstance(v, MaxLengthValidator)
            ]
            field.widget.attrs.update({"maxlength": "30", "inputmode": "numeric"})
        self.fields["invoice_registration_number"].widget.attrs["inputmode"] = "text"

    def _clean_code(self, name):
        value = self.cleaned_data.get(name)
        if value is None:
            return None
        return normalize_code(value) or ("" if name != "corporate_number" else None)

    def clean_corporate_number(self):
        return self._clean_code("corporate_number")

    def clean_invoice_registration_number(self):
        return self._clean_code("invoice_registration_number")

    def clean_postal_code(self):
        return self._clean_code("postal_code")


# ---------------------------------------------------------------------------------------
# Capabilities


class CapabilityForm(FieldsetsMixin, forms.ModelForm):
    FIELDSETS = (
        (_("Process and material"), ("process", "material")),
        (_("Largest piece"), ("max_length_mm", "max_width_mm", "max_height_mm", "max_weight_kg")),
        (_("Finest finish"), ("finish_kind", "finish_grit", "finish_ra_input")),
        (_("Lots and lead time"), ("lot_min", "lot_max", "lead_time_days")),
        (_("Spare capacity"), ("spare_capacity_per_month", "notes")),
    )

    process = LocalNameChoiceField(queryset=None, label=_("process"))
    material = LocalNameChoiceField(queryset=None, label=_("material"))

    class Meta:
        model = Capability
        fields = [
            "process",
            "material",
            "max_length_mm",
            "max_width_mm",
            "max_height_mm",
            "max_weight_kg",
            "finish_kind",
            "finish_grit",
            "finish_ra_input",
            "lot_min",
            "lot_max",
            "lead_time_days",
            "spare_capacity_per_month",
            "notes",
        ]
        widgets = {
            "finish_kind": forms.RadioSelect,
            "notes": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "finish_grit": _("When the finish is a grit number, e.g. 400."),
            "finish_ra_input": _("When the finish is a roughness, e.g. 0.1."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        assert set(self.Meta.fields) <= services.CAPABILITY_FIELDS
        self.fields["process"].queryset = selectors.process_list()
        self.fields["material"].queryset = selectors.material_list()
        self.fields["finish_kind"].choices = FinishKind.choices
        for name in ("max_length_mm", "max_width_mm", "max_height_mm", "lot_min", "lot_max"):
            set_minimum(self.fields[name], 1)
        set_minimum(self.fields["max_weight_kg"], Decimal("0.01"))
        # The browser's own min checks would hide the server's message; the server decides.
        for field in self.fields.values():
            field.widget.attrs.pop("min", None)

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


class SpareCapacityForm(forms.Form):
    spare_capacity_per_month = forms.IntegerField(
        label=_("spare capacity (pieces / month)"), min_value=0
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["spare_capacity_per_month"].widget.attrs.pop("min", None)


# ---------------------------------------------------------------------------------------
# Directories


class MemberDirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("name"), required=False, max_length=100)
    process = LocalNameChoiceField(
        queryset=None, label=_("process"), required=False, empty_label=_("All")
    )
    material = LocalNameChoiceField(
        queryset=None, label=_("material"), required=False, empty_label=_("All")
    )
    prefecture = forms.ChoiceField(label=_("prefecture"), required=False)
    membership_class = forms.ChoiceField(
        label=_("membership class"),
        required=False,
        choices=[("", _("All")), *MembershipClass.choices],
    )
    status = forms.ChoiceField(
        label=_("status"),
        required=False,
        choices=[("", _("All")), *MembershipStatus.choices],
    )
    min_spare = forms.IntegerField(
        label=_("min. spare capacity (pieces / month)"), required=False, min_value=0
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["process"].queryset = selectors.process_list()
        self.fields["material"].queryset = selectors.material_list()
        self.fields["prefecture"].choices = prefecture_choices(_("All"))


# ---------------------------------------------------------------------------------------
# Lead appointments


class RecommendForm(forms.Form):
    comment = forms.CharField(
        label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class DecideForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=_("decision"),
        choices=[("1", _("Approve")), ("0", _("Reject"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    decided_on = forms.DateField(
        label=_("decided on"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    votes_for = forms.IntegerField(label=_("votes for"), min_value=0, initial=0)
    votes_against = forms.IntegerField(label=_("votes against"), min_value=0, initial=0)
    votes_abstained = forms.IntegerField(label=_("abstentions"), min_value=0, initial=0)
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}))


class CompanyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.legal_name}（{obj.city}）" if obj.city else obj.legal_name


class AppointmentOpenForm(forms.Form):
    company = CompanyChoiceField(
        queryset=None,
        label=_("candidate"),
        help_text=_("An active joint-order member of the network."),
    )
    statement = forms.CharField(
        label=_("why this company should lead"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The members and the committee read it before recommending or deciding."),
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = candidates


class AppointmentWithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("reason for withdrawing"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept on the record; the candidate sees it."),
    )


class DirectoryEntryForm(forms.Form):
    """The consent and notes of a non-member directory entry."""

    consents_to_referrals = forms.BooleanField(label=_("consents to referrals"), required=False)
    consent_recorded_on = forms.DateField(
        label=_("consent recorded on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty for today when the company consents."),
    )
    notes = forms.CharField(
        label=_("notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the company does well, who to call, conditions."),
    )


class DirectoryAddForm(DirectoryEntryForm):
    """A non-member to list: an existing company, or (empty choice) the new company below."""

    company = CompanyChoiceField(
        queryset=None,
        label=_("existing company"),
        required=False,
        empty_label=_("(register a new company below)"),
    )
    field_order = ["company", "consents_to_referrals", "consent_recorded_on", "notes"]

    def __init__(self, *args, companies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = companies


class NewCompanyForm(CompanyProfileForm):
    """The few facts needed to register a non-member company."""

    FIELDSETS = (
        (_("Name"), ("legal_name", "legal_name_kana")),
        (_("Address"), ("postal_code", "prefecture", "city", "address_line")),
        (_("Contact"), ("phone", "email", "website")),
        (_("Official numbers"), ("corporate_number", "invoice_registration_number")),
        (_("About the company"), ("description",)),
    )

    class Meta(CompanyProfileForm.Meta):
        fields = [
            "legal_name",
            "legal_name_kana",
            "corporate_number",
            "invoice_registration_number",
            "postal_code",
            "prefecture",
            "city",
            "address_line",
            "phone",
            "email",
            "website",
            "description",
        ]

    def filled(self) -> bool:
        return bool(self.data.get(self.add_prefix("legal_name"), "").strip())

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
