"""The one CSV writer: formula-like text neutralised (OWASP), numbers kept, read back exactly."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.safe_csv import csv_chunks, csv_text, neutral_cell, restore_cell

# Every character OWASP lists (= + - @ tab CR), the line feed, and their fullwidth forms.
DANGEROUS = ["=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20"]
PAYLOADS = ['HYPERLINK("http://evil.example","card")', "1+1", "cmd|' /C calc'!A0", "SUM(A1:A9)"]


def _starts_a_formula(piece: str) -> bool:
    return piece.lstrip(" \u00a0")[:1] in DANGEROUS


def _pieces(cell: str) -> list[str]:
    """The cell, and every piece of it a spreadsheet may take for a cell of its own."""
    split = cell
    for separator in ",;\t\r":
        split = split.replace(separator, "\n")
    return [cell, *split.split("\n")[1:]]


def _cells(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


@pytest.mark.parametrize("start", DANGEROUS)
@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_dangerous_start_gets_a_quote_and_keeps_the_rest(start: str, payload: str) -> None:
    value = start + payload
    assert neutral_cell(value) == "'" + value
    [[cell]] = _cells(csv_text([[value]]))
    assert cell == "'" + value
    assert restore_cell(cell) == value


@pytest.mark.parametrize(
    "value", ["  =1+1", "\u00a0@SUM(A1)", "'=1+1", "''-2", " '+33 6 12 34 56 78"]
)
def test_spaces_and_quotes_do_not_hide_the_formula(value: str) -> None:
    assert neutral_cell(value) == "'" + value
    assert restore_cell(str(neutral_cell(value))) == value


@pytest.mark.parametrize(
    "value", ["Mission Locale", "a=b", "x-y", "mail@example.fr", "", "'quoted", "12", "é=1"]
)
def test_ordinary_text_is_left_as_it_is(value: str) -> None:
    assert neutral_cell(value) == value
    assert restore_cell(value) == value


def test_numbers_written_as_numbers_are_not_altered() -> None:
    text = csv_text([[-3, 0, 12, 2.5, Decimal("-1.25"), None, "-3"]], delimiter=";")
    assert text == '-3;0;12;2.5;-1.25;"";"\'-3"\r\n'
    assert neutral_cell(True) == "true"


def test_a_separator_or_a_line_break_never_starts_a_formula() -> None:
    """A spreadsheet guessing another separator, or splitting on a line break, starts a cell
    inside the value: a quote goes there too."""
    values = ["x;=1+1", "y, -2+2", "z\n@SUM(A1)", "t\t+1", "fine; text, -"]
    text = csv_text([values], delimiter=";")
    [written] = _cells(text, ";")
    assert written == ["x;'=1+1", "y,' -2+2", "z\n'@SUM(A1)", "t\t'+1", "fine; text,' -"]
    assert [restore_cell(cell) for cell in written] == values
    for cell in written:
        assert not any(_starts_a_formula(piece) for piece in _pieces(cell))


def test_chunks_join_to_the_same_text() -> None:
    lines = [["=a", n] for n in range(7)]
    chunks = list(csv_chunks(lines, delimiter=";", prefix="\ufeff", lines_per_chunk=3))
    assert chunks[0] == "\ufeff"
    assert "".join(chunks[1:]) == csv_text(lines, delimiter=";")
    assert len(chunks) == 4  # the prefix, two full chunks, the rest


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from([*DANGEROUS, "'", " ", "a", "1", ";", '"']), max_size=8))
def test_what_is_written_is_read_back_and_never_starts_a_formula(value: str) -> None:
    [[cell]] = _cells(csv_text([[value]]))
    assert restore_cell(cell) == value
    assert not any(_starts_a_formula(piece) for piece in _pieces(cell))
