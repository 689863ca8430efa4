"""The redirect chains section: chains started in the period, by length and by how they ended.

A chain is a hand-off that no redirect created, followed by its redirects; it ends with its
last hand-off: taken in, still awaiting an answer, or not taken in.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.orm import Session

from app.services.statistics.headings import ChainEnd
from app.services.statistics.queries import CHAIN_END_OF_CODE, chains_query
from app.services.statistics.scope import Scope
from app.services.statistics.tables import Counts, CountTable, protected_table

LENGTHS = (1, 2, 3, 4)  # hand-offs in a chain; 4 stands for 4 or more (as chains_query caps)


def redirect_chains(session: Session, scope: Scope, k: int) -> CountTable:
    counts: Counts = defaultdict(int)
    for length, end_code, count in session.execute(chains_query(scope)):
        end = CHAIN_END_OF_CODE.get(int(end_code), ChainEnd.NOT_TAKEN_IN)
        counts[(int(length), end)] += count
    return protected_table("redirect-chains", LENGTHS, tuple(ChainEnd), counts, k)
