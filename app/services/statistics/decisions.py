"""Orientation decisions by pathway type (issue 15, item 1), for the CDE report.

A decision counts in the period of its day (``decided_on``, an effective date), for the
people of the scope's population. It is a **first** decision when it is the person's earliest
(over all time), else a **change** (a new decision, whether or not the type changed). Its
criteria are summed up by the heaviest barrier level among them (``StrongestLevel``).

One grouped query counts the decisions by (pathway type, quarter, first or change, heaviest
level); three tables are published from it, protected together: by type × first/change, by
quarter × type and by type × heaviest level, whose totals by type are shared.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import ColumnElement, Integer, Select, case, cast, extract, func, select
from sqlalchemy.orm import Session

from app.domain.orientation import LEVEL_RANK, STRONGEST_OF_RANK
from app.domain.periods import Quarter
from app.models import OrientationCriterion, OrientationDecision, ReferenceKind
from app.services.statistics.scope import Scope, population
from app.services.statistics.tables import (
    Counts,
    CountTable,
    Shared,
    TableSpec,
    items_in_use,
    protected_tables,
)
from app.services.structures import reference_items


class DecisionKind(StrEnum):
    FIRST = "first"  # the person's first decision
    CHANGE = "change"  # a later one (a change of pathway type, or a review)


@dataclass(frozen=True)
class DecisionTables:
    by_type: CountTable  # pathway type × first / change
    by_quarter: CountTable  # quarter × pathway type
    criteria: CountTable  # pathway type × heaviest barrier level among the criteria

    def tables(self) -> dict[str, CountTable]:
        return {t.name: t for t in (self.by_type, self.by_quarter, self.criteria)}


def day_quarter(day: ColumnElement[date]) -> ColumnElement[int]:
    """The calendar quarter of a date column as ``year * 10 + quarter`` (SQLite and PG)."""
    year = cast(extract("year", day), Integer)
    month = cast(extract("month", day), Integer)
    return year * 10 + (month + 2) // 3


def decisions_query(scope: Scope) -> Select[int, int, int, int, int]:
    """Decisions of the period by (type id, quarter key, first: 1 or 0, heaviest level rank)."""
    ranked = select(
        OrientationDecision.id,
        OrientationDecision.beneficiary_id,
        OrientationDecision.pathway_type_id,
        OrientationDecision.decided_on,
        func.row_number()
        .over(
            partition_by=OrientationDecision.beneficiary_id,
            order_by=(OrientationDecision.decided_on, OrientationDecision.created_at),
        )
        .label("rank"),
    ).subquery()
    level_rank = case(
        *((OrientationCriterion.level == level.value, rank) for level, rank in LEVEL_RANK.items()),
        else_=0,
    )
    heaviest = (
        select(OrientationCriterion.decision_id, func.max(level_rank).label("heaviest"))
        .group_by(OrientationCriterion.decision_id)
        .subquery()
    )
    quarter = day_quarter(ranked.c.decided_on)
    first = case((ranked.c.rank == 1, 1), else_=0)
    strongest = func.coalesce(heaviest.c.heaviest, 0)
    return (
        select(ranked.c.pathway_type_id, quarter, first, strongest, func.count())
        .select_from(ranked.outerjoin(heaviest, heaviest.c.decision_id == ranked.c.id))
        .where(
            ranked.c.decided_on >= scope.start,
            ranked.c.decided_on <= scope.end,
            *population(scope, ranked.c.beneficiary_id),
        )
        .group_by(ranked.c.pathway_type_id, quarter, first, strongest)
    )


def decisions_by_type(session: Session, scope: Scope, k: int) -> DecisionTables:
    """The decisions of the scope by pathway type, protected with threshold ``k`` (1: the
    exact view; ``SMALL_COUNT_THRESHOLD``: the publication view)."""
    types = reference_items(session, ReferenceKind.PATHWAY_TYPE, include_inactive=True)
    type_of = {item.id: item for item in types}
    by_type: Counts = defaultdict(int)
    by_quarter: Counts = defaultdict(int)
    criteria: Counts = defaultdict(int)
    for type_id, quarter_key, first, strongest, count in session.execute(decisions_query(scope)):
        item = type_of[type_id]
        kind = DecisionKind.FIRST if first else DecisionKind.CHANGE
        by_type[(item, kind)] += count
        by_quarter[(Quarter.from_key(int(quarter_key)), item)] += count
        criteria[(item, STRONGEST_OF_RANK[int(strongest)])] += count
    rows = items_in_use(types, by_type)
    found = {q for q, _item in by_quarter if isinstance(q, Quarter)}
    quarters = tuple(sorted({*scope.quarters(), *found}))
    first_table, quarter_table, criteria_table = protected_tables(
        [
            TableSpec("decisions-by-type", rows, tuple(DecisionKind), by_type),
            TableSpec("decisions-by-quarter", quarters, rows, by_quarter),
            TableSpec("decision-criteria", rows, tuple(STRONGEST_OF_RANK.values()), criteria),
        ],
        [Shared(0, "rows", 1, "columns"), Shared(2, "rows", 0, "rows")],
        k,
    )
    return DecisionTables(first_table, quarter_table, criteria_table)
