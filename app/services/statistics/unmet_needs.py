"""Unmet needs by barrier category × quarter, × QPV, × source, and by public.

Counts the unmet-need records (``app.models.UnmetNeed``; what makes one:
``app.domain.unmet_needs``) whose day is in the period. The population filters read the
record itself - the QPV and cohorts of the person *that day*, and the structures of the need
(the one where it went unmet, or the one that referred it) - not the person's file today.

Published as three tables sharing their row totals (the needs of each category, and of the
period), protected as one family, and a list by public (one need counts in every cohort of
its person: no total sums it). ``unmet_needs(session, scope, k)``: k = 1 for the exact view,
``SMALL_COUNT_THRESHOLD`` for the publication view (exports, print, the CDE report).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    SQLColumnExpression,
    String,
    cast,
    extract,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from app.domain.disclosure import protect_value
from app.domain.periods import Quarter
from app.domain.unmet_needs import UnmetNeedSource
from app.models import ReferenceItem, ReferenceKind, UnmetNeed, unmet_need_cohorts
from app.services.statistics.headings import Label
from app.services.statistics.scope import Scope
from app.services.statistics.tables import (
    CountList,
    Counts,
    CountTable,
    Shared,
    TableSpec,
    protected_tables,
)


class NeedHeading(StrEnum):
    """Headings of the unmet-need tables that are no reference item."""

    STAGE = "stage_need"  # a hand-off for a stage (no barrier): its row
    OUTSIDE_QPV = "outside_qpv"  # the person lived in no QPV that day


# The sources, in the order of the table's columns.
SOURCES: tuple[Label, ...] = tuple(UnmetNeedSource)

TABLE_NAMES = (
    "unmet-needs-quarters",
    "unmet-needs-qpv",
    "unmet-needs-sources",
    "unmet-needs-publics",
)


@dataclass(frozen=True)
class UnmetNeeds:
    """The protected tables of the unmet needs of a scope (``k``: 1 for exact figures)."""

    scope: Scope
    k: int
    by_quarter: CountTable  # category × quarter
    by_qpv: CountTable  # category × QPV (and outside any QPV)
    by_source: CountTable  # category × source (declined for..., expired, no solution)
    by_public: CountList  # needs of the people of each cohort

    def tables(self) -> dict[str, CountTable | CountList]:
        found = (self.by_quarter, self.by_qpv, self.by_source, self.by_public)
        return {table.name: table for table in found}

    @property
    def empty(self) -> bool:
        return self.by_quarter.empty


def needs_in(scope: Scope) -> list[ColumnElement[bool]]:
    """SQL conditions: the unmet needs of the period and of the scope's population."""
    conditions: list[ColumnElement[bool]] = [
        UnmetNeed.occurred_on >= scope.start,
        UnmetNeed.occurred_on <= scope.end,
    ]
    if scope.cohort is not None:
        conditions.append(
            UnmetNeed.id.in_(
                select(unmet_need_cohorts.c.unmet_need_id).where(
                    unmet_need_cohorts.c.cohort_id == scope.cohort.id
                )
            )
        )
    if scope.qpv is not None:
        conditions.append(UnmetNeed.qpv_id == scope.qpv.id)
    if scope.structure is not None:
        conditions.append(
            or_(
                UnmetNeed.structure_id == scope.structure.id,
                UnmetNeed.referred_by_structure_id == scope.structure.id,
            )
        )
    return conditions


def day_quarter(day: SQLColumnExpression[date]) -> ColumnElement[int]:
    """The quarter of a calendar day as ``year * 10 + quarter``, the same on every database
    (``statistics.sql.year_quarter`` reads a UTC timestamp: a day has no time zone)."""
    return (
        cast(extract("year", day), Integer) * 10 + (cast(extract("month", day), Integer) + 2) // 3
    )


