"""Reading a spreadsheet as it is (.xlsx or .ods) into the rows ``sheet`` checks like CSV lines.

The file's kind is told by its bytes, never by its name: .xlsx and .ods are zip files (an .ods
names itself in its first entry, ``mimetype``; an .xlsx holds ``xl/workbook.xml``). An old .xls
and a password-protected .xlsx are OLE containers: refused with what to do instead. The cells
are read by python-calamine (no formula is evaluated: a formula gives the value the
spreadsheet saved with it) and turned into the text a CSV export would hold:

* a whole number is written without decimals (``12``, not ``12.0``);
* a date (or a date-time at midnight) is written ``DD/MM/YYYY``, as the CSV import reads it;
* a phone number the spreadsheet stored as a number lost its leading zero: in the
  ``telephone`` column a 9-digit number gets it back (``612345678`` -> ``0612345678``) and an
  11-digit number starting with 33 its ``+`` (``33612345678`` -> ``+33612345678``);
* an error cell (``#REF!``, ``#DIV/0!``, ``Err:502``...) is a problem of its line.

Row numbers are the spreadsheet's, whatever empty rows or columns come first. The size limits
are those of CSV (``sheet``): bytes of the file, lines, and the size of the zip once inflated.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from xml.etree.ElementTree import ParseError, iterparse  # noqa: S405 - see _ods_error_cells

from python_calamine import CalamineError, CalamineWorkbook

from app.services.errors import N_
from app.services.imports.results import ImportRejected, Problem

# An .xlsx or .ods inflated to more than this is refused before anything reads its cells (a
# 5 MB file of real cells inflates to a few tens of MB; more is a zip bomb, or a picture album).
MAX_INFLATED_BYTES = 100 * 1024 * 1024
# A caseload has 9 columns; a sheet using more than this many is not one.
MAX_COLUMNS = 100
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# What spreadsheets show in an error cell (Excel and LibreOffice).
_ERROR_TEXT = re.compile(
    r"^(#(NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|N/A|GETTING_DATA|SPILL!|CALC!)|Err:\d{3})$"
)
# What is wrong with a spreadsheet as a whole (msgids; the tests compare them, not their text).
OLD_OR_PROTECTED = N_(
    "This is an old Excel file (.xls) or a password-protected spreadsheet: save it without a "
    "password as .xlsx, .ods or CSV, and send that file."
)
NOT_A_SPREADSHEET = N_(
    "This file is neither a spreadsheet (.xlsx, .ods) nor a CSV file: open it in your "
    "spreadsheet and save it as .xlsx, .ods or CSV."
)
DAMAGED = N_(
    "The spreadsheet cannot be read: it may be damaged. Open it in your spreadsheet, save it "
    "again (.xlsx, .ods or CSV) and send that file."
)
PROTECTED = N_(
    "This spreadsheet is protected by a password: save it without a password (.xlsx, .ods or "
    "CSV) and send that file."
)
TOO_LARGE_INFLATED = N_("The spreadsheet is too large once opened: split it into several files.")
NO_SUCH_SHEET = N_("The spreadsheet has no sheet named %(sheet)s; its sheets are: %(sheets)s.")
EMPTY_SHEET = N_("The sheet %(sheet)s is empty.")
ERROR_CELL = N_(
    "The cell %(cell)s holds an error (such as #REF! or #DIV/0!): correct it in the "
    "spreadsheet, or type the value."
)
TOO_MANY_COLUMNS = N_(
    "The sheet uses more than %(max)d columns: keep only the columns of the caseload."
)
TOO_MANY_ROWS = N_("The file has more than %(max)d lines to import: split it into several files.")
_CELL_ADDRESS = re.compile(r'\br="([A-Z]{1,3})(\d+)"')


# What reading a damaged zip may raise (an encrypted entry: RuntimeError; an unknown
# compression: NotImplementedError; a truncated stream: EOFError, zlib.error).
_ZIP_FAILURES = (
    zipfile.BadZipFile,
    KeyError,
    OSError,
    EOFError,
    ValueError,
    RuntimeError,
    NotImplementedError,
    zlib.error,
)


class Kind(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    ODS = "ods"


@dataclass(frozen=True)
class WorkbookRows:
    """The rows of one sheet as text, numbered as the spreadsheet numbers them, with the
    cells that hold an error (row, 0-based column)."""

    sheet: str
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    error_cells: frozenset[tuple[int, int]]
    # Cells that held a number (row, 0-based column): a phone number may have lost its zero.
    numbers: frozenset[tuple[int, int]]


def _rejected(message: str, **params: str | int) -> ImportRejected:
    return ImportRejected([Problem(None, None, message, params)])


def kind_of(data: bytes) -> Kind:
    """What the bytes are: CSV (anything that is not a zip nor an OLE file), .xlsx or .ods.

    Raises ``ImportRejected`` for an old .xls or a password-protected file, and for a zip that
    is neither (a .docx, an .odt, a folder sent as .zip, a damaged file).
    """
    if data.startswith(_OLE_MAGIC):
        raise _rejected(OLD_OR_PROTECTED)
    if not data.startswith(_ZIP_MAGIC):
        return Kind.CSV
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if names and names[0] == "mimetype":
                mimetype = archive.read("mimetype").strip()
                if mimetype == ODS_MIMETYPE:
                    _check_ods_not_encrypted(archive)
                    return Kind.ODS
            elif "xl/workbook.xml" in names and "[Content_Types].xml" in names:
                return Kind.XLSX
    except _ZIP_FAILURES as exc:
        raise _unreadable() from exc
    raise _rejected(NOT_A_SPREADSHEET)


def _unreadable() -> ImportRejected:
    return _rejected(DAMAGED)


def _check_ods_not_encrypted(archive: zipfile.ZipFile) -> None:
    try:
        manifest = archive.read("META-INF/manifest.xml")
    except KeyError:
        return
    if b"encryption-data" in manifest:
        raise _rejected(PROTECTED)


def _check_inflated_size(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except _ZIP_FAILURES as exc:
        raise _unreadable() from exc
    if inflated > MAX_INFLATED_BYTES:
        raise _rejected(TOO_LARGE_INFLATED)


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + (ord(letter) - ord("A") + 1)
    return index - 1


def _xlsx_sheet_path(archive: zipfile.ZipFile, position: int) -> str | None:
    """The XML part of the sheet at ``position`` in the workbook's order."""
    workbook = archive.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    sheets = re.findall(r"<(?:\w+:)?sheet\b[^>]*>", workbook)
    if position >= len(sheets):
        return None
    found = re.search(r'\br:id="([^"]+)"|\b\w+:id="([^"]+)"', sheets[position])
    if not found:
        return None
    rel_id = found[1] or found[2]
    for rel in re.findall(r"<Relationship\b[^>]*>", rels):
        if f'Id="{rel_id}"' in rel:
            target = re.search(r'Target="([^"]+)"', rel)
            if target:
                path = target[1].lstrip("/")
                return path if path.startswith("xl/") else f"xl/{path}"
    return None


