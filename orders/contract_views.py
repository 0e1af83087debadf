"""The pages of contracts: the secretariat's contract templates (契約書ひな形) and the
agreement PDF for the parties and the secretariat.

As in orders/views/: each page declares its access and scope (members.pages: 403 for
another role, 404 for what the viewer may not see), and a write is one service call whose
refusal is shown on the form field it names.
"""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import pdf
from core.errors import BrokerageError
from members.forms import call_service
from members.models import Network
from members.pages import SECRETARIAT, SIGNED_IN, networks_kept, page

from . import contracts, selectors
from .models import AgreementKind, ContractTemplate
from .projects import DEFAULT_TEMPLATES


class ContractTemplateForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Text of the contract"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "contract-body"}),
    )


def _networks_kept(request):
    """The active networks whose secretariat the viewer serves: the contract pages answer
    403 to whoever serves none (SECRETARIAT), 404 for another network's."""
    return networks_kept(request).filter(is_active=True)


@page(SECRETARIAT, scope=_networks_kept, lookup="network_id")
def contract_template_list(request, network: Network):
    """The network's contract texts: its own, or the standard text where it has none."""
    saved = {t.kind: t for t in ContractTemplate.objects.filter(network=network)}
    rows = [{"kind": kind, "template": saved.get(kind.value)} for kind in AgreementKind]
    return render(request, "orders/contract_template_list.html", {"network": network, "rows": rows})


@page(SECRETARIAT, scope=_networks_kept, lookup="network_id")
def contract_template_edit(request, network: Network, kind: str):
    """Edit one text: preview it with sample data, or save it (a broken template is shown on
    the text). Saving applies to agreements generated afterwards."""
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


@page(SIGNED_IN, scope=lambda request: selectors.agreement_list(viewer=request.user))
def agreement_pdf(request, agreement):
    """The agreement as a PDF, for the two parties and the network's secretariat."""
    return pdf.download(
        contracts.agreement_pdf(agreement), contracts.agreement_pdf_filename(agreement)
    )
