"""Settlement documents on paper and for accounting software: a document as a PDF in the
qualified-invoice layout (適格請求書の記載事項), a document's lines as CSV, and a list of
documents as CSV. Like the paper it stands for, the content is Japanese (labels carry their
English after a slash).

CSV files are UTF-8 with a BOM (Excel and Japanese accounting software read it as UTF-8) and
CRLF line ends; amounts are plain integers of yen; a text cell that a spreadsheet would run as
a formula is written with a leading `'` (`core.csv`).
"""

import datetime
from collections.abc import Iterable

from django.db.models import Prefetch, Sum
from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from core import pdf
from core.csv import excel_bytes

from .models import Document, DocumentKind, DocumentLine, DocumentStatus, Payment
from .tax import NON_TAXABLE_RATE, REDUCED_RATE

TITLES = {
    DocumentKind.INVOICE: "請求書",
    DocumentKind.STATEMENT: "支払明細書",
    DocumentKind.COMMISSION: "手数料請求書",
    DocumentKind.FEE: "年会費請求書",
}
KIND_JA = {
    DocumentKind.INVOICE: "請求書",
    DocumentKind.STATEMENT: "支払明細",
    DocumentKind.COMMISSION: "手数料",
    DocumentKind.FEE: "年会費",
}
STATUS_JA = {DocumentStatus.ISSUED: "発行済", DocumentStatus.CANCELLED: "取消"}
ROUNDING_JA = {"down": "切り捨て", "half_up": "四捨五入", "up": "切り上げ"}
UNREGISTERED = "適格請求書発行事業者の登録番号なし"
REDUCED_MARK = "※"


# ---------------------------------------------------------------------------------------
# Reads the pages, API and exports share


def with_lines(documents):
    """The documents with their lines, tax lines and what they replace, in a fixed number of
    queries however many there are."""
    return documents.select_related("replaces", "run").prefetch_related(
        Prefetch("lines", queryset=DocumentLine.objects.order_by("position")),
        "tax_lines",
        "replaced_by",
    )


def paid_map(documents: Iterable[Document]) -> dict[int, int]:
    """What was paid on each document, counting the payments on the cancelled documents it
    reissues (as `billing.selectors.paid_yen`, but for a list in a few queries: one per
    generation of reissues, plus one for the payments)."""
    documents = list(documents)
    parent = {d.pk: d.replaces_id for d in documents}
    missing = {p for p in parent.values() if p is not None and p not in parent}
    while missing:
        found = dict(Document.objects.filter(pk__in=missing).values_list("pk", "replaces_id"))
        parent.update(found)
        missing = {p for p in found.values() if p is not None and p not in parent}
    sums = dict(
        Payment.objects.filter(document_id__in=list(parent))
        .values("document_id")
        .annotate(n=Sum("amount_yen"))
        .values_list("document_id", "n")
    )
    paid = {}
    for document in documents:
        total, current, seen = 0, document.pk, set()
        while current is not None and current not in seen:
            seen.add(current)
            total += sums.get(current, 0)
            current = parent.get(current)
        paid[document.pk] = total
    return paid


def outstanding_of(document: Document, paid: int) -> int:
    """What is left to pay on an issued document (0 for a cancelled one)."""
    if document.status != DocumentStatus.ISSUED:
        return 0
    return document.total_yen - paid


def due_of(document: Document) -> datetime.date:
    """When the document falls due: a statement's team-pay date once set, else its due date."""
    return document.team_pay_due or document.due_date


