"""Pseudonyms, statistical generalisations and validation rules about people."""

from __future__ import annotations

import secrets
from datetime import date
from enum import StrEnum

# Crockford-like alphabet without the easily confused 0/O, 1/I/L and U.
PSEUDONYM_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
MIN_AGE = 14
MAX_AGE = 100


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class EducationLevel(StrEnum):
    """Education level bands (French nomenclature of diploma levels)."""

    NONE = "none"  # no diploma, or left before a level-3 diploma
    LEVEL_3 = "level_3"  # CAP, BEP
    LEVEL_4 = "level_4"  # baccalauréat
    LEVEL_5 = "level_5"  # bac+2
    LEVEL_6_PLUS = "level_6_plus"  # licence and above


_PSEUDONYM_SPACE = len(PSEUDONYM_ALPHABET) ** 8


def new_pseudonym() -> str:
    """A random pseudonym such as ``P-7K3M-Q9XA`` (about 39 bits of entropy).

    One draw of 40 random bits, rejected above 30^8 so that every pseudonym is equally likely,
    then written in base 30: cheaper than eight separate draws when thousands are imported.
    """
    number = secrets.randbits(40)
    while number >= _PSEUDONYM_SPACE:
        number = secrets.randbits(40)
    chars = []
    for _ in range(8):
        number, digit = divmod(number, len(PSEUDONYM_ALPHABET))
        chars.append(PSEUDONYM_ALPHABET[digit])
    return f"P-{''.join(chars[:4])}-{''.join(chars[4:])}"


def canonical_pseudonym(text: str) -> str | None:
    """``text`` written as a pseudonym (``p-7k3m q9xa``, ``7K3MQ9XA`` and ``P7K3M-Q9XA`` all
    give ``P-7K3M-Q9XA``), or ``None`` when it cannot be one."""
    bare = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(bare) == 9 and bare.startswith("P"):
        bare = bare[1:]
    if len(bare) != 8 or any(ch not in PSEUDONYM_ALPHABET for ch in bare):
        return None
    return f"P-{bare[:4]}-{bare[4:]}"


def pseudonym_prefix(text: str) -> str | None:
    """The start of a pseudonym typed in a search box (``hthe``, ``p-hthe-x8``, ``HTHEX8``...)
    as the canonical text it begins with (``P-HTHE``, ``P-HTHE-X8``), or ``None`` when ``text``
    is not 4 to 7 characters of the pseudonym alphabet (a whole pseudonym is
    ``canonical_pseudonym``'s). The ``P-`` prefix is optional, with its dash: ``P2K3M`` is read
    as the five characters ``P2K3M``, since P is a letter of the alphabet too."""
    upper = text.strip().upper()
    if upper.startswith("P-"):
        upper = upper[2:]
    bare = "".join(ch for ch in upper if ch.isalnum())
    if not 4 <= len(bare) <= 7 or any(ch not in PSEUDONYM_ALPHABET for ch in bare):
        return None
    return f"P-{bare[:4]}" + (f"-{bare[4:]}" if len(bare) > 4 else "")


def age_on(birth_year: int, today: date) -> int:
    """Age in whole years, known only to the year (the birth date itself is encrypted)."""
    return today.year - birth_year


AGE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 15, "<16"),
    (16, 17, "16-17"),
    (18, 21, "18-21"),
    (22, 25, "22-25"),
    (26, 29, "26-29"),
    (30, 44, "30-44"),
    (45, 54, "45-54"),
    (55, None, "55+"),
)


def age_band(birth_year: int | None, today: date) -> str | None:
    """The statistical age band of a person born in ``birth_year``, or None if unknown."""
    if birth_year is None:
        return None
    age = age_on(birth_year, today)
    for low, high, label in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return label
    return None


def plausible_birth_date(birth_date: date, today: date) -> bool:
    """A birth date in the past that gives an age Relais can follow."""
    if birth_date >= today:
        return False
    age = (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )
    return MIN_AGE <= age <= MAX_AGE
