"""Whole numbers from outside: ASCII digits only, bounded (app.domain.numbers)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.numbers import DATABASE_INT_MAX, read_id, read_int


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        (" 12 ", 12),
        ("-3", -3),
        ("+3", 3),
        ("0", 0),
        (str(DATABASE_INT_MAX), DATABASE_INT_MAX),
        (str(DATABASE_INT_MAX + 1), None),
        ("9" * 400, None),
        ("²", None),  # isdigit() is true, int() fails
        ("١٢", None),  # Arabic-Indic digits: int() reads them
        ("１２", None),  # full-width digits
        (" ", None),
        ("", None),
        (None, None),
        ("1 2", None),
        ("1_000", None),  # int() accepts the underscore
        ("0x10", None),
    ],
)
def test_read_int(text: str | None, expected: int | None) -> None:
    assert read_int(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"), [("7", 7), ("0", None), ("-7", None), ("+7", None), ("²", None)]
)
def test_read_id(text: str, expected: int | None) -> None:
    assert read_id(text) == expected


@settings(max_examples=200)
@given(st.text(max_size=30))
def test_read_int_never_raises_and_stays_in_range(text: str) -> None:
    found = read_int(text, minimum=-5, maximum=1000)
    assert found is None or -5 <= found <= 1000
    if found is not None:
        assert text.strip().lstrip("+-").isascii()


@settings(max_examples=100)
@given(st.integers(min_value=-DATABASE_INT_MAX, max_value=DATABASE_INT_MAX))
def test_read_int_reads_what_str_writes(number: int) -> None:
    assert read_int(str(number)) == number
