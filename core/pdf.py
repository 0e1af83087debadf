"""Japanese PDF documents: contracts now, invoices and statements later.

Built on reportlab with the CID fonts every PDF reader carries for Japanese (HeiseiKakuGo-W5,
a gothic, for the title, headings and labels; HeiseiMin-W3, a mincho, for the text), so no
font file ships with the project. A4 portrait, "n / N" at the foot of every page (right),
beside an optional footer (left).

A `Document` is a title and a list of blocks; `render(document)` returns the PDF bytes and
`download(data, filename)` serves them (pages and API alike). All text in the blocks is
plain text: it is escaped for reportlab's paragraph markup here, so callers pass user input
as it is.

    render(Document(
        title="請求書",
        blocks=[
            MetaBlock([("請求番号 / No.", "INV-0001"), ("発行日 / Date", "2026-05-01")]),
            Parties([Party("請求先 / Bill to", "株式会社 燕研磨", ["新潟県燕市…"])]),
            Table(
                [Column("品目 / Item"), Column("数量 / Qty", "number"), Column("金額", "yen")],
                rows=[["バフ研磨", 300, 360_000]],
                totals=[["合計 / Total", None, 396_000]],
            ),
        ],
    ))
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, partial
from io import BytesIO
from typing import Literal
from xml.sax.saxutils import escape

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer
from reportlab.platypus import Table as RLTable

GOTHIC = "HeiseiKakuGo-W5"
MINCHO = "HeiseiMin-W3"
PAGE_SIZE = A4
MARGIN = 20 * mm
FRAME_WIDTH = PAGE_SIZE[0] - 2 * MARGIN
RULE = colors.HexColor("#888888")
SHADE = colors.HexColor("#EEEEEE")
# Control characters reportlab's markup parser cannot take (tab and line breaks are kept).
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# The fonts' encoding (UCS-2) stops at U+FFFF: what lies beyond (emoji, rare kanji) is
# printed as 〓, the customary mark for a character the type does not have.
BEYOND_BMP = re.compile(r"[^\x00-\uffff]")

# ---------------------------------------------------------------------------------------
# Blocks


@dataclass(frozen=True)
class MetaBlock:
    """Label/value rows set flush right under the title: document number, dates."""

    rows: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Party:
    role: str  # e.g. "甲（受注幹事企業） / Lead company"
    name: str
    lines: Sequence[str] = ()  # address, registration number, …


@dataclass(frozen=True)
class Parties:
    parties: Sequence[Party]


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Text:
    """Running text: each line as written (wrapped to the page, indentation kept); blank
    lines add space."""

    text: str
    size: float = 10.5


@dataclass(frozen=True)
class Column:
    header: str
    kind: Literal["text", "number", "yen"] = "text"  # number and yen are set flush right
    width_mm: float | None = None  # None: share what the sized columns leave


@dataclass(frozen=True)
class Table:
    """A table with a header row (repeated on each page). Cells are str, int, Decimal or None;
    `yen` columns print integers as ¥1,234. `totals` rows follow, set off by a rule."""

    columns: Sequence[Column]
    rows: Sequence[Sequence[object]]
    totals: Sequence[Sequence[object]] = ()


@dataclass(frozen=True)
class Signature:
    """One party's acceptance (or seal). No `signed_at`: not yet accepted."""

    role: str
    name: str
    signed_at: str | None = None
    signed_by: str | None = None


@dataclass(frozen=True)
class Signatures:
    entries: Sequence[Signature]
    heading: str = "承諾 / Acceptance"
    at_label: str = "承諾日時 / Accepted at"
    by_label: str = "承諾者 / Accepted by"
    pending: str = "未承諾 / not yet accepted"
    note: str = ""


Block = MetaBlock | Parties | Heading | Text | Table | Signatures


@dataclass(frozen=True)
class Document:
    title: str
    blocks: Sequence[Block] = ()
    author: str = ""
    subject: str = ""
    footer: str = ""  # small print at the foot of every page, left of the page number
    lang: str = "ja"


# ---------------------------------------------------------------------------------------
# Formatting


def yen(amount: int | Decimal | None) -> str:
    """¥1,234 (and -¥1,234 for a credit). None: empty."""
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,}"


