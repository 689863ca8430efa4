"""Long ``IN (...)`` lists for the bulk lookups (an import's blind indexes, pseudonyms, ids;
the duplicate lookup of ``app/services/people/lookup.py``): values in slices of
``LOOKUP_CHUNK``, written into the SQL text.

Its own module, below both the import package and the people services, so that either can use
it without importing the other.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, bindparam
from sqlalchemy.orm import InstrumentedAttribute

# Values per IN (...) list when looking up blind indexes, pseudonyms or ids: large, for few
# round trips (a file of 10,000 people needs one or two queries of each kind). The blind
# indexes and pseudonyms are written into the SQL text (see ``in_literals``): the blind-index
# lookup holds up to three lists, about 100 kB of SQL, far below SQLite's 1 MB limit.
LOOKUP_CHUNK = 5000

_T = TypeVar("_T")


def chunks(items: Sequence[_T], size: int = LOOKUP_CHUNK) -> Iterator[Sequence[_T]]:
    """``items`` in slices of ``size``: one query each."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def in_literals(
    column: InstrumentedAttribute[Any], values: Sequence[int] | Sequence[str]
) -> ColumnElement[bool]:
    """``column IN (values)`` with the values written into the SQL text rather than bound.

    Only for values the application makes itself (blind-index integers, pseudonyms of the
    pseudonym alphabet), rendered by the column type's own literal processor. Thousands of
    bound parameters cost more to prepare than the query costs to run (psycopg parses and
    converts each one); thousands of literals cost next to nothing.
    """
    return column.in_(
        bindparam(None, list(values), type_=column.type, expanding=True, literal_execute=True)
    )
