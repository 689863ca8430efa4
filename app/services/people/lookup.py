"""The candidates of a duplicate lookup: people whose blind indexes equal those of an identity.

Each person carries two sets of duplicate indexes over the same combinations (name and birth
date, e-mail, phone): the narrow ones (``BLIND_INDEX_BITS``, 14 by default: about six false
candidates per value at 100,000 people) and the wide lookup ones (``LOOKUP_BITS``: about 0.006).
A lookup asks the wide index of the people whose ``lookup_version`` is current, so that it
decrypts its true candidates rather than a share of the database. People whose lookup indexes
were never computed (registered before they existed, until ``flask --app app keys
rebuild-index`` has run) are still found through their narrow indexes: one cheap query first
tells whether any such person is left, and only then is the narrow index asked too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.crypto.blind_index import BlindIndexer, name_birth_key, normalise_email
from app.models import Beneficiary
from app.services.in_lists import in_literals
from app.services.people.identity import Identity

# Index values per query of a lookup. An import's thousands of values were three ``IN`` lists
# of up to 5,000 values in one query (``OR``): PostgreSQL read all of ``beneficiaries`` for
# them (100 ms a query at 100,000 people, planning 10 ms), where one index's 2,000 values are
# 2,000 probes of that index (5 to 7 ms) - the plan it picks for such a list from 100,000
# people on, whatever the file (docs/performance.md, "The import into 100,000 people, fourth
# pass").
INDEX_CHUNK = 2000

NARROW: dict[str, InstrumentedAttribute[int | None]] = {
    "name_birth": Beneficiary.name_birth_index,
    "email": Beneficiary.email_index,
    "phone": Beneficiary.phone_index,
}
WIDE: dict[str, InstrumentedAttribute[int | None]] = {
    "name_birth": Beneficiary.name_birth_lookup,
    "email": Beneficiary.email_lookup,
    "phone": Beneficiary.phone_lookup,
}


@dataclass(frozen=True)
class LookupValue:
    """One duplicate combination of an identity: its index name, narrow and wide values."""

    name: str
    narrow: int
    wide: int


def identity_keys(identity: Identity) -> list[tuple[str, str]]:
    """The normalised duplicate combinations of a cleaned identity, as (index name, value)."""
    keys = []
    if identity.birth_date:
        birth = name_birth_key(identity.last_name, identity.first_name, identity.birth_date)
        keys.append(("name_birth", birth))
    if identity.email:
        keys.append(("email", normalise_email(identity.email)))
    if identity.phone:
        keys.append(("phone", identity.phone))
    return keys


def lookup_values(indexer: BlindIndexer, keys: Iterable[tuple[str, str]]) -> list[LookupValue]:
    """The narrow and wide values of (index name, normalised value) pairs."""
    return [
        LookupValue(name, indexer.compute(name, key), indexer.lookup(name, key))
        for name, key in keys
    ]


@dataclass
class Candidates:
    """People found, by (index name, wide value) and - the not yet re-indexed ones - by
    (index name, narrow value)."""

    wide: dict[tuple[str, int], set[uuid.UUID]] = field(default_factory=dict)
    narrow: dict[tuple[str, int], set[uuid.UUID]] = field(default_factory=dict)

    def of(self, values: Iterable[LookupValue]) -> set[uuid.UUID]:
        """The candidates of one identity."""
        found: set[uuid.UUID] = set()
        for value in values:
            found |= self.wide.get((value.name, value.wide), set())
            found |= self.narrow.get((value.name, value.narrow), set())
        return found

    def everyone(self) -> set[uuid.UUID]:
        return {pid for ids in (*self.wide.values(), *self.narrow.values()) for pid in ids}


def _lookup_stale(version: int) -> ColumnElement[bool]:
    column = Beneficiary.lookup_version
    return or_(column.is_(None), column < version, column > version)


def unindexed_left(session: Session, indexer: BlindIndexer) -> bool:
    """Whether someone still lacks current lookup indexes (but has current narrow ones)."""
    query = (
        select(Beneficiary.id)
        .where(
            _lookup_stale(indexer.version),
            Beneficiary.index_version == indexer.version,
            Beneficiary.erased_at.is_(None),
        )
        .limit(1)
    )
    return session.scalar(query) is not None


def find_candidates(
    session: Session,
    indexer: BlindIndexer,
    values: Iterable[LookupValue],
    exclude: uuid.UUID | None = None,
) -> Candidates:
    """The people who share a duplicate index with ``values`` (one query for a few values, else
    one per ``INDEX_CHUNK`` values of each index; as many on the narrow indexes while
    ``unindexed_left``)."""
    values = list(values)
    found = Candidates()
    if not values:
        return found
    version = indexer.version
    wide = _wanted(values, "wide")
    current = (Beneficiary.lookup_version == version,)
    _collect(session, WIDE, wide, current, found.wide, exclude)
    if unindexed_left(session, indexer):
        narrow = _wanted(values, "narrow")
        stale = (_lookup_stale(version), Beneficiary.index_version == version)
        _collect(session, NARROW, narrow, stale, found.narrow, exclude)
    return found


def _wanted(values: Iterable[LookupValue], width: str) -> dict[str, set[int]]:
    wanted: dict[str, set[int]] = {}
    for value in values:
        wanted.setdefault(value.name, set()).add(getattr(value, width))
    return wanted


def _collect(
    session: Session,
    columns: Mapping[str, InstrumentedAttribute[int | None]],
    wanted: Mapping[str, set[int]],
    conditions: tuple[ColumnElement[bool], ...],
    into: dict[tuple[str, int], set[uuid.UUID]],
    exclude: uuid.UUID | None,
) -> None:
    for group in _groups(wanted):
        names = list(group)
        tests = [in_literals(columns[name], values) for name, values in group.items()]
        filters: list[Any] = [or_(*tests), *conditions, Beneficiary.erased_at.is_(None)]
        if exclude is not None:
            filters.append(Beneficiary.id != exclude)
        query = select(Beneficiary.id, *(columns[name] for name in names)).where(and_(*filters))
        for person_id, *values in session.execute(query):
            for name, value in zip(names, values, strict=True):
                if value is not None and value in wanted[name]:
                    into.setdefault((name, value), set()).add(person_id)


def _groups(wanted: Mapping[str, set[int]]) -> list[dict[str, list[int]]]:
    """The values of each query: all of them in one query (one index after the other, ``OR``)
    when they are ``INDEX_CHUNK`` or fewer (a registration: three), else one index a query, in
    slices of ``INDEX_CHUNK``."""
    ordered = {name: sorted(values) for name, values in wanted.items() if values}
    if sum(len(values) for values in ordered.values()) <= INDEX_CHUNK:
        return [ordered] if ordered else []
    return [
        {name: values[start : start + INDEX_CHUNK]}
        for name, values in ordered.items()
        for start in range(0, len(values), INDEX_CHUNK)
    ]