def needs_query(scope: Scope) -> Select[int | None, int, str, int | None, int]:
    """Unmet needs by category, quarter, source and QPV (one grouped query)."""
    quarter = day_quarter(UnmetNeed.occurred_on)
    source = type_coerce(UnmetNeed.source, String)  # its stored text
    return (
        select(UnmetNeed.category_id, quarter, source, UnmetNeed.qpv_id, func.count())
        .where(*needs_in(scope))
        .group_by(UnmetNeed.category_id, quarter, source, UnmetNeed.qpv_id)
    )


def publics_query(scope: Scope) -> Select[int, int]:
    """Unmet needs by cohort of their person that day (a need counts in each of them)."""
    return (
        select(unmet_need_cohorts.c.cohort_id, func.count())
        .join(UnmetNeed, UnmetNeed.id == unmet_need_cohorts.c.unmet_need_id)
        .where(*needs_in(scope))
        .group_by(unmet_need_cohorts.c.cohort_id)
    )


def unmet_needs(session: Session, scope: Scope, k: int) -> UnmetNeeds:
    """The unmet needs of ``scope`` as protected tables (threshold ``k``)."""
    items = {
        kind: _items(session, kind)
        for kind in (ReferenceKind.BARRIER_CATEGORY, ReferenceKind.QPV, ReferenceKind.COHORT)
    }
    by_id = {item.id: item for found in items.values() for item in found}
    quarters: Counts = {}
    qpvs: Counts = {}
    sources: Counts = {}
    for category_id, key, source, qpv_id, n in session.execute(needs_query(scope)):
        row: Label = by_id[category_id] if category_id is not None else NeedHeading.STAGE
        qpv: Label = by_id[qpv_id] if qpv_id is not None else NeedHeading.OUTSIDE_QPV
        for counts, column in (
            (quarters, Quarter.from_key(key)),
            (qpvs, qpv),
            (sources, UnmetNeedSource(source)),
        ):
            counts[row, column] = counts.get((row, column), 0) + n
    rows = _rows(items[ReferenceKind.BARRIER_CATEGORY], quarters)
    qpv_columns: tuple[Label, ...] = (
        *_in_use(items[ReferenceKind.QPV], {c for _r, c in qpvs}),
        NeedHeading.OUTSIDE_QPV,
    )
    specs = [
        TableSpec("unmet-needs-quarters", rows, tuple(scope.quarters()), quarters),
        TableSpec("unmet-needs-qpv", rows, qpv_columns, qpvs),
        TableSpec("unmet-needs-sources", rows, SOURCES, sources),
    ]
    shared = [Shared(0, "rows", 1, "rows"), Shared(0, "rows", 2, "rows")]
    by_quarter, by_qpv, by_source = protected_tables(specs, shared, k)
    return UnmetNeeds(
        scope=scope,
        k=k,
        by_quarter=by_quarter,
        by_qpv=by_qpv,
        by_source=by_source,
        by_public=_publics(session, scope, items[ReferenceKind.COHORT], k),
    )


def _publics(session: Session, scope: Scope, cohorts: list[ReferenceItem], k: int) -> CountList:
    counts: dict[int, int] = {row[0]: row[1] for row in session.execute(publics_query(scope))}
    shown = _in_use(cohorts, {c for c in cohorts if counts.get(c.id)})
    return CountList(
        name="unmet-needs-publics",
        rows=shown,
        values=tuple(protect_value(counts.get(c.id, 0), k) for c in shown),
    )


def _items(session: Session, kind: ReferenceKind) -> list[ReferenceItem]:
    return list(
        session.scalars(
            select(ReferenceItem)
            .where(ReferenceItem.kind == kind)
            .order_by(ReferenceItem.position, ReferenceItem.code)
        )
    )


def _in_use(items: list[ReferenceItem], present: set[Label]) -> tuple[ReferenceItem, ...]:
    """The active items of a list and those with counts, in list order."""
    return tuple(item for item in items if item.active or item in present)


def _rows(categories: list[ReferenceItem], counts: Counts) -> tuple[Label, ...]:
    """The categories (active, or with needs), then the needs for a stage if any."""
    present = {row for row, _column in counts}
    rows: tuple[Label, ...] = _in_use(categories, present)
    return (*rows, NeedHeading.STAGE) if NeedHeading.STAGE in present else rows
