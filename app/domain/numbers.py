"""Whole numbers read from requests, forms and files: ASCII digits only, bounded.

``str.isdigit`` and ``int`` accept more than a person types on a French keyboard: ``"²"`` is a
digit for ``isdigit`` but not for ``int``, ``int`` reads Arabic-Indic and full-width digits and
surrounding spaces, and neither bounds the length (a 400-digit number overflows every database
integer). Every place that turns text from outside into a number goes through ``read_int``.
"""

from __future__ import annotations

import re

# The largest value of a PostgreSQL ``integer`` (and of the ids of every table).
DATABASE_INT_MAX = 2**31 - 1
# Enough digits for any ``integer``; longer text is refused before ``int`` sees it.
MAX_DIGITS = 10

_WHOLE = re.compile(rf"[+-]?[0-9]{{1,{MAX_DIGITS}}}", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def read_int(
    text: str | None, *, minimum: int = -DATABASE_INT_MAX, maximum: int = DATABASE_INT_MAX
) -> int | None:
    """The whole number written in ``text``, or ``None``.

    ``None`` when ``text`` is missing or empty, holds anything but an optional sign and the
    ASCII digits 0 to 9 (surrounding spaces are ignored), has more than ``MAX_DIGITS`` digits,
    or is outside ``minimum`` .. ``maximum``.
    """
    if text is None:
        return None
    written = text.strip(" \t\r\n")
    if not _WHOLE.fullmatch(written):
        return None
    value = int(written)
    return value if minimum <= value <= maximum else None


def read_id(text: str | None) -> int | None:
    """The database id written in ``text`` (digits only, no sign, 1 .. ``DATABASE_INT_MAX``),
    or ``None``."""
    if text is None or not _DIGITS.fullmatch(text.strip(" \t\r\n")):
        return None
    return read_int(text, minimum=1)