def _clean(text: object) -> str:
    return BEYOND_BMP.sub("〓", CONTROL.sub("", str(text)))


def markup(text: object) -> str:
    """Plain text as reportlab paragraph markup: escaped, line breaks kept."""
    return "<br/>".join(escape(line) for line in _clean(text).splitlines())


def _cell_text(value: object, kind: str) -> str:
    if value is None:
        return ""
    if kind == "yen" and isinstance(value, int | Decimal):
        return yen(value)
    if kind == "number" and isinstance(value, int | Decimal):
        return f"{value:,}"
    return str(value)


# ---------------------------------------------------------------------------------------
# Rendering


@cache
def _register_fonts() -> None:
    for name in (GOTHIC, MINCHO):
        pdfmetrics.registerFont(UnicodeCIDFont(name))


def _style(name: str, *, font: str = MINCHO, size: float = 10.5, **kw) -> ParagraphStyle:
    return ParagraphStyle(
        name,
        fontName=font,
        fontSize=size,
        leading=kw.pop("leading", size * 1.6),
        wordWrap="CJK",  # Japanese breaks between any two characters, not at spaces
        **kw,
    )


@cache
def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": _style("title", font=GOTHIC, size=16, alignment=TA_CENTER, spaceAfter=6 * mm),
        "heading": _style("heading", font=GOTHIC, size=11.5, spaceBefore=4 * mm, spaceAfter=2 * mm),
        "label": _style("label", font=GOTHIC, size=9),
        "label_right": _style("label_right", font=GOTHIC, size=9, alignment=TA_RIGHT),
        "cell": _style("cell", size=9.5),
        "cell_right": _style("cell_right", size=9.5, alignment=TA_RIGHT),
        "meta": _style("meta", size=9, alignment=TA_RIGHT),
        "small": _style("small", size=8.5, textColor=colors.HexColor("#444444")),
    }


def _para(text: str, style: str) -> Paragraph:
    return Paragraph(markup(text), _styles()[style])


def _text_flowables(block: Text) -> list:
    """One paragraph per line, so an indented line keeps its indent when it wraps (reportlab
    drops leading white space); a blank line adds space before the next line."""
    base = _style(f"text{block.size}", size=block.size, alignment=TA_LEFT)
    flowables, gap = [], False
    for line in _clean(block.text).splitlines():
        stripped = line.lstrip(" \u3000\t")
        if not stripped.strip():
            gap = bool(flowables)
            continue
        lead = line[: len(line) - len(stripped)]
        ems = lead.count(" ") / 2 + lead.count("\u3000") + lead.count("\t") * 2
        style = ParagraphStyle(
            f"{base.name}-{ems}-{gap}",
            parent=base,
            leftIndent=ems * block.size,
            spaceBefore=base.leading * 0.6 if gap else 0,
        )
        flowables.append(Paragraph(escape(stripped.rstrip()), style))
        gap = False
    return flowables


def _meta_flowable(block: MetaBlock) -> RLTable:
    data = [[_para(label, "label_right"), _para(value, "meta")] for label, value in block.rows]
    table = RLTable(data, colWidths=[45 * mm, 65 * mm], hAlign="RIGHT")
    table.setStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)])
    return table


def _parties_flowable(block: Parties) -> RLTable:
    data = [
        [_para(p.role, "label"), [_para(p.name, "cell"), *(_para(x, "small") for x in p.lines)]]
        for p in block.parties
    ]
    table = RLTable(data, colWidths=[62 * mm, FRAME_WIDTH - 62 * mm], hAlign="LEFT")
    table.setStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ]
    )
    return table


def _column_widths(columns: Sequence[Column]) -> list[float]:
    fixed = sum(c.width_mm * mm for c in columns if c.width_mm)
    free = [c for c in columns if not c.width_mm]
    share = (FRAME_WIDTH - fixed) / len(free) if free else 0
    return [c.width_mm * mm if c.width_mm else share for c in columns]


