"""The one way Relais writes CSV: cells a spreadsheet would run as a formula are neutralised.

A spreadsheet opening a CSV file runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and
some read a leading tab, carriage return or line feed the same way) as a formula:
``=HYPERLINK("http://evil.example","card")`` typed into a directory card, or a structure name,
would become a live link or a command in the coordinator's spreadsheet. Following the OWASP
rule (CSV injection), every *text* cell whose first meaningful character is one of those gets
a leading single quote, the rest kept as typed; leading spaces and quotes do not hide the
character (``  =1+1``, ``'=1+1`` are quoted too, which also keeps ``restore_cell`` exact).
Fullwidth forms (``＝``, ``＋``, ``－``, ``＠``), which some spreadsheets normalise, count too.

A spreadsheet that guesses another separator than the one written (``,`` for ``;``), or splits
on a line break, starts a cell in the middle of a value: ``Aide;=1+1`` becomes ``Aide`` and
``=1+1``. So the rule applies at every place a cell could start - the start of the value and
just after each ``,``, ``;``, tab, carriage return or line feed inside it: ``Aide;'=1+1``.

Numbers the application writes as numbers (``int``, ``float``, ``Decimal``: counts, totals)
are written unquoted and unchanged, a negative count included; a number that arrives as text
is text, and neutralised like any other. Every text cell is written between double quotes.

``tests/test_architecture.py`` fails when another module of ``app/`` writes CSV itself.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import TextIO

Cell = str | int | float | Decimal | None

# The characters that make a spreadsheet read a cell as a formula (OWASP: = + - @ tab CR; LF
# too, and the fullwidth forms), found after any leading spaces and single quotes...
_FORMULA_START = r"[ \u00a0']*[=+\-@\t\r\n\uff1d\uff0b\uff0d\uff20]"
# ... at the start of the value or after a character a spreadsheet may split a cell on.
_CELL_START = r"(?:^|(?<=[,;\t\r\n]))"
_TO_QUOTE = re.compile(_CELL_START + "(?=" + _FORMULA_START + ")")
_QUOTED = re.compile(_CELL_START + "'(?=" + _FORMULA_START + ")")
_FORMULA = re.compile(_FORMULA_START)
QUOTE = "'"


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet could read ``text``, as one cell, as a formula."""
    return _FORMULA.match(text) is not None


def neutralise(text: str) -> str:
    """``text`` with a single quote wherever a cell starting there would be a formula."""
    return _TO_QUOTE.sub(QUOTE, text)


def neutral_cell(value: Cell) -> str | int | float | Decimal:
    """A cell as it is written: numbers unchanged, ``None`` empty, formula-like text quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):  # a bool is an int to Python, but text in a file
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return value
    return neutralise(str(value))


def restore_cell(text: str) -> str:
    """The value ``neutral_cell`` wrote as ``text`` (for files Relais reads back: the
    directory exchange): the added quotes removed, anything else unchanged."""
    return _QUOTED.sub("", text)


class CsvWriter:
    """``csv.writer`` with neutralised cells and every text cell quoted."""

    def __init__(self, stream: TextIO, *, delimiter: str = ",", lineterminator: str = "\r\n"):
        self._writer = csv.writer(
            stream, delimiter=delimiter, lineterminator=lineterminator, quoting=csv.QUOTE_NONNUMERIC
        )

    def __repr__(self) -> str:
        return "CsvWriter()"

    def writerow(self, cells: Iterable[Cell]) -> None:
        self._writer.writerow([neutral_cell(cell) for cell in cells])


def csv_text(
    lines: Iterable[Iterable[Cell]], *, delimiter: str = ",", lineterminator: str = "\r\n"
) -> str:
    """The whole CSV text of ``lines`` (the first one being the header, if any)."""
    buffer = io.StringIO()
    writer = CsvWriter(buffer, delimiter=delimiter, lineterminator=lineterminator)
    for line in lines:
        writer.writerow(line)
    return buffer.getvalue()


def csv_chunks(
    lines: Iterable[Iterable[Cell]],
    *,
    delimiter: str = ",",
    lineterminator: str = "\r\n",
    prefix: str = "",
    lines_per_chunk: int = 500,
) -> Iterator[str]:
    """The CSV text of ``lines`` in pieces of ``lines_per_chunk`` lines, for a streamed
    response (``prefix`` first: a byte-order mark for spreadsheets, for instance)."""
    buffer = io.StringIO()
    writer = CsvWriter(buffer, delimiter=delimiter, lineterminator=lineterminator)
    if prefix:
        yield prefix
    for count, line in enumerate(lines, start=1):
        writer.writerow(line)
        if count % lines_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
