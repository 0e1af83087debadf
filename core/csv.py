"""CSV files for people: UTF-8 with a byte-order mark (Excel on Japanese Windows then reads
UTF-8), CRLF line ends, and no cell that a spreadsheet would run as a formula.

CSV injection (OWASP): Excel and LibreOffice evaluate a cell that begins with `=`, `+`, `-`
or `@` (and one that begins with a tab or a carriage return, which they strip first), so a
company name such as `=HYPERLINK("http://evil","見積")` becomes a live link or a DDE call
in the secretariat's spreadsheet. Every text cell that begins so is written with a leading
single quote, which both programs show as text. Their full-width forms (＝＋－＠), which
Japanese input produces, get the same quote.

Only text is escaped: numbers (int, Decimal, float) are written as numbers, so a negative
amount stays a number. A text cell that merely looks like a number (`"-100"` typed as a
name) is text and is escaped, as OWASP advises. Every CSV the platform produces is written
here; `billing.issuing`'s COPY buffer is PostgreSQL's input, not a file for people.
"""

import csv
import io
from collections.abc import Iterable
from numbers import Number

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def escape_cell(value):
    """The value as it is safe to write: text that a spreadsheet would run gets a `'`."""
    if value is None or isinstance(value, Number):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class SafeWriter:
    """`csv.writer` whose cells pass through `escape_cell`."""

    def __init__(self, stream, **fmtparams):
        self._writer = csv.writer(stream, **fmtparams)

    def writerow(self, row: Iterable):
        return self._writer.writerow([escape_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable]):
        for row in rows:
            self.writerow(row)


def writer(stream, **fmtparams) -> SafeWriter:
    return SafeWriter(stream, **fmtparams)


def excel_bytes(rows: Iterable[Iterable]) -> bytes:
    """Rows as a CSV file for Excel and accounting software (BOM, CRLF, escaped cells)."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")
