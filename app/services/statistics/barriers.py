"""The barriers section: barriers identified in the period by current status, per category and
per acting structure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.domain.pathway import BarrierStatus
from app.models import ReferenceItem, Structure
from app.services.statistics.headings import BARRIER_STATUS_OF_CODE, Heading, Label
from app.services.statistics.queries import barriers_query
from app.services.statistics.scope import Scope
from app.services.statistics.tables import (
    Counts,
    CountTable,
    Shared,
    TableSpec,
    items_in_use,
    protected_tables,
    sorted_labels,
)


@dataclass(frozen=True)
class BarrierTables:
    by_category: CountTable
    by_structure: CountTable  # a barrier no structure acts on counts under NO_STRUCTURE


def barrier_tables(
    session: Session,
    scope: Scope,
    categories: Sequence[ReferenceItem],
    structures: Mapping[int, Structure],
    k: int,
) -> BarrierTables:
    by_category: Counts = defaultdict(int)
    by_structure: Counts = defaultdict(int)
    acting: dict[int | None, Label] = {}
    category_of = {item.id: item for item in categories}
    for category_id, structure_id, code, count in session.execute(barriers_query(scope)):
        status = BARRIER_STATUS_OF_CODE[code]
        by_category[(category_of[category_id], status)] += count
        if structure_id not in acting:
            acting[structure_id] = (
                structures[structure_id] if structure_id is not None else Heading.NO_STRUCTURE
            )
        by_structure[(acting[structure_id], status)] += count
    statuses = tuple(BarrierStatus)
    # The same barriers by category and by acting structure: their statuses' totals are one.
    category_table, structure_table = protected_tables(
        [
            TableSpec(
                "barriers-by-category",
                items_in_use(categories, by_category),
                statuses,
                by_category,
            ),
            TableSpec(
                "barriers-by-structure", sorted_labels(acting.values()), statuses, by_structure
            ),
        ],
        [Shared(0, "columns", 1, "columns")],
        k,
    )
    return BarrierTables(by_category=category_table, by_structure=structure_table)
