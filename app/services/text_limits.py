"""Text that must fit its column: checked before the write, with an ``InvalidInput`` naming
the field and its maximum, rather than a database error naming neither (PostgreSQL) or an
over-long value stored anyway (SQLite does not enforce ``VARCHAR(n)``)."""

from __future__ import annotations

from typing import Any

from app.services.errors import N_, InvalidInput


def column_length(column: Any) -> int:
    """The length of a ``String(n)`` mapped attribute (``Structure.name``: 200)."""
    length = column.property.columns[0].type.length
    if not isinstance(length, int):
        raise TypeError(f"{column} has no length")
    return length


def within(value: str, limit: int, field: str) -> str:
    """``value`` stripped, or ``InvalidInput`` when longer than ``limit`` characters."""
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(
            N_("This text is too long (%(limit)d characters at most)."), field=field, limit=limit
        )
    return value
