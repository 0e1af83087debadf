"""Forms of the settlement pages, and the document filters the pages, the CSV export and the
API share (one place says what `kind`, `status`, `from` … mean)."""

import datetime

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Document, DocumentKind, DocumentStatus, RunKind


class DocumentFilterForm(forms.Form):
    """Filters of a document list; every one optional. `from`/`to` bound the issue date."""

    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), required=False, choices=[("", "—"), *DocumentKind.choices]
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), required=False, choices=[("", "—"), *DocumentStatus.choices]
    )
    network = forms.IntegerField(label=gettext_lazy("Network"), required=False, min_value=1)
    issuer = forms.IntegerField(label=gettext_lazy("Issuer (company)"), required=False, min_value=1)
    recipient = forms.IntegerField(
        label=gettext_lazy("Recipient (company)"), required=False, min_value=1
    )
    date_from = forms.DateField(label=gettext_lazy("Issued from"), required=False)
    date_to = forms.DateField(label=gettext_lazy("Issued until"), required=False)
    # An accountant matching a bank transfer looks a document up by its amount or number.
    amount_min = forms.IntegerField(label=gettext_lazy("Total from (yen)"), required=False)
    amount_max = forms.IntegerField(label=gettext_lazy("Total up to (yen)"), required=False)
    q = forms.CharField(
        label=gettext_lazy("Number or name"), required=False, max_length=100, strip=True
    )

    # The query string says from/to (a Python keyword cannot be a field name).
    ALIASES = {"from": "date_from", "to": "date_to"}

    def __init__(self, data=None, **kwargs):
        if data is not None:
            data = {self.ALIASES.get(k, k): v for k, v in data.items()}
        super().__init__(data, **kwargs)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end of the period is before its start."))
        low, high = cleaned.get("amount_min"), cleaned.get("amount_max")
        if low is not None and high is not None and high < low:
            self.add_error("amount_max", _("The upper amount is below the lower one."))
        return cleaned

    def apply(self, documents):
        """The documents narrowed by the valid filters (call after is_valid())."""
        data = self.cleaned_data
        lookups = {
            "kind": "kind",
            "status": "status",
            "network": "network_id",
            "issuer": "issuer_company_id",
            "recipient": "recipient_company_id",
            "date_from": "issue_date__gte",
            "date_to": "issue_date__lte",
        }
        filters = {lookup: data[name] for name, lookup in lookups.items() if data.get(name)}
        # 0 is a real bound (a fee waived, a statement netted to nothing).
        if data.get("amount_min") is not None:
            filters["total_yen__gte"] = data["amount_min"]
        if data.get("amount_max") is not None:
            filters["total_yen__lte"] = data["amount_max"]
        documents = documents.filter(**filters)
        if data.get("q"):
            text = data["q"]
            documents = documents.filter(
                Q(number__icontains=text)
                | Q(issuer_name__icontains=text)
                | Q(recipient_name__icontains=text)
            )
        return documents

    def errors_by_query_name(self) -> dict:
        back = {v: k for k, v in self.ALIASES.items()}
        return {back.get(k, k): v for k, v in self.errors.items()}


class PaymentForm(forms.Form):
    amount_yen = forms.IntegerField(label=gettext_lazy("Amount (yen)"), min_value=1)
    paid_on = forms.DateField(
        label=gettext_lazy("Paid on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )
    note = forms.CharField(
        label=gettext_lazy("Note (e.g. bank transfer)"), required=False, max_length=500
    )
    is_advance = forms.BooleanField(
        label=gettext_lazy("Paid before the buyer paid us (advance)"), required=False
    )

    def __init__(self, *args, document: Document, **kwargs):
        super().__init__(*args, **kwargs)
        if document.kind != DocumentKind.STATEMENT:
            del self.fields["is_advance"]


def month_choices(today: datetime.date | None = None, count: int = 12):
    """The last `count` months that are over, newest first, as (first day, 2026-10)."""
    today = today or timezone.localdate()
    year, month = today.year, today.month
    choices = []
    for _i in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        first = datetime.date(year, month, 1)
        choices.append((first.isoformat(), f"{year}-{month:02d}"))
    return choices


class RunStartForm(forms.Form):
    """Start a month's close (or a fiscal year's fees) for one of the secretariat's networks."""

    network = forms.TypedChoiceField(label=gettext_lazy("Network"), coerce=int)
    kind = forms.ChoiceField(
        label=gettext_lazy("What to run"), choices=RunKind.choices, initial=RunKind.MONTHLY_CLOSE
    )
    period = forms.DateField(
        label=gettext_lazy("Month (its first day) or fiscal year start"),
        widget=forms.Select(),
    )

    def __init__(self, *args, networks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["network"].choices = [(n.pk, str(n)) for n in networks]
        choices = month_choices()
        self.fields["period"].widget.choices = choices
        self.fields["period"].initial = choices[0][0]


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why it is reopened"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
