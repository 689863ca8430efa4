"""Unmet needs by category × quarter, × QPV, × source, by public: exact counts equal a direct
count of the records, the filters read the record (the person's QPV and cohorts that day),
and the publication view hides small counts across the three linked tables."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

from app.domain.periods import Quarter
from app.domain.unmet_needs import UnmetNeedSource
from app.models import ReferenceItem, ReferenceKind, UnmetNeed
from app.services.statistics.scope import DashboardFilters, resolve_scope
from app.services.statistics.unmet_needs import NeedHeading, UnmetNeeds, unmet_needs
from tests import factories
from tests.world import END, START, World

TODAY = factories.TODAY
CATEGORIES = ("mobility", "housing", "childcare")
# Quarter boundaries: the first and last day of a quarter, read the same on every database.
DAYS = (
    date(2026, 1, 1),
    date(2026, 3, 31),
    date(2026, 4, 1),
    date(2026, 9, 30),
    date(2026, 12, 31),
)


def _qpv(world: World, code: str) -> ReferenceItem:
    item = ReferenceItem(kind=ReferenceKind.QPV, code=code, label_fr=code, label_en=code)
    world.session.add(item)
    world.session.flush()
    return item


def need(
    world: World,
    category: str | None,
    day: date,
    source: UnmetNeedSource,
    *,
    qpv: ReferenceItem | None = None,
    cohorts: tuple[str, ...] = (),
    structure: int | None = None,
) -> UnmetNeed:
    row = UnmetNeed(
        source=source,
        occurred_on=day,
        category_id=world.ref(ReferenceKind.BARRIER_CATEGORY, category).id if category else None,
        stage_id=None if category else world.ref(ReferenceKind.STAGE, "training").id,
        qpv_id=qpv.id if qpv else None,
        structure_id=structure or world.b.id,
        referred_by_structure_id=world.a.id,
        cohorts=[world.ref(ReferenceKind.COHORT, c) for c in cohorts],
    )
    world.session.add(row)
    return row


def result(world: World, k: int = 1, **filters: object) -> UnmetNeeds:
    world.session.flush()
    scope = resolve_scope(
        world.session,
        DashboardFilters(start=START, end=END, **filters),  # type: ignore[arg-type]
        today=TODAY,
    )
    return unmet_needs(world.session, scope, k)


def _cells(found: UnmetNeeds) -> dict[str, Counter[tuple[str, str]]]:
    def code(label: object) -> str:
        return str(getattr(label, "code", None) or label)

    tables = {"quarter": found.by_quarter, "qpv": found.by_qpv, "source": found.by_source}
    return {
        name: Counter(
            {
                (code(row), code(column)): value
                for i, row in enumerate(table.rows)
                for j, column in enumerate(table.columns)
                if (value := table.published.cells[i][j])
            }
        )
        for name, table in tables.items()
    }


def test_the_tables_equal_a_direct_count_of_a_known_world(world: World) -> None:
    rng = random.Random(15)
    qpvs = [_qpv(world, "QN01"), _qpv(world, "QN02"), None]
    expected: dict[str, Counter[tuple[str, str]]] = {
        n: Counter() for n in ("quarter", "qpv", "source")
    }
    publics: Counter[str] = Counter()
    for _ in range(120):
        category = rng.choice((*CATEGORIES, None))
        day = rng.choice(DAYS)
        source = rng.choice(list(UnmetNeedSource))
        qpv = rng.choice(qpvs)
        cohorts = tuple(rng.sample(("rsa", "deld", "cej"), rng.randint(0, 2)))
        need(world, category, day, source, qpv=qpv, cohorts=cohorts)
        row = category or NeedHeading.STAGE.value
        expected["quarter"][row, str(Quarter.of(day))] += 1
        expected["qpv"][row, qpv.code if qpv else NeedHeading.OUTSIDE_QPV.value] += 1
        expected["source"][row, source.value] += 1
        publics.update(cohorts)
    # Outside the period: not counted.
    need(world, "mobility", date(2025, 12, 31), UnmetNeedSource.EXPIRED)
    need(world, "mobility", date(2027, 1, 1), UnmetNeedSource.EXPIRED)
    found = result(world)
    assert _cells(found) == expected
    assert found.by_quarter.published.total == 120
    assert found.by_qpv.published.row_totals == found.by_quarter.published.row_totals
    assert found.by_source.published.row_totals == found.by_quarter.published.row_totals
    shown = {
        row.code: value
        for row, value in zip(found.by_public.rows, found.by_public.values, strict=True)
    }  # type: ignore[union-attr]
    assert {code: n for code, n in shown.items() if n} == dict(publics)
    assert found.by_quarter.rows[-1] is NeedHeading.STAGE
    assert [q.number for q in found.by_quarter.columns] == [1, 2, 3, 4]  # type: ignore[union-attr]


def test_the_filters_read_the_record_of_that_day(world: World) -> None:
    qpv = _qpv(world, "QN03")
    need(
        world, "mobility", date(2026, 5, 5), UnmetNeedSource.NO_CAPACITY, qpv=qpv, cohorts=("rsa",)
    )
    need(world, "housing", date(2026, 5, 6), UnmetNeedSource.NO_SOLUTION, structure=world.c.id)
    need(world, "housing", date(2026, 5, 7), UnmetNeedSource.EXPIRED, cohorts=("deld",))
    assert result(world, cohort="rsa").by_quarter.published.total == 1
    assert result(world, qpv="QN03").by_quarter.published.total == 1
    # A structure: where the need went unmet, or the one that referred it.
    assert result(world, structure=world.c.code).by_quarter.published.total == 1
    assert result(world, structure=world.a.code).by_quarter.published.total == 3


def test_the_publication_view_hides_small_counts_in_every_table(world: World) -> None:
    for _ in range(30):
        need(world, "mobility", date(2026, 2, 2), UnmetNeedSource.NO_CAPACITY, cohorts=("rsa",))
    for _ in range(3):
        need(world, "housing", date(2026, 8, 2), UnmetNeedSource.EXPIRED, cohorts=("deld",))
    found = result(world, k=11)
    for table in (found.by_quarter, found.by_qpv, found.by_source):
        published = table.published
        values = [v for row in published.cells for v in row] + list(published.row_totals)
        values += [*published.column_totals, published.total]
        assert not [v for v in values if v is not None and 0 < v < 11], table.name
        # The housing row (3 needs) is hidden wherever it shows.
        housing = [i for i, r in enumerate(table.rows) if getattr(r, "code", "") == "housing"]
        assert published.row_totals[housing[0]] is None
    publics = dict(zip([r.code for r in found.by_public.rows], found.by_public.values, strict=True))  # type: ignore[union-attr]
    assert publics["rsa"] == 30
    assert publics["deld"] is None
    # The exact view shows them.
    exact = result(world)
    assert exact.by_quarter.published.total == 33


def test_no_need_gives_empty_tables(world: World) -> None:
    found = result(world)
    assert found.empty
    assert set(found.by_public.values) == {0}  # the publics, each with no need
