"""The settlement pages: 「精算」 for the secretariat (runs per month, start a close, reopen,
a run's documents); 「請求書」 for the lead (its invoices to buyers, its members' statements to
it, payments received and made); 「支払明細」 for members (their statements, fees,
commissions, ledger); the buyer's invoices; one page per document with its PDF and CSV.

As in orders/views/: every page declares its access and, for one run, document or company,
its scope (members.pages): documents and runs come through the billing selectors (404 for
what the viewer may not see), a page for another role answers 403, and every write is one
service call whose refusal is shown on the form field it names.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import pdf
from core.errors import BrokerageError, NotAllowed
from members.forms import call_service
from members.models import Company, Network
from members.pages import BUYER, COMPANY, LEAD, POST, SECRETARIAT, SIGNED_IN, page, require
from members.permissions import roles_of

from . import documents as paper
from . import selectors
from .enqueue import run_queue
from .forms import DocumentFilterForm, PaymentForm, ReopenForm, RunStartForm
from .models import Document, DocumentKind, DocumentStatus, RunKind, RunStatus
from .payments import payment_record
from .runs import run_reopen

RUN_BADGES = {
    RunStatus.RUNNING: "attention",
    RunStatus.COMPLETED: "ok",
    RunStatus.FAILED: "danger",
    RunStatus.REOPENED: "warn",
}


# ---------------------------------------------------------------------------------------
# Helpers


def _rows(documents) -> list[dict]:
    """Each document with what was paid, what is left and whether it is overdue."""
    documents = list(documents)
    paid = paper.paid_map(documents)
    today = timezone.localdate()
    rows = []
    for document in documents:
        left = paper.outstanding_of(document, paid[document.pk])
        rows.append(
            {
                "document": document,
                "paid": paid[document.pk],
                "outstanding": left,
                "overdue": paper.is_overdue(document, left, today),
                "due": paper.due_of(document),
                "cancelled": document.status == DocumentStatus.CANCELLED,
            }
        )
    return rows


def _totals(rows) -> dict:
    live = [r for r in rows if not r["cancelled"]]
    return {
        "total": sum(r["document"].total_yen for r in live),
        "outstanding": sum(max(r["outstanding"], 0) for r in live),
        "overdue": sum(r["outstanding"] for r in live if r["overdue"]),
        "overdue_count": sum(1 for r in live if r["overdue"]),
    }


def _may_record_payment(user, document: Document) -> bool:
    """Mirrors billing.payments._require_payment_recorder, to show the form to whoever may."""
    roles = roles_of(user)
    if document.status != DocumentStatus.ISSUED:
        return False
    return {
        DocumentKind.INVOICE: roles.acts_for(document.issuer_company_id),
        DocumentKind.STATEMENT: roles.acts_for(document.recipient_company_id),
        DocumentKind.COMMISSION: roles.is_secretariat(document.network_id),
        DocumentKind.FEE: roles.is_secretariat(document.network_id),
    }[document.kind]


ONLY_SECRETARIAT = gettext_lazy("Only the network's secretariat runs the settlement.")
FOR_COMPANIES = gettext_lazy("This page is for member companies.")


def _secretariat_networks(user):
    roles = roles_of(user)
    if roles.is_platform_admin:
        return Network.objects.filter(is_active=True)
    return Network.objects.filter(pk__in=roles.secretariat_network_ids)


def _documents(user):
    return paper.with_lines(selectors.document_list(viewer=user))


# The pages' scopes (members.pages): anything else is 404.


def _visible_runs(request):
    return selectors.run_list(viewer=request.user)


def _visible_documents(request):
    return _documents(request.user)


def _companies_for_ledger(request):
    """Every company: who may read one's ledger is the ledger selector's rule, and its
    refusal is answered 404 like any object out of scope (_ledger)."""
    return Company.objects.all()


class SearchForm(DocumentFilterForm):
    """The pages' search box: a number or name and an amount range (the kind and the side
    are the page's sections)."""

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        for name in list(self.fields):
            if name not in ("q", "amount_min", "amount_max"):
                del self.fields[name]
        self.fields["q"].widget.attrs["placeholder"] = _("e.g. INV-2026 or 燕")


def _searched(request):
    """The caller's documents narrowed by the search box, and the bound form (its errors
    shown beside the box; an invalid search narrows nothing)."""
    form = SearchForm(request.GET or None)
    documents = _documents(request.user)
    if form.is_bound and form.is_valid():
        documents = form.apply(documents)
    return form, documents


