"""Reading a CSV file as French spreadsheets write it, or the spreadsheet itself (.xlsx, .ods:
``workbook``), into a ``Sheet`` of cells.

The separator is ``;``, ``,`` or a tab (the most frequent on the header line); the text is
UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode text"), or Windows-1252; the
French column headers are matched whatever their case, accents and spacing. What is wrong with the file as a whole (size, encoding,
columns, number of lines) raises ``ImportRejected`` listing every problem found. A spreadsheet
goes through the same checks, its cells turned into the text a CSV export would hold, its lines
numbered as the spreadsheet numbers its rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from app.services.errors import N_
from app.services.imports import workbook
from app.services.imports.results import ImportRejected, Problem
from app.services.imports.workbook import Kind, WorkbookRows, kind_of, phone_text, read_workbook

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILE_MEGABYTES = MAX_FILE_BYTES // (1024 * 1024)
MAX_ROWS = 20_000

# The columns, in the order they are documented, and the headers accepted for each (compared
# once reduced to lower-case letters and digits without accents: "Date de naissance" ->
# "datedenaissance").
COLUMNS = (
    "nom",
    "prenom",
    "date_naissance",
    "telephone",
    "email",
    "adresse",
    "code_qpv",
    "public",
    "consentement",
)
REQUIRED_COLUMNS = ("nom", "prenom", "public")
_ALIASES = {
    "nom": ("nom", "nomdefamille"),
    "prenom": ("prenom",),
    "date_naissance": ("datenaissance", "datedenaissance"),
    "telephone": ("telephone", "tel"),
    "email": ("email", "mail", "courriel", "adresseemail", "adressemail"),
    "adresse": ("adresse", "adressepostale"),
    "code_qpv": ("codeqpv", "qpv"),
    "public": ("public", "publics"),
    "consentement": ("consentement",),
}
_HEADER_TO_COLUMN = {alias: column for column, aliases in _ALIASES.items() for alias in aliases}

_SEPARATORS = (";", ",", "\t")
_MARKUP = re.compile(r"\s*<(!doctype html|html|\?xml|table)\b", re.IGNORECASE)
UNREADABLE_NEAR = N_("The file cannot be read as CSV near line %(line)d.")
UNCLOSED_QUOTE = N_(
    'Line %(line)d opens quotation marks (") that are never closed: the rest of the file '
    "would be read as one cell. Close them or remove them, and send the file again."
)

Record = tuple[int, tuple[str, ...]]  # a line's number (as the spreadsheet shows it), its cells


@dataclass(frozen=True)
class Sheet:
    """The cells of a CSV file, with its headers resolved to the known columns."""

    headers: tuple[str, ...]
    columns: Mapping[str, int]
    lines: tuple[Record, ...]

    def __repr__(self) -> str:
        return f"Sheet(columns={sorted(self.columns)}, lines={len(self.lines)})"

    def header(self, column: str) -> str:
        return self.headers[self.columns[column]]

    def cell(self, cells: Sequence[str], column: str) -> str:
        index = self.columns.get(column)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()


def too_large() -> Problem:
    """The problem of a file over ``MAX_FILE_BYTES`` (also said by the web layer, which stops
    reading an upload at that size)."""
    return Problem(
        None,
        None,
        N_("The file is larger than %(max)d MB: split it into several files."),
        {"max": MAX_FILE_MEGABYTES},
    )


def read_sheet(data: bytes, *, sheet_name: str | None = None) -> Sheet:
    """Decode and split a CSV file, or read the first sheet (or ``sheet_name``) of an .xlsx or
    .ods file; ``ImportRejected`` lists what is wrong with it as a whole."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected([too_large()])
    kind = kind_of(data)
    if kind is not Kind.CSV:
        return _spreadsheet(read_workbook(data, kind, sheet_name=sheet_name, max_rows=MAX_ROWS))
    text = _decode(data)
    if _MARKUP.match(text):
        # A web page or an XML file saved with a spreadsheet's name (the "Excel" export of
        # some software): its first line would be read as unknown columns.
        raise ImportRejected([Problem(None, None, workbook.NOT_A_SPREADSHEET)])
    rows = _csv_rows(text, _separator(text))
    header_line, headers, records = _header_and_records(enumerate(rows, start=1))
    return _sheet(header_line, headers, records)


def _csv_rows(text: str, separator: str) -> Iterator[list[str]]:
    """The rows of a CSV text. A quotation mark opening a cell and never closed is refused
    with its row: read on, it would swallow the rest of the file into one cell. A quotation
    mark inside a cell (``a"b``, ``"a"b``) is read as spreadsheets read it."""
    strict = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    done = 0
    try:
        for cells in strict:
            done += 1
            yield cells
    except csv.Error as exc:
        if "end of data" in str(exc):
            raise ImportRejected([_problem(done + 1, UNCLOSED_QUOTE)]) from exc
    else:
        return
    tolerant = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        yield from itertools.islice(tolerant, done, None)
    except csv.Error as exc:
        raise ImportRejected([_problem(tolerant.line_num, UNREADABLE_NEAR)]) from exc


def _problem(line: int, message: str) -> Problem:
    return Problem(line, None, message, {"line": line})


