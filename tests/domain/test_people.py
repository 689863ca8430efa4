"""Pseudonyms, age bands and birth dates."""

from __future__ import annotations

import re
from datetime import date

import pytest

from app.domain.people import (
    AGE_BANDS,
    MAX_AGE,
    MIN_AGE,
    PSEUDONYM_ALPHABET,
    age_band,
    age_on,
    new_pseudonym,
    plausible_birth_date,
    pseudonym_prefix,
)

PSEUDONYM = re.compile(r"^P-[A-Z2-9]{4}-[A-Z2-9]{4}$")
TODAY = date(2026, 6, 15)


def test_pseudonym_format() -> None:
    for _ in range(500):
        pseudonym = new_pseudonym()
        assert PSEUDONYM.match(pseudonym), pseudonym
        assert set(pseudonym[2:].replace("-", "")) <= set(PSEUDONYM_ALPHABET)


def test_pseudonym_alphabet_leaves_out_confusable_characters() -> None:
    assert len(PSEUDONYM_ALPHABET) == len(set(PSEUDONYM_ALPHABET)) == 30
    assert not set("01ILOU") & set(PSEUDONYM_ALPHABET)
    assert set(PSEUDONYM_ALPHABET) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789")


def test_pseudonyms_are_random() -> None:
    drawn = [new_pseudonym() for _ in range(2000)]
    assert len(set(drawn)) == len(drawn)
    # Every character of the alphabet turns up (16,000 draws from 30 characters).
    assert set("".join(p[2:].replace("-", "") for p in drawn)) == set(PSEUDONYM_ALPHABET)


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (0, "<16"),
        (14, "<16"),
        (15, "<16"),
        (16, "16-17"),
        (17, "16-17"),
        (18, "18-21"),
        (21, "18-21"),
        (22, "22-25"),
        (25, "22-25"),
        (26, "26-29"),
        (29, "26-29"),
        (30, "30-44"),
        (44, "30-44"),
        (45, "45-54"),
        (54, "45-54"),
        (55, "55+"),
        (100, "55+"),
    ],
)
def test_age_bands(age: int, band: str) -> None:
    assert age_band(TODAY.year - age, TODAY) == band


def test_age_band_unknown() -> None:
    assert age_band(None, TODAY) is None
    assert age_band(TODAY.year + 1, TODAY) is None  # born next year: no band


def test_bands_cover_every_age_once() -> None:
    for age in range(0, 121):
        matching = [
            label for low, high, label in AGE_BANDS if age >= low and (high is None or age <= high)
        ]
        assert len(matching) == 1, age


def test_age_is_counted_in_years_only() -> None:
    assert age_on(2008, date(2026, 1, 1)) == 18
    assert age_on(2008, date(2026, 12, 31)) == 18


@pytest.mark.parametrize(
    ("birth_date", "plausible"),
    [
        (TODAY, False),
        (date(2026, 6, 16), False),  # tomorrow
        (date(2030, 1, 1), False),
        (date(2012, 6, 16), False),  # 14 tomorrow: still 13
        (date(2012, 6, 15), True),  # 14 today
        (date(2008, 2, 29), True),
        (date(1926, 6, 15), True),  # 100 today
        (date(1925, 6, 16), True),  # 101 tomorrow: still 100
        (date(1925, 6, 15), False),  # 101 today
        (date(1900, 1, 1), False),
    ],
)
def test_plausible_birth_date(birth_date: date, plausible: bool) -> None:
    assert plausible_birth_date(birth_date, TODAY) is plausible


def test_age_limits() -> None:
    assert (MIN_AGE, MAX_AGE) == (14, 100)


def test_leap_day_birthdays() -> None:
    born = date(2012, 2, 29)
    assert not plausible_birth_date(born, date(2026, 2, 28))  # turns 14 on 1 March
    assert plausible_birth_date(born, date(2026, 3, 1))


@pytest.mark.parametrize(
    ("typed", "prefix"),
    [
        ("hthe", "P-HTHE"),
        ("p-hthe", "P-HTHE"),
        ("P-HTHE-X8", "P-HTHE-X8"),
        (" hthe x87 ", "P-HTHE-X87"),
        ("P2K3M", "P-P2K3-M"),  # P is a letter of the alphabet: no dash, no prefix
        ("hth", None),  # too short to search
        ("hthex875", None),  # a whole pseudonym is canonical_pseudonym's
        ("h0th", None),  # 0 is not in the alphabet
        ("", None),
    ],
)
def test_pseudonym_prefix(typed: str, prefix: str | None) -> None:
    assert pseudonym_prefix(typed) == prefix