# ---------------------------------------------------------------------------------------
# The secretariat: runs


@page(SECRETARIAT, refusal=gettext_lazy("Only a network's secretariat runs the settlement."))
def run_list_page(request):
    """Runs per month with their progress, a form to start a month's close."""
    networks = list(_secretariat_networks(request.user))
    form = RunStartForm(request.POST or None, networks=networks)
    if request.method == "POST" and form.is_valid():
        network = next(n for n in networks if n.pk == form.cleaned_data["network"])
        kind = form.cleaned_data["kind"]
        period = form.cleaned_data["period"]
        if call_service(
            form,
            lambda: run_queue(actor=request.user, network=network, kind=kind, period=period),
        ):
            messages.success(
                request,
                _(
                    "%(what)s of %(month)s for %(network)s has been started. It runs in the "
                    "background: reload this page to see its progress."
                )
                % {"what": RunKind(kind).label, "month": f"{period:%Y-%m}", "network": network},
            )
            return redirect("billing_runs")
    runs = selectors.run_list(viewer=request.user).filter(network__in=networks)
    rows = [
        {
            "run": run,
            "badge": RUN_BADGES.get(run.status, ""),
            "percent": (100 * run.progress_done // run.progress_total)
            if run.progress_total
            else (100 if run.status == RunStatus.COMPLETED else 0),
        }
        for run in runs
    ]
    return render(request, "billing/run_list.html", {"rows": rows, "form": form})


@page(SIGNED_IN, scope=_visible_runs)
def run_detail_page(request, run):
    """One run: its progress, its documents, and (completed) the form to reopen it."""
    require(roles_of(request.user).is_secretariat(run.network_id), ONLY_SECRETARIAT)
    form = ReopenForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and call_service(
            form,
            lambda: run_reopen(actor=request.user, run=run, reason=form.cleaned_data["reason"]),
        )
    ):
        messages.success(
            request,
            _(
                "The run was reopened. Start it again to recompute its documents: changed "
                "ones are cancelled and reissued."
            ),
        )
        return redirect("billing_run", pk=run.pk)
    rows = _rows(_documents(request.user).filter(run=run))
    return render(
        request,
        "billing/run_detail.html",
        {
            "run": run,
            "badge": RUN_BADGES.get(run.status, ""),
            "rows": rows,
            "totals": _totals(rows),
            "form": form if run.status == RunStatus.COMPLETED else None,
            "restart": run.status in (RunStatus.REOPENED, RunStatus.FAILED),
        },
    )


# ---------------------------------------------------------------------------------------
# Companies and buyers: their documents


@page(LEAD, refusal=gettext_lazy("This page is for lead companies."))
def lead_invoices(request):
    """「請求書」: the lead's invoices to buyers and its members' statements to it."""
    company_id = roles_of(request.user).company_id
    search, documents = _searched(request)
    invoices = _rows(documents.filter(kind=DocumentKind.INVOICE, issuer_company_id=company_id))
    statements = _rows(
        documents.filter(kind=DocumentKind.STATEMENT, recipient_company_id=company_id)
    )
    return render(
        request,
        "billing/lead_invoices.html",
        {
            "invoices": invoices,
            "invoice_totals": _totals(invoices),
            "statements": statements,
            "statement_totals": _totals(statements),
            "company_id": company_id,
            "search": search,
        },
    )


@page(COMPANY, refusal=FOR_COMPANIES)
def member_statements(request):
    """「支払明細」: the statements the member issued to its leads, and what the network bills
    it (fees, commissions)."""
    company_id = roles_of(request.user).company_id
    search, documents = _searched(request)
    statements = _rows(documents.filter(kind=DocumentKind.STATEMENT, issuer_company_id=company_id))
    network_bills = _rows(
        documents.filter(
            kind__in=[DocumentKind.FEE, DocumentKind.COMMISSION], recipient_company_id=company_id
        )
    )
    return render(
        request,
        "billing/member_statements.html",
        {
            "statements": statements,
            "statement_totals": _totals(statements),
            "network_bills": network_bills,
            "company_id": company_id,
            "search": search,
        },
    )


@page(BUYER, refusal=gettext_lazy("This page is for buyers."))
def buyer_invoices(request):
    """The buyer's invoices from the lead companies."""
    search, documents = _searched(request)
    rows = _rows(
        documents.filter(kind=DocumentKind.INVOICE, recipient_buyer__user_id=request.user.pk)
    )
    return render(
        request,
        "billing/buyer_invoices.html",
        {"rows": rows, "totals": _totals(rows), "search": search},
    )