def _sheet(header_line: int, headers: tuple[str, ...] | None, records: list[Record]) -> Sheet:
    if headers is None:
        raise ImportRejected([Problem(None, None, N_("The file is empty."))])
    columns = _resolve_headers(headers, header_line, [cells for _, cells in records])
    if not records:
        raise ImportRejected(
            [Problem(None, None, N_("The file has no line to import below its header."))]
        )
    return Sheet(tuple(h.strip() for h in headers), columns, tuple(records))


def _spreadsheet(book: WorkbookRows) -> Sheet:
    """The sheet of an .xlsx or .ods file, checked as a CSV file is; a cell holding an error
    (``#REF!``...) is a problem of its line."""
    header_line, headers, records = _header_and_records(book.rows)
    if headers is None:
        raise ImportRejected([Problem(None, None, workbook.EMPTY_SHEET, {"sheet": book.sheet})])
    if book.error_cells:
        raise ImportRejected(
            [
                Problem(
                    row,
                    headers[column].strip() if column < len(headers) else None,
                    workbook.ERROR_CELL,
                    {"cell": f"{_column_letters(column)}{row}"},
                )
                for row, column in sorted(book.error_cells)
            ]
        )
    sheet = _sheet(header_line, headers, records)
    phone = sheet.columns.get("telephone")
    if phone is None:
        return sheet
    fixed = tuple(
        (number, _with_phone(cells, phone)) if (number, phone) in book.numbers else (number, cells)
        for number, cells in sheet.lines
    )
    return Sheet(sheet.headers, sheet.columns, fixed)


def _with_phone(cells: tuple[str, ...], index: int) -> tuple[str, ...]:
    return (*cells[:index], phone_text(cells[index]), *cells[index + 1 :])


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _header_and_records(
    numbered: Iterable[tuple[int, Sequence[str]]],
) -> tuple[int, tuple[str, ...] | None, list[Record]]:
    """The header line's number and cells (``None``: no header), and the lines below it."""
    records: list[Record] = []
    headers: tuple[str, ...] | None = None
    header_line = 1
    for number, cells in numbered:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines above the header; below, a blank line keeps its number
        if headers is None:
            headers = tuple(cells)
            header_line = number
            continue
        records.append((number, tuple(cells)))
        if len(records) > MAX_ROWS:
            raise _too_many_rows()
    return header_line, headers, records


def _squash(text: str) -> str:
    """Lower-case letters and digits only, without accents: how headers are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


def _decode(data: bytes) -> str:
    # Excel's "Unicode text" (and some software's exports) is UTF-16 with its byte order mark:
    # told by the mark, since its ASCII letters hold a NUL byte each.
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            text = "\x00"
        if "\x00" not in text:
            return text
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise ImportRejected(
        [
            Problem(
                None,
                None,
                N_("The file is not text in UTF-8 or Windows-1252: save it as CSV again."),
            )
        ]
    )


def _first_line(text: str) -> str:
    """The first line with something other than separators and spaces: the header."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end
        line = text[start:end]
        if line.strip(" \t\r;,"):
            return line
        start = end + 1
    return ""


def _separator(text: str) -> str:
    """The separator of the header line: the most frequent of ; , and tab outside quotes."""
    outside = re.sub(r'"[^"]*"', "", _first_line(text))
    counts = {sep: outside.count(sep) for sep in _SEPARATORS}
    best = max(_SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ";"


def _too_many_rows() -> ImportRejected:
    return ImportRejected(
        [
            Problem(
                None,
                None,
                N_("The file has more than %(max)d lines to import: split it into several files."),
                {"max": MAX_ROWS},
            )
        ]
    )


def _resolve_headers(
    headers: Sequence[str], header_line: int, lines: Iterable[Sequence[str]]
) -> dict[str, int]:
    """The index of each known column; ``ImportRejected`` if a header is wrong or missing."""
    columns, problems, unknown, blank = _match_headers(headers, header_line)
    # Spreadsheets sometimes export empty trailing columns: ignored if they are empty.
    for index in blank:
        if any(index < len(cells) and cells[index].strip() for cells in lines):
            problems.append(
                Problem(
                    header_line,
                    None,
                    N_("Column %(number)d has no header but holds values."),
                    {"number": index + 1},
                )
            )
    if unknown:
        problems.append(
            Problem(
                header_line,
                None,
                N_("Unknown columns: %(columns)s. The expected columns are: %(expected)s."),
                {"columns": ", ".join(unknown), "expected": ", ".join(COLUMNS)},
            )
        )
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        problems.append(
            Problem(
                header_line,
                None,
                N_("Missing required columns: %(columns)s."),
                {"columns": ", ".join(missing)},
            )
        )
    if problems:
        raise ImportRejected(problems)
    return columns


def _match_headers(
    headers: Sequence[str], header_line: int
) -> tuple[dict[str, int], list[Problem], list[str], list[int]]:
    """The known columns found, the columns named twice, the unknown headers, the blank ones."""
    columns: dict[str, int] = {}
    twice: list[Problem] = []
    unknown: list[str] = []
    blank: list[int] = []
    for index, header in enumerate(headers):
        if not header.strip():
            blank.append(index)
            continue
        column = _HEADER_TO_COLUMN.get(_squash(header))
        if column is None:
            unknown.append(header.strip())
        elif column in columns:
            twice.append(
                Problem(
                    header_line,
                    header.strip(),
                    N_("The column %(column)s appears twice."),
                    {"column": header.strip()},
                )
            )
        else:
            columns[column] = index
    return columns, twice, unknown, blank
