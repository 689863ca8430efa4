"""The CDE report publishes several families of tables together: nothing hidden can be worked
out from everything it publishes at once (Hypothesis, exact linear algebra over the counts).

The report's hand-offs are the dashboard's family, built by the production code
(``handoff_tables``: matrix, receiver × state, quarter × state, decline reasons, protected
together), of which the report publishes receiver × state and the reasons; its decisions are
the three tables of ``decisions_by_type`` (type × first/later, quarter × type, type × heaviest
level, sharing their totals by type), rebuilt here with the same links over one quarter. The
atoms of both families live in one space (a family tag first); the adversary knows every
published value of every table of the report, and that the atoms under a published zero are
zeros. A hidden non-zero value must not be a linear combination of that.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.statistics.handoffs import HandoffCounts, HandoffGroup, handoff_tables
from app.services.statistics.scope import Scope
from app.services.statistics.tables import CountTable, Shared, TableSpec, protected_tables
from tests.domain.test_disclosure_linked import RowSpace

K = 11
counts = st.one_of(st.just(0), st.just(0), st.integers(1, K - 1), st.integers(K, 40))
QUARTER = Scope(start=date(2026, 7, 1), end=date(2026, 9, 30))
STATES = (HandoffGroup.PENDING, HandoffGroup.ACCEPTED, HandoffGroup.DECLINED)
Atom = tuple[int, int, int, int, int]  # family, then its keys


@dataclass(frozen=True)
class Item:
    """A structure or a reference item, as the tables read them (a code, active)."""

    code: str
    active: bool = True


@st.composite
def worlds(draw: st.DrawFn) -> dict[Atom, int]:
    atoms: dict[Atom, int] = {}
    senders, receivers = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    for s, r, state in product(range(senders), range(receivers), range(len(STATES))):
        for reason in range(2 if STATES[state] is HandoffGroup.DECLINED else 1):
            atoms[(0, s, r, state, reason)] = draw(counts)
    types, levels = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    for t, first, level in product(range(types), range(2), range(levels)):
        atoms[(1, t, first, level, 0)] = draw(counts)
    return atoms


def _handoffs(atoms: dict[Atom, int]) -> tuple[list[CountTable], list[dict]]:
    structures = [Item(f"S{i}") for i in range(3)]
    reasons = [Item("no_capacity"), Item("other")]
    matrix: dict = defaultdict(int)
    by_receiver: dict = defaultdict(int)
    by_reason: dict = defaultdict(int)
    by_quarter: dict = defaultdict(int)
    members: list[dict] = [defaultdict(set) for _ in range(2)]
    (quarter,) = QUARTER.quarters()
    for (family, s, r, state, reason), n in atoms.items():
        if family != 0:
            continue
        group, receiver = STATES[state], structures[r]
        matrix[(structures[s], receiver)] += n
        by_receiver[(receiver, group)] += n
        by_quarter[(quarter, group)] += n
        members[0][(receiver, group)].add((family, s, r, state, reason))
        if group is HandoffGroup.DECLINED:
            by_reason[(reasons[reason], group)] += n
            members[1][(reasons[reason], group)].add((family, s, r, state, reason))
    senders = {structures[s] for (f, s, *_rest) in atoms if f == 0}
    receivers = {structures[r] for (f, _s, r, *_rest) in atoms if f == 0}
    found = HandoffCounts(
        matrix=matrix,
        by_receiver=by_receiver,
        by_reason=by_reason,
        by_quarter=by_quarter,
        by_pair={},
        answers={},
        senders=tuple(sorted(senders, key=lambda x: x.code)),
        receivers=tuple(sorted(receivers, key=lambda x: x.code)),
    )
    tables = handoff_tables(found, QUARTER, reasons, K)  # type: ignore[arg-type]
    return [tables.by_receiver, tables.decline_reasons], members


def _decisions(atoms: dict[Atom, int]) -> tuple[list[CountTable], list[dict]]:
    by_type: dict = defaultdict(int)
    by_quarter: dict = defaultdict(int)
    criteria: dict = defaultdict(int)
    members: list[dict] = [defaultdict(set) for _ in range(3)]
    for atom, n in atoms.items():
        family, t, first, level, _zero = atom
        if family != 1:
            continue
        for index, (counts_, key) in enumerate(
            ((by_type, (t, first)), (by_quarter, ("Q", t)), (criteria, (t, level)))
        ):
            counts_[key] += n
            members[index][key].add(atom)
    types = tuple(sorted({a[1] for a in atoms if a[0] == 1}))
    levels = tuple(sorted({a[3] for a in atoms if a[0] == 1}))
    tables = protected_tables(
        [
            TableSpec("decisions-by-type", types, (0, 1), by_type),
            TableSpec("decisions-by-quarter", ("Q",), types, by_quarter),
            TableSpec("decision-criteria", types, levels, criteria),
        ],
        [Shared(0, "rows", 1, "columns"), Shared(2, "rows", 0, "rows")],
        K,
    )
    return tables, members


def _positions(table: CountTable, cells: dict) -> list[tuple[int | None, set[Atom]]]:
    """Every published position of a table (cells, totals) with the atoms under it."""
    p = table.published
    found = []
    for i, row in enumerate(table.rows):
        for j, column in enumerate(table.columns):
            found.append((p.cells[i][j], cells.get((row, column), set())))
        found.append(
            (p.row_totals[i], set().union(*(cells.get((row, c), set()) for c in table.columns)))
        )
    for j, column in enumerate(table.columns):
        found.append(
            (p.column_totals[j], set().union(*(cells.get((r, column), set()) for r in table.rows)))
        )
    found.append((p.total, set().union(*cells.values()) if table.rows else set()))
    return found


@given(worlds())
@settings(max_examples=200, deadline=None)
def test_nothing_hidden_in_the_report_can_be_worked_out(atoms: dict[Atom, int]) -> None:
    handoffs, handoff_cells = _handoffs(atoms)
    decisions, decision_cells = _decisions(atoms)
    published = [
        position
        for tables, cells in ((handoffs, handoff_cells), (decisions, decision_cells))
        for table, under in zip(tables, cells, strict=True)
        for position in _positions(table, under)
    ]
    known = RowSpace()
    for value, under in published:
        if value is None or not under:
            continue
        known.add(dict.fromkeys(under, Fraction(1)))  # type: ignore[arg-type]
        if value == 0:
            for atom in under:
                known.add({atom: Fraction(1)})  # type: ignore[dict-item]
    for value, under in published:
        if value is None and sum(atoms[a] for a in under):
            assert not known.contains(dict.fromkeys(under, Fraction(1))), sorted(under)  # type: ignore[arg-type]
        if value is not None:
            assert value == 0 or value >= K