def _ledger(request, company: Company | None):
    """The company's ledger (the viewer's own company's without one in the URL)."""
    if company is None:
        company_id = roles_of(request.user).company_id
        require(company_id is not None, FOR_COMPANIES)
        company = get_object_or_404(Company, pk=company_id)
    try:
        return company, selectors.ledger(company=company, viewer=request.user)
    except NotAllowed as exc:
        raise Http404 from exc


@page(SIGNED_IN, scope=_companies_for_ledger, lookup="company_id")
def ledger_page(request, company: Company | None):
    """A company's ledger: its own, or (secretariat) a member's of its network."""
    company, rows = _ledger(request, company)
    return render(
        request,
        "billing/ledger.html",
        {
            "company": company,
            "rows": [
                {"row": r, "amount": pdf.yen(r.amount_yen), "balance": pdf.yen(r.balance_yen)}
                for r in rows
            ],
        },
    )


@page(SIGNED_IN, scope=_companies_for_ledger, lookup="company_id")
def ledger_pdf(request, company: Company | None):
    company, rows = _ledger(request, company)
    stamp = timezone.localdate().isoformat()
    return pdf.download(paper.ledger_pdf(company, rows), f"ledger-{company.pk}-{stamp}.pdf")


# ---------------------------------------------------------------------------------------
# One document


@page(SIGNED_IN, scope=_visible_documents)
def document_detail(request, document: Document):
    row = _rows([document])[0]
    may_record = _may_record_payment(request.user, document)
    form = PaymentForm(request.POST or None, document=document) if may_record else None
    if request.method == "POST":
        require(
            form is not None,
            _(
                "The lead records payments of its invoices and to its members; the "
                "secretariat records fees and commissions."
            ),
        )
        if form.is_valid() and call_service(
            form,
            lambda: payment_record(actor=request.user, document=document, **form.cleaned_data),
        ):
            messages.success(request, _("The payment was recorded."))
            return redirect("billing_document", pk=document.pk)
    return render(
        request,
        "billing/document_detail.html",
        {
            "document": document,
            "row": row,
            "lines": document.lines.all(),
            "tax_lines": sorted(document.tax_lines.all(), key=lambda t: -t.rate),
            "payments": document.payments.order_by("paid_on", "pk"),
            "form": form,
            "registration": paper._registration(document),
            "payment_label": _("Record a payment received")
            if document.kind == DocumentKind.INVOICE
            else _("Record a payment made")
            if document.kind == DocumentKind.STATEMENT
            else _("Record a payment received"),
        },
    )


@page(SIGNED_IN, scope=_visible_documents)
def document_pdf(request, document: Document):
    return pdf.download(paper.document_pdf(document), paper.filename(document, "pdf"))


@page(SIGNED_IN, scope=_visible_documents)
def document_csv(request, document: Document):
    return paper.csv_download(paper.document_csv(document), paper.filename(document, "csv"))


@page(SIGNED_IN)
def documents_csv(request):
    """The documents the viewer sees, filtered as the API's (kind, status, network, issuer,
    recipient, from, to), one row each."""
    form = DocumentFilterForm(request.GET)
    if not form.is_valid():
        raise Http404
    documents = form.apply(selectors.document_list(viewer=request.user))
    scope = request.GET.get("mine")
    company_id = roles_of(request.user).company_id
    if scope == "issued" and company_id:
        documents = documents.filter(issuer_company_id=company_id)
    elif scope == "received" and company_id:
        documents = documents.filter(recipient_company_id=company_id)
    elif scope == "buyer":
        documents = documents.filter(recipient_buyer__user_id=request.user.pk)
    elif scope == "company" and company_id:
        documents = documents.filter(
            Q(issuer_company_id=company_id) | Q(recipient_company_id=company_id)
        )
    run = request.GET.get("run")
    if run and run.isdigit():
        documents = documents.filter(run_id=int(run))
    return paper.csv_download(paper.document_list_csv(documents), "documents.csv")


@page(SIGNED_IN, scope=_visible_runs, methods=POST)
def run_restart(request, run):
    """Start a reopened or stopped run again (queued)."""
    try:
        run_queue(actor=request.user, network=run.network, kind=run.kind, period=run.period)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except BrokerageError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The run has been started again. Reload this page to see its progress.")
        )
    return redirect("billing_run", pk=run.pk)
