"""Counting the SQL statements a request runs, to pin them (les-emplois' assertSnapshotQueries).

    with count_queries() as queries:
        client.get("/people/")
    pin(queries, sqlite=17, postgresql=18)

``count_queries`` listens to ``before_cursor_execute`` on the application's engine, so every
statement the code under test sends is seen: the ORM's, Core's and raw ones, lazy loads
included. The savepoints of the test harness (``tests/conftest.py`` runs each test in one
outer transaction, so that a commit releases a savepoint) are not the code's work and are left
out. ``pin`` fails with the numbered list of the statements when the count is not the one
expected, and ``pin_flat`` with the difference between two runs of a page that shows a
different number of rows: a query per row makes them differ.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event

from app.extensions import db

# What the harness sends around the code's own commits and rollbacks.
HARNESS = re.compile(r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b", re.IGNORECASE)
# Expanded IN lists and VALUES rows, folded so that two page sizes read alike in a diff.
_PLACEHOLDERS = re.compile(r"\((?:\s*(?:\?|%\(\w+\)s|%s|:\w+)\s*,?)+\)")
_SPACES = re.compile(r"\s+")


@dataclass
class Queries:
    """The statements sent while counting, in order."""

    dialect: str
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def shapes(self) -> list[str]:
        """The statements on one line each, with their lists of parameters folded."""
        return [_PLACEHOLDERS.sub("(…)", _SPACES.sub(" ", s).strip()) for s in self.statements]

    def listing(self) -> str:
        return "\n".join(f"{n:3d}. {shape}" for n, shape in enumerate(self.shapes(), 1))


@contextmanager
def count_queries(engine: Engine | None = None) -> Iterator[Queries]:
    """Record the SQL statements sent to ``engine`` (the application's) inside the block."""
    engine = engine or db.engine
    queries = Queries(engine.dialect.name)

    def seen(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        if not HARNESS.match(statement):
            queries.statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield queries
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def pin(queries: Queries, *, sqlite: int, postgresql: int | None = None) -> None:
    """Fail unless ``queries`` holds the expected number of statements for its database.

    ``postgresql`` defaults to the SQLite count: give it only where the two must differ.
    """
    expected = {"sqlite": sqlite, "postgresql": postgresql if postgresql is not None else sqlite}
    wanted = expected[queries.dialect]
    assert queries.count == wanted, (
        f"{queries.count} SQL statements on {queries.dialect}, {wanted} expected:\n"
        f"{queries.listing()}"
    )


def pin_flat(few: Queries, many: Queries) -> None:
    """Fail unless a page showing few rows and the same page showing many run the same SQL."""
    assert few.count == many.count, (
        f"the number of statements grows with the rows ({few.count} -> {many.count}):\n"
        + "\n".join(
            difflib.unified_diff(few.shapes(), many.shapes(), "few rows", "many rows", lineterm="")
        )
    )