def _xlsx_error_cells(data: bytes, position: int) -> frozenset[tuple[int, int]]:
    """The cells of type error (``t="e"``) of the sheet at ``position``: calamine reads them as
    empty, so they are found in the sheet's XML."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            path = _xlsx_sheet_path(archive, position)
            if path is None or path not in archive.namelist():
                return frozenset()
            xml = archive.read(path).decode("utf-8", "replace")
    except _ZIP_FAILURES as exc:
        raise _unreadable() from exc
    found: set[tuple[int, int]] = set()
    at = xml.find('t="e"')
    while at != -1:  # few error cells, if any: no regular expression over the whole sheet
        start = xml.rfind("<c", 0, at)
        end = xml.find(">", at)
        reference = _CELL_ADDRESS.search(xml, start, end) if start != -1 else None
        if reference is not None:
            found.add((int(reference[2]), _column_index(reference[1])))
        at = xml.find('t="e"', at + 1)
    return frozenset(found)


_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_CALCEXT_TYPE = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}value-type"


def _ods_error_cells(data: bytes, position: int) -> frozenset[tuple[int, int]]:
    """The cells of the table at ``position`` that LibreOffice marked as errors
    (``calcext:value-type="error"``): calamine reads them as empty.

    The XML is read by expat, which refuses entity expansion bombs (expat 2.4 and later), from
    a zip whose inflated size is already bounded.
    """
    found: set[tuple[int, int]] = set()
    table, row, column = -1, 0, 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("content.xml") as xml:
            for event, element in iterparse(xml, events=("start", "end")):  # noqa: S314
                tag = element.tag
                if tag == f"{_TABLE}table" and event == "start":
                    table += 1
                    row = 0
                elif table != position:
                    if event == "end":
                        element.clear()
                    continue
                elif tag == f"{_TABLE}table-row":
                    if event == "start":
                        row, column = row + 1, 0
                    else:
                        row += int(element.get(f"{_TABLE}number-rows-repeated", "1")) - 1
                        element.clear()
                elif event == "start" and tag in (
                    f"{_TABLE}table-cell",
                    f"{_TABLE}covered-table-cell",
                ):
                    if element.get(_CALCEXT_TYPE) == "error":
                        found.add((row, column))
                    column += int(element.get(f"{_TABLE}number-columns-repeated", "1"))
    except (*_ZIP_FAILURES, ParseError) as exc:
        raise _unreadable() from exc
    return frozenset(found)


def _text(value: object) -> str:
    """A cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def phone_text(text: str) -> str:
    """A phone number that a spreadsheet stored as a number, given back its lost zero or +."""
    if text.isdigit():
        if len(text) == 9 and text[0] != "0":
            return "0" + text
        if len(text) == 11 and text.startswith("33"):
            return "+" + text
    return text


