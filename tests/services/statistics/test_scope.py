"""The scope of the statistics: the filters checked, the default period."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.periods import Quarter
from app.services.errors import InvalidInput
from app.services.statistics.scope import DashboardFilters, resolve_scope
from tests import factories
from tests.world import END, START, World


def test_scope_errors_are_clear(world: World) -> None:
    session = world.session
    with pytest.raises(InvalidInput, match="start of the period"):
        resolve_scope(session, DashboardFilters(start=END, end=START), today=factories.TODAY)
    with pytest.raises(InvalidInput, match="ten years"):
        resolve_scope(
            session, DashboardFilters(start=date(2000, 1, 1), end=END), today=factories.TODAY
        )
    for name in ("cohort", "qpv", "structure"):
        with pytest.raises(InvalidInput) as caught:
            resolve_scope(session, DashboardFilters(**{name: "NOPE"}), today=factories.TODAY)
        assert caught.value.field == name


def test_default_period_is_the_last_twelve_months_by_quarter(world: World) -> None:
    scope = resolve_scope(world.session, DashboardFilters(), today=date(2026, 11, 25))
    assert (scope.start, scope.end) == (date(2025, 10, 1), date(2026, 11, 25))
    assert scope.quarters()[0] == Quarter(2025, 4)
    assert scope.quarters()[-1] == Quarter(2026, 4)
