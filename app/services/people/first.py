"""The first rows of a list of people and its length counted up to a bound, in one statement,
whatever the length of the list (the work queue's lists of people).

Each query of the list selects a ``person`` column (a ``beneficiaries`` id) and the columns it
is ordered by. Each is cut at ``limit`` + 1 rows in that order - read along an index when one
serves the order, so a list longer than the bound costs what the bound costs - then the first
``shown`` rows of their union are loaded with their people, and counted by a window before the
``LIMIT``. A list longer than ``limit`` says so (``exact`` false) rather than counting on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping, Select, func, null, select, union_all
from sqlalchemy.orm import Session, lazyload

from app.models import Beneficiary, Structure


@dataclass(frozen=True)
class FirstPeople:
    # Each person, the structure of the row's ``structure`` column (with ``structures``), and
    # the row's columns.
    rows: list[tuple[Beneficiary, Structure | None, RowMapping]]
    total: int  # at most ``limit``
    exact: bool  # else the list holds more than ``total``


def first_people(
    session: Session,
    queries: Sequence[Select[*tuple[Any, ...]]],
    order: Sequence[str],
    *,
    shown: int,
    limit: int,
    structures: bool = False,
) -> FirstPeople:
    """The first ``shown`` people of the union of ``queries`` in the order of their columns
    named ``order`` (the last one unique), and how many there are, up to ``limit``; with
    ``structures``, each row's ``structure`` column loaded as a ``Structure`` too."""
    parts = [
        query.order_by(*(query.selected_columns[name] for name in order))
        .limit(limit + 1)
        .subquery()
        for query in queries
    ]
    found = parts[0] if len(parts) == 1 else union_all(*(select(p) for p in parts)).subquery()
    first = (
        select(found, func.count().over().label("total"))
        .order_by(*(found.c[name] for name in order))
        .limit(shown)
        .subquery()
    )
    query = select(Beneficiary, Structure if structures else null(), first).join(
        first, first.c.person == Beneficiary.id
    )
    if structures:
        query = query.outerjoin(Structure, Structure.id == first.c.structure)
    rows = session.execute(
        query.order_by(*(first.c[name] for name in order))
        # The work queue shows no cohort: not loaded (a query more otherwise).
        .options(lazyload(Beneficiary.cohorts))
    ).all()
    total = int(rows[0].total) if rows else 0
    people = [(row[0], row[1], row._mapping) for row in rows]
    return FirstPeople(people, min(total, limit), total <= limit)