def _table_flowable(block: Table) -> RLTable:
    def row(values, *, header=False):
        cells = []
        for column, value in zip(block.columns, values, strict=False):
            right = column.kind in ("number", "yen")
            if header:
                style = "label_right" if right else "label"
            else:
                style = "cell_right" if right else "cell"
            cells.append(_para(_cell_text(value, "text" if header else column.kind), style))
        return cells

    header = row([c.header for c in block.columns], header=True)
    body = [row(r) for r in block.rows]
    totals = [row(r) for r in block.totals]
    table = RLTable([header, *body, *totals], colWidths=_column_widths(block.columns), repeatRows=1)
    style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("LINEABOVE", (0, 0), (-1, 0), 0.6, RULE),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
    ]
    if totals:
        first = 1 + len(body)
        style.append(("LINEABOVE", (0, first), (-1, first), 1.0, colors.black))
    table.setStyle(style)
    return table


def _signatures_flowable(block: Signatures) -> KeepTogether:
    cells = []
    for entry in block.entries:
        cell = [_para(entry.role, "label"), _para(entry.name, "cell")]
        if entry.signed_at:
            cell.append(_para(f"{block.at_label}: {entry.signed_at}", "small"))
            cell.append(_para(f"{block.by_label}: {entry.signed_by or ''}", "small"))
        else:
            cell.append(_para(block.pending, "small"))
        cells.append(cell)
    width = FRAME_WIDTH / max(len(cells), 1)
    table = RLTable([cells], colWidths=[width] * len(cells))
    table.setStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BOX", (0, 0), (-1, -1), 0.6, RULE),
            ("INNERGRID", (0, 0), (-1, -1), 0.6, RULE),
            ("TOPPADDING", (0, 0), (-1, -1), 5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
        ]
    )
    parts = [_para(block.heading, "heading"), table]
    if block.note:
        parts += [Spacer(1, 2 * mm), _para(block.note, "small")]
    return KeepTogether(parts)


def _flowables(block: Block) -> list:
    match block:
        case MetaBlock():
            return [_meta_flowable(block), Spacer(1, 4 * mm)]
        case Parties():
            return [_parties_flowable(block), Spacer(1, 5 * mm)]
        case Heading():
            return [_para(block.text, "heading")]
        case Text():
            return _text_flowables(block)
        case Table():
            return [_table_flowable(block), Spacer(1, 4 * mm)]
        case Signatures():
            return [Spacer(1, 4 * mm), _signatures_flowable(block)]
    raise TypeError(f"Not a document block: {block!r}")


class _NumberedCanvas(canvas.Canvas):
    """Holds each page until the end, so every page can say "n / N"."""

    def __init__(self, *args, footer: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.footer = footer
        self._pages: list[dict] = []

    def showPage(self):
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for page in self._pages:
            self.__dict__.update(page)
            self._draw_foot(total)
            super().showPage()
        super().save()

    def _draw_foot(self, total: int) -> None:
        self.saveState()
        self.setFont(MINCHO, 8)
        self.setFillColor(colors.HexColor("#444444"))
        self.drawRightString(PAGE_SIZE[0] - MARGIN, 10 * mm, f"{self._pageNumber} / {total}")
        if self.footer:
            self.drawString(MARGIN, 10 * mm, self.footer)
        self.restoreState()


def download(data: bytes, filename: str) -> HttpResponse:
    """A PDF as a download, never cached by the browser or a proxy. The file name is made
    ASCII (anything else becomes "-"), so every client reads the header the same way."""
    stem = filename.removesuffix(".pdf")
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in stem)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, f"{safe or 'document'}.pdf")
    response["Cache-Control"] = "private, no-store"
    return response


def render(document: Document) -> bytes:
    """The document as PDF bytes."""
    _register_fonts()
    buffer = BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=document.title,
        author=document.author,
        subject=document.subject,
        creator="Joint-order platform",
        lang=document.lang,
        displayDocTitle=True,
        invariant=True,  # the same document gives the same bytes (no timestamps or ids)
    )
    flowables = [_para(document.title, "title")]
    for block in document.blocks:
        flowables += _flowables(block)
    footer = _clean(" ".join(document.footer.split()))
    pdf.build(flowables, canvasmaker=partial(_NumberedCanvas, footer=footer))
    return buffer.getvalue()


__all__ = [
    "Column",
    "Document",
    "Heading",
    "MetaBlock",
    "Parties",
    "Party",
    "Signature",
    "Signatures",
    "Table",
    "Text",
    "download",
    "render",
    "yen",
]