def is_overdue(document: Document, outstanding: int, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return outstanding > 0 and due_of(document) < today


# ---------------------------------------------------------------------------------------
# Wording


def _date(day: datetime.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def _rate(rate: int) -> str:
    if rate == NON_TAXABLE_RATE:
        return "不課税"
    return f"{rate}%{REDUCED_MARK}" if rate == REDUCED_RATE else f"{rate}%"


def _registration(document: Document) -> str:
    number = document.issuer_registration_number
    if document.issuer_unregistered or not number:
        return UNREGISTERED
    return number if number.startswith("T") else f"T{number}"


def _day_ja(day: int) -> str:
    return "末" if day >= 31 else f"{day}日"


def _offset_ja(months: int) -> str:
    return {0: "当月", 1: "翌月", 2: "翌々月"}.get(months, f"{months}か月後の")


def payment_terms_ja(document: Document) -> str:
    """The terms as written on Japanese paper: 月末締め翌月末払い; fees and commissions, the
    network's month-end close paid at the end of the next month."""
    project = document.project
    if project is not None:
        closing = project.payment_closing_day
        close = "月末締め" if closing >= 31 else f"{closing}日締め"
        return (
            f"{close}{_offset_ja(project.payment_month_offset)}{_day_ja(project.payment_day)}払い"
        )
    return "月末締め翌月末払い"


def filename(document: Document, extension: str) -> str:
    return f"{document.number}.{extension}"


# ---------------------------------------------------------------------------------------
# PDF


def document_pdf_spec(document: Document) -> pdf.Document:
    """The document in the qualified-invoice layout: what `core.pdf.render` draws."""
    title = TITLES[DocumentKind(document.kind)]
    if document.status == DocumentStatus.CANCELLED:
        title = f"【取消】{title}"
    return pdf.Document(
        title=title,
        blocks=_pdf_head(document) + _pdf_lines(document) + _pdf_totals(document),
        author=document.issuer_name,
        subject=f"{title} {document.number}",
        footer=f"{document.number}",
    )


def _pdf_head(document: Document) -> list:
    """Number and dates, the cancellation if any, the parties, and what the document
    replaces."""
    meta = [
        ("書類番号 / No.", document.number),
        ("発行日 / Issue date", _date(document.issue_date)),
        ("取引年月日 / Transaction date", _date(document.transaction_date)),
        ("お支払期限 / Due date", _date(due_of(document))),
    ]
    blocks: list = [pdf.MetaBlock(meta)]
    if document.status == DocumentStatus.CANCELLED:
        replaced_by = [d.number for d in document.replaced_by.all()]
        text = f"この書類は取り消されました（取消）。\n取消の理由: {document.cancel_reason}"
        if replaced_by:
            text += f"\n差し替え後の書類: {', '.join(replaced_by)}"
        blocks += [pdf.Heading("取消 / Cancelled"), pdf.Text(text)]
    blocks.append(
        pdf.Parties(
            [
                pdf.Party("宛先 / To", f"{document.recipient_name} 御中"),
                pdf.Party(
                    "発行者 / Issuer",
                    document.issuer_name,
                    [f"登録番号 / Registration No.: {_registration(document)}"],
                ),
            ]
        )
    )
    if document.replaces_id:
        blocks.append(
            pdf.Text(
                f"本書は {document.replaces.number} を取り消し、差し替えるものです。"
                f"（{document.replaces.number} は無効です）",
                size=9.5,
            )
        )
    return blocks


def _pdf_lines(document: Document) -> list:
    """The lines, a reduced-rate line marked (and the mark explained)."""
    lines = list(document.lines.all())
    blocks: list = [
        pdf.Heading("明細 / Details"),
        pdf.Table(
            [
                pdf.Column("内容 / Description"),
                pdf.Column("数量 / Qty", "number", 20),
                pdf.Column("単価 / Unit price", "yen", 28),
                pdf.Column("税率 / Rate", "text", 20),
                pdf.Column("金額（税抜） / Amount", "yen", 32),
            ],
            rows=[
                [
                    line.description
                    + (f" {REDUCED_MARK}" if line.tax_rate == REDUCED_RATE else ""),
                    line.quantity,
                    line.unit_price_yen,
                    _rate(line.tax_rate),
                    line.amount_yen,
                ]
                for line in lines
            ],
        ),
    ]
    if any(line.tax_rate == REDUCED_RATE for line in lines):
        blocks.append(pdf.Text(f"{REDUCED_MARK} は軽減税率（8%）対象", size=9))
    return blocks


def _pdf_totals(document: Document) -> list:
    """The totals per tax rate and the payment terms."""
    tax_lines = sorted(document.tax_lines.all(), key=lambda t: -t.rate)
    return [
        pdf.Heading("税率ごとの合計 / Totals per tax rate"),
        pdf.Table(
            [
                pdf.Column("税率 / Rate"),
                pdf.Column("対象額（税抜） / Taxable", "yen", 45),
                pdf.Column("消費税額 / Tax", "yen", 40),
            ],
            rows=[[f"{_rate(t.rate)} 対象", t.taxable_yen, t.tax_yen] for t in tax_lines],
            totals=[
                ["小計（税抜） / Subtotal", document.subtotal_yen, None],
                ["消費税 / Consumption tax", None, document.tax_yen],
                ["ご請求金額（税込） / Total", document.total_yen, None],
            ],
        ),
        pdf.Heading("お支払条件 / Payment terms"),
        pdf.Text(
            f"お支払期限: {_date(due_of(document))}\n"
            f"支払条件: {payment_terms_ja(document)}\n"
            f"消費税の端数処理: {ROUNDING_JA.get(document.rounding, document.rounding)}"
            "（税率ごとに1回計算）",
            size=9.5,
        ),
    ]


def document_pdf(document: Document) -> bytes:
    return pdf.render(document_pdf_spec(document))


LEDGER_ENTRY_JA = {
    "billed": "請求",
    "owes": "請求受領",
    "cancelled": "書類取消",
    "received": "入金",
    "paid": "支払",
}


def ledger_pdf(company, rows) -> bytes:
    return pdf.render(ledger_pdf_spec(company, rows))


def ledger_pdf_spec(company, rows) -> pdf.Document:
    """A company's ledger (取引台帳) to print or file: every movement with its running
    balance (`billing.selectors.ledger`), as of today."""
    today = timezone.localdate()
    balance = rows[-1].balance_yen if rows else 0
    registration = company.invoice_registration_number or "なし"
    blocks: list = [
        pdf.MetaBlock([("作成日 / Date", _date(today)), ("件数 / Entries", str(len(rows)))]),
        pdf.Parties(
            [
                pdf.Party(
                    "事業者 / Company",
                    company.legal_name,
                    [f"登録番号 / Registration No.: {registration}"],
                )
            ]
        ),
        pdf.Text(
            "金額: プラスは相手方への請求・支払（受け取る側）、マイナスは受けた請求・入金。"
            "残高がプラスなら、相手方からの受取残があります。",
            size=9,
        ),
        pdf.Table(
            [
                pdf.Column("日付 / Date", "text", 24),
                pdf.Column("区分 / Entry", "text", 20),
                pdf.Column("書類番号 / No."),
                pdf.Column("相手方 / Counterparty"),
                pdf.Column("金額 / Amount", "yen", 28),
                pdf.Column("残高 / Balance", "yen", 28),
            ],
            rows=[
                [
                    _date(r.date),
                    LEDGER_ENTRY_JA.get(r.entry, r.entry),
                    r.document.number,
                    r.counterparty,
                    r.amount_yen,
                    r.balance_yen,
                ]
                for r in rows
            ],
            totals=[["残高 / Balance", None, None, None, None, balance]],
        ),
    ]
    return pdf.Document(
        title="取引台帳 / Ledger",
        blocks=blocks,
        author=company.legal_name,
        subject=f"取引台帳 {company.legal_name}",
        footer=f"{company.legal_name} {_date(today)}",
    )


# ---------------------------------------------------------------------------------------
# CSV

LINE_HEADER = [
    "書類番号",
    "種類",
    "状態",
    "行区分",
    "発行日",
    "取引年月日",
    "支払期限",
    "発行者",
    "発行者登録番号",
    "宛先",
    "内容",
    "数量",
    "単価",
    "税率",
    "金額（税抜）",
    "消費税額",
    "差替元",
]
LIST_HEADER = [
    "書類番号",
    "種類",
    "状態",
    "発行日",
    "取引年月日",
    "支払期限",
    "発行者",
    "発行者登録番号",
    "宛先",
    "10%対象額",
    "10%消費税",
    "8%対象額",
    "8%消費税",
    "不課税",
    "小計（税抜）",
    "消費税",
    "合計（税込）",
    "入金済",
    "未払",
    "差替元",
    "取消理由",
]


def _csv_bytes(rows: list[list]) -> bytes:
    return excel_bytes(rows)


def _rate_csv(rate: int) -> str:
    return "不課税" if rate == NON_TAXABLE_RATE else f"{rate}%"


def document_csv_rows(document: Document) -> list[list]:
    """Header, one row per line (行区分 明細), one per tax rate (税率別合計: the rate's total
    and its tax) and the grand total (合計)."""
    head = [
        document.number,
        KIND_JA[DocumentKind(document.kind)],
        STATUS_JA[DocumentStatus(document.status)],
    ]
    dates = [
        document.issue_date.isoformat(),
        document.transaction_date.isoformat(),
        due_of(document).isoformat(),
        document.issuer_name,
        _registration(document),
        document.recipient_name,
    ]
    replaces = document.replaces.number if document.replaces_id else ""

    def row(section: str, *cells) -> list:
        # 内容, 数量, 単価, 税率, 金額（税抜）, 消費税額 between the document's columns
        return [*head, section, *dates, *cells, replaces]

    rows = [LINE_HEADER]
    rows += [
        row(
            "明細",
            line.description,
            line.quantity,
            line.unit_price_yen,
            _rate_csv(line.tax_rate),
            line.amount_yen,
            "",
        )
        for line in document.lines.all()
    ]
    rows += [
        row(
            "税率別合計",
            f"{_rate_csv(t.rate)}対象",
            "",
            "",
            _rate_csv(t.rate),
            t.taxable_yen,
            t.tax_yen,
        )
        for t in sorted(document.tax_lines.all(), key=lambda t: -t.rate)
    ]
    rows.append(row("合計", "合計（税込）", "", "", "", document.subtotal_yen, document.tax_yen))
    return rows


def document_csv(document: Document) -> bytes:
    return _csv_bytes(document_csv_rows(document))


def document_list_csv(documents) -> bytes:
    """One row per document with its totals per rate, what was paid and what is left."""
    documents = list(documents.select_related("replaces").prefetch_related("tax_lines"))
    paid = paid_map(documents)
    rows = [LIST_HEADER]
    for d in documents:
        per_rate = {t.rate: t for t in d.tax_lines.all()}
        standard, reduced = per_rate.get(10), per_rate.get(REDUCED_RATE)
        untaxed = per_rate.get(NON_TAXABLE_RATE)
        rows.append(
            [
                d.number,
                KIND_JA[DocumentKind(d.kind)],
                STATUS_JA[DocumentStatus(d.status)],
                d.issue_date.isoformat(),
                d.transaction_date.isoformat(),
                due_of(d).isoformat(),
                d.issuer_name,
                _registration(d),
                d.recipient_name,
                standard.taxable_yen if standard else 0,
                standard.tax_yen if standard else 0,
                reduced.taxable_yen if reduced else 0,
                reduced.tax_yen if reduced else 0,
                untaxed.taxable_yen if untaxed else 0,
                d.subtotal_yen,
                d.tax_yen,
                d.total_yen,
                paid[d.pk],
                outstanding_of(d, paid[d.pk]),
                d.replaces.number if d.replaces_id else "",
                d.cancel_reason,
            ]
        )
    return _csv_bytes(rows)


def csv_download(data: bytes, name: str) -> HttpResponse:
    """A CSV as a download, never cached (documents are private)."""
    stem = name.removesuffix(".csv")
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in stem)
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{safe or 'documents'}.csv")
    response["Cache-Control"] = "private, no-store"
    return response
