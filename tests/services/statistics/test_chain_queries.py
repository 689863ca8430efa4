"""The redirect chains counted from their first hand-off only when a redirect follows it
(``queries.chains_query``) equal the counts of the one walk from every hand-off of the period
that it replaced (``chain_reference.old_chains_query``), on random chains."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from app.services.statistics.queries import chains_query
from app.services.statistics.scope import Scope
from tests.services.statistics.chain_reference import old_chains_query, random_chains
from tests.world import World


def counted(world: World, query: object) -> Counter[tuple[int, int]]:
    found: Counter[tuple[int, int]] = Counter()
    for length, end_code, n in world.session.execute(query):  # type: ignore[call-overload]
        found[(int(length), int(end_code))] += int(n)
    return found


@pytest.mark.parametrize("seed", [5, 2026])
def test_the_chains_walked_from_their_redirects_count_alike(world: World, seed: int) -> None:
    random_chains(world, seed)
    for scope in (
        Scope(start=date(2026, 1, 1), end=date(2026, 11, 30)),
        Scope(start=date(2025, 1, 1), end=date(2027, 6, 30)),
    ):
        old, new = counted(world, old_chains_query(scope)), counted(world, chains_query(scope))
        assert sum(old.values()) >= 20
        assert any(length > 1 for length, _end in old)
        assert new == old