def _numbered(
    raw: Sequence[Sequence[object]],
) -> Iterator[tuple[int, tuple[str, ...], list[int], list[int]]]:
    """Each row's number, its cells as text, its numeric cells and its error cells (0-based
    columns). Text cells, by far the most, take the short way."""
    for number, cells in enumerate(raw, start=1):
        texts: list[str] = []
        numbers: list[int] = []
        errors: list[int] = []
        for index, cell in enumerate(cells):
            if type(cell) is str:
                texts.append(cell)
                if cell and cell[0] in "#E" and _ERROR_TEXT.match(cell):
                    errors.append(index)
                continue
            if type(cell) in (int, float):
                numbers.append(index)
            texts.append(_text(cell))
        yield number, tuple(texts), numbers, errors


def _check_extent(end: tuple[int, int] | None, height: int, max_rows: int) -> None:
    """Refuse a sheet too large to read before reading it: its cells are read as one rectangle
    from A1 to its last used cell, so a lone value in row 900,000 or column XFD would make
    millions of empty cells. Blank rows are allowed (CSV skips blank lines), up to as many as
    the lines."""
    if end is None:
        return
    if height > max_rows + 1 or end[0] + 1 > 2 * (max_rows + 1):
        raise _rejected(TOO_MANY_ROWS, max=max_rows)
    if end[1] + 1 > MAX_COLUMNS:
        raise _rejected(TOO_MANY_COLUMNS, max=MAX_COLUMNS)


def read_workbook(
    data: bytes, kind: Kind, *, sheet_name: str | None, max_rows: int
) -> WorkbookRows:
    """The rows of the first sheet (or of ``sheet_name``) of an .xlsx or .ods file.

    Raises ``ImportRejected`` when the file cannot be read, the sheet does not exist, or it
    has more than ``max_rows`` rows below its first one.
    """
    _check_inflated_size(data)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = list(workbook.sheet_names)
        if sheet_name is not None and sheet_name not in names:
            raise _rejected(
                NO_SUCH_SHEET,
                sheet=sheet_name,
                sheets=", ".join(names),
            )
        if not names:
            raise _rejected(N_("The file is empty."))
        position = names.index(sheet_name) if sheet_name is not None else 0
        sheet = workbook.get_sheet_by_index(position)
        _check_extent(sheet.end, sheet.height, max_rows)
        raw = sheet.to_python(skip_empty_area=False)
    except ImportRejected:
        raise
    except CalamineError as exc:
        if type(exc).__name__ == "PasswordError":
            raise _rejected(PROTECTED) from exc
        raise _unreadable() from exc
    except Exception as exc:  # noqa: BLE001 - whatever the reader says of a damaged file
        raise _unreadable() from exc
    errors: set[tuple[int, int]] = set()
    if kind is Kind.XLSX:
        errors |= _xlsx_error_cells(data, position)
    else:
        errors |= _ods_error_cells(data, position)
    rows: list[tuple[int, tuple[str, ...]]] = []
    numbers: set[tuple[int, int]] = set()
    for number, texts, numeric, wrong in _numbered(raw):
        rows.append((number, texts))
        numbers.update((number, i) for i in numeric)
        errors.update((number, i) for i in wrong)
    return WorkbookRows(names[position], tuple(rows), frozenset(errors), frozenset(numbers))
