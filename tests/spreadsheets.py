"""Spreadsheet files for tests: .xlsx written by openpyxl, .ods written by hand (a zip holding
``mimetype``, ``content.xml`` and the manifest, as LibreOffice writes the smallest one).

Cells are text, numbers, dates, None (empty) or ``ERROR`` (an error cell: ``#REF!``).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from xml.sax.saxutils import escape, quoteattr

from openpyxl import Workbook

ERROR = object()
Cell = object
Rows = Sequence[Sequence[Cell]]


def xlsx_file(rows: Rows, *, sheet: str = "Feuille1", more: dict[str, Rows] | None = None) -> bytes:
    """An .xlsx file; ``rows`` on its first sheet, named ``sheet``; ``more`` other sheets."""
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.title = sheet
    for name, content in [(sheet, rows), *(more or {}).items()]:
        target = first if name == sheet else workbook.create_sheet(name)
        for r, cells in enumerate(content, start=1):
            for c, value in enumerate(cells, start=1):
                if value is None:
                    continue
                cell = target.cell(row=r, column=c)
                if value is ERROR:
                    cell.value = "#REF!"
                    cell.data_type = "e"
                else:
                    cell.value = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _ods_cell(value: Cell) -> str:
    if value is None:
        return "<table:table-cell/>"
    if value is ERROR:
        return (
            '<table:table-cell table:formula="of:=#REF!" office:value-type="string" '
            'office:string-value="" calcext:value-type="error"><text:p>#REF!</text:p>'
            "</table:table-cell>"
        )
    if isinstance(value, bool):
        raise TypeError("no booleans in these tests")
    if isinstance(value, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    if isinstance(value, datetime | date):
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
            f"<text:p>{value.isoformat()}</text:p></table:table-cell>"
        )
    text = escape(str(value))
    return (
        f'<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>'
    )


def _ods_table(name: str, rows: Rows) -> str:
    body = "".join(
        "<table:table-row>" + "".join(_ods_cell(v) for v in cells) + "</table:table-row>"
        if cells
        else "<table:table-row><table:table-cell/></table:table-row>"
        for cells in rows
    )
    return f"<table:table table:name={quoteattr(name)}>{body}</table:table>"


_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" '
    'office:version="1.3"'
)
_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.3">'
    '<manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "{extra}</manifest:manifest>"
)


def ods_file(
    rows: Rows,
    *,
    sheet: str = "Feuille1",
    more: dict[str, Rows] | None = None,
    encrypted: bool = False,
) -> bytes:
    """An .ods file; ``encrypted`` writes the manifest of a password-protected one."""
    tables = "".join(_ods_table(n, r) for n, r in [(sheet, rows), *(more or {}).items()])
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS}>'
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    extra = (
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">'
        '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x"/>'
        "</manifest:file-entry>"
        if encrypted
        else ""
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"),
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", _MANIFEST.format(extra=extra))
    return out.getvalue()
