"""A structure's own figures against the network's (``app/services/statistics/partner.py``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

import pytest
from sqlalchemy.orm import Session

from app.models import ReferenceKind
from app.services.statistics import partner
from app.services.statistics.headings import HandoffGroup, Metric
from app.services.statistics.partner import Side, partner_figures
from app.services.statistics.scope import Scope
from tests.partner_world import END, MINE, NETWORK, START, TODAY, fill
from tests.services.statistics import partner_reference
from tests.services.statistics.delay_reference import random_delays_world
from tests.world import World

SCOPE = Scope(start=START, end=END)


def _values(figures: object) -> dict[str, object]:
    found = asdict(figures)  # type: ignore[call-overload]
    found.pop("small")
    return found


def test_the_figures_of_a_known_world(db_session: Session, world: World) -> None:
    fill(world)
    figures = partner_figures(db_session, world.b, SCOPE, k=1, today=TODAY)
    assert _values(figures.mine) == pytest.approx(MINE)
    assert _values(figures.network) == pytest.approx(NETWORK)
    assert [(line.reason.code, line.mine, line.network) for line in figures.reasons] == [
        ("not_eligible", 1, 1),  # B's own declines first
        ("no_capacity", 0, 1),
    ]
    assert figures.received.cell(Side.THIS_STRUCTURE, HandoffGroup.OUTCOME) == 1


def test_small_counts_are_hidden_and_shares_need_k_behind_them(
    db_session: Session, world: World
) -> None:
    fill(world)
    figures = partner_figures(db_session, world.b, SCOPE, k=11, today=TODAY)
    for column in (figures.mine, figures.network):
        values = _values(column)
        for name in ("received", "sent", "sent_declined", "followed"):
            assert values[name] is None, name  # 1 to 10: hidden
        for name, value in values.items():
            assert value is None or value == 0, name
    assert figures.mine.small == {"received", "sent", "sent_declined", "followed"}
    for line in figures.reasons:
        assert line.mine in (None, 0)
        assert line.network is None
    for table in figures.tables():
        published = table.published
        for value in (*(v for row in published.cells for v in row), published.total):
            assert value is None or value == 0 or value >= 11


def test_the_tables_sharing_totals_hide_them_alike(db_session: Session, world: World) -> None:
    """The network's hand-offs by state are the total line of the received and of the sent
    tables; the received ones by receiver are the row totals of the answers in time: each
    shared value is published in both or in neither, whatever k."""
    fill(world)
    for k in (2, 3, 4, 5):
        figures = partner_figures(db_session, world.b, SCOPE, k=k, today=TODAY)
        received, in_time = figures.received.published, figures.answered_in_time.published
        network_sent = figures.network_sent.published
        assert received.column_totals == network_sent.column_totals, k
        assert received.total == network_sent.total == in_time.total, k
        assert received.row_totals == in_time.row_totals, k


def test_a_structure_with_nothing(db_session: Session, world: World) -> None:
    figures = partner_figures(db_session, world.c, SCOPE, k=11, today=TODAY)
    assert figures.mine.received == 0
    assert figures.mine.accepted_share is None
    assert figures.reasons == []


@pytest.mark.parametrize("seed", [11, 2026])
def test_one_pass_gives_what_the_dashboards_queries_gave(
    db_session: Session, world: World, seed: int
) -> None:
    """The hand-off counts in one pass and the medians from the days' histograms equal what
    the dashboard's queries (every receiver's medians) gave, for each structure."""
    random_delays_world(world, seed)
    scope = Scope(start=date(2026, 1, 1), end=date(2026, 11, 30))
    reasons = partner._items(db_session, ReferenceKind.DECLINE_REASON)
    for structure in (world.a, world.b, world.c):
        *old, medians = partner_reference.old_counts(db_session, structure, scope, reasons, TODAY)
        new = partner._handoff_counts(db_session, structure, scope, reasons, TODAY)
        assert sum(old[0].values()) > 50  # the world is not empty
        assert [dict(counts) for counts in new] == old
        figures = partner_figures(db_session, structure, scope, k=1, today=TODAY)
        for network, column in ((False, figures.mine), (True, figures.network)):
            for metric, days in (
                (Metric.TO_ANSWER, column.to_answer),
                (Metric.TO_FIRST_CONTACT, column.to_first_contact),
            ):
                found = medians.get((metric, network))
                assert days == (found[0] if found else None), (structure.code, metric, network)
