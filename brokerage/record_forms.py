"""Forms of the record pages: the dashboard's filters, the probation rule, a lift."""

import datetime

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.models import Material, Network, ProbationRule, Process

from . import record

# A longer period is no longer a record but a history: the yearly series covers that.
MAX_PERIOD_DAYS = 366 * 5


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class RecordFilterForm(forms.Form):
    """The period and catalogue filters, read from the query string (`from`, `to`,
    `process`, `material` by code), as the API takes them."""

    def __init__(self, data=None, *, network: Network, today: datetime.date | None = None):
        super().__init__(data)
        self.network = network
        self.default = record.fiscal_year(network, today)
        self.fields["from"] = forms.DateField(
            label=gettext_lazy("from"), required=False, widget=DateInput()
        )
        self.fields["to"] = forms.DateField(
            label=gettext_lazy("to"), required=False, widget=DateInput()
        )
        self.fields["process"] = forms.ModelChoiceField(
            label=gettext_lazy("process"),
            queryset=Process.objects.filter(is_active=True),
            to_field_name="code",
            required=False,
            empty_label=gettext_lazy("All processes"),
        )
        self.fields["material"] = forms.ModelChoiceField(
            label=gettext_lazy("material"),
            queryset=Material.objects.filter(is_active=True),
            to_field_name="code",
            required=False,
            empty_label=gettext_lazy("All materials"),
        )
        self.fields["from"].initial = self.default.start
        self.fields["to"].initial = self.default.end

    def clean(self):
        data = super().clean()
        start = data.get("from") or self.default.start
        end = data.get("to") or self.default.end
        if end < start:
            self.add_error("to", _("The end comes before the start."))
        elif (end - start).days > MAX_PERIOD_DAYS:
            self.add_error("to", _("Choose a period of at most five years."))
        return data

    def filters(self) -> tuple[record.Period, Process | None, Material | None]:
        """The chosen period and filters; the fiscal year and no filter when invalid."""
        if not self.is_bound or not self.is_valid():
            return self.default, None, None
        data = self.cleaned_data
        period = record.Period(
            data.get("from") or self.default.start, data.get("to") or self.default.end
        )
        return period, data.get("process"), data.get("material")


class ProbationRuleForm(forms.ModelForm):
    class Meta:
        model = ProbationRule
        fields = [
            "is_active",
            "min_on_time_rate_pct",
            "max_defect_rate_pct",
            "min_completed_packages",
            "window_months",
            "max_package_value_yen",
            "minimum_months",
        ]


class LiftForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("why the probation is lifted"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
