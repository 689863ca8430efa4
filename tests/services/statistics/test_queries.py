"""The grouped queries of the statistics."""

from __future__ import annotations

from datetime import date

from app.domain.handoffs import HandoffStatus
from app.services.statistics import queries
from app.services.statistics.scope import Scope
from tests.world import END, START, World, at


def test_indicators_never_load_people(world: World) -> None:
    """Every query groups: its result has at most a few rows per structure or code."""
    scope = Scope(start=START, end=END)
    for _ in range(30):
        person = world.person()
        world.step(person, "orientation", date(2026, 2, 1), world.a)
        world.handoff(person, world.a, world.b, HandoffStatus.SENT, at(date(2026, 2, 3)))
    world.session.flush()
    for query in (
        queries.funnel_query(scope),
        queries.handoffs_query(scope),
        queries.barriers_query(scope),
        queries.chains_query(scope),
        queries.handoff_delays_query(scope),
    ):
        assert len(world.session.execute(query).all()) <= 2
