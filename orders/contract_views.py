"""The pages of contracts: the secretariat's contract templates (契約書ひな形) and the
agreement PDF for the parties and the secretariat.

As in orders/views.py: objects come through selectors scoped to the viewer (404 for what the
viewer may not see), the right to act is checked before a form is read (403), and a write is
one service call whose refusal is shown on the form field it names.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import pdf
from core.errors import BrokerageError
from members import selectors as member_selectors
from members.forms import call_service
from members.models import Network
from members.permissions import roles_of

from . import contracts, selectors
from .models import AgreementKind, ContractTemplate
from .projects import DEFAULT_TEMPLATES


class ContractTemplateForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Text of the contract"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "contract-body"}),
    )


def _secretariat_network(request, network_id: int) -> Network:
    """A network whose secretariat the viewer serves: 403 for whoever serves none, 404 for
    another network's."""
    roles = roles_of(request.user)
    if not (roles.is_platform_admin or roles.secretariat_network_ids):
        raise PermissionDenied
    network = get_object_or_404(
        member_selectors.network_list(viewer=request.user).prefetch_related(None),
        pk=network_id,
        is_active=True,
    )
    if not roles.is_secretariat(network.pk):
        raise Http404
    return network


@login_required
def contract_template_list(request, network_id: int):
    """The network's contract texts: its own, or the standard text where it has none."""
    network = _secretariat_network(request, network_id)
    saved = {t.kind: t for t in ContractTemplate.objects.filter(network=network)}
    rows = [{"kind": kind, "template": saved.get(kind.value)} for kind in AgreementKind]
    return render(request, "orders/contract_template_list.html", {"network": network, "rows": rows})


@login_required
def contract_template_edit(request, network_id: int, kind: str):
    """Edit one text: preview it with sample data, or save it (a broken template is shown on
    the text). Saving applies to agreements generated afterwards."""
    network = _secretariat_network(request, network_id)
    if kind not in AgreementKind.values:
        raise Http404
    kind = AgreementKind(kind)
    current, saved = contracts.template_current(network, kind)
    preview = None
    if request.method == "POST":
        form = ContractTemplateForm(request.POST)
        if form.is_valid():
            body = form.cleaned_data["body"]
            if "preview" in request.POST:
                rendered = []
                if call_service(
                    form,
                    lambda: rendered.append(
                        contracts.template_preview(network, kind, body, actor=request.user)
                    ),
                ):
                    preview = rendered[0]
            elif call_service(
                form,
                lambda: contracts.template_save(
                    actor=request.user, network=network, kind=kind, body=body
                ),
            ):
                messages.success(
                    request,
                    _("The %(kind)s text was saved. Agreements generated from now on use it.")
                    % {"kind": kind.label},
                )
                return redirect("contract_template_edit", network_id=network.pk, kind=kind.value)
    else:
        form = ContractTemplateForm(initial={"body": current})
        try:
            preview = contracts.template_preview(network, kind, current)
        except BrokerageError as exc:  # saved before it was checked: show why, let it be fixed
            form.add_error("body", exc.message)
    return render(
        request,
        "orders/contract_template_edit.html",
        {
            "network": network,
            "kind": kind,
            "form": form,
            "saved": saved,
            "preview": preview,
            "names": contracts.usable_names(),
            "standard_text": DEFAULT_TEMPLATES[kind],
        },
    )


@login_required
def agreement_pdf(request, pk: int):
    """The agreement as a PDF, for the two parties and the network's secretariat."""
    agreement = get_object_or_404(selectors.agreement_list(viewer=request.user), pk=pk)
    return pdf.download(
        contracts.agreement_pdf(agreement), contracts.agreement_pdf_filename(agreement)
    )
