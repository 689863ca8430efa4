"""SQL expressions that SQLite and PostgreSQL spell differently.

The statistics are computed in the database on both engines with the same service code; the
few computations they need that the two spell differently (days between two moments, the
quarter and the UTC day of a timestamp, codes joined in a group) are written here once per
dialect.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Date, Float, Integer, SQLColumnExpression, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement


class days_between(FunctionElement[float]):  # noqa: N801 - used like an SQL function
    """``end - start`` in days (fractional for timestamps), as a float.

    ``start`` and ``end`` are both dates or both UTC timestamps.
    """

    type = Float()
    inherit_cache = True
    name = "days_between"

    def __init__(self, start: SQLColumnExpression[Any], end: SQLColumnExpression[Any]) -> None:
        super().__init__(start, end)


class year_quarter(FunctionElement[int]):  # noqa: N801 - used like an SQL function
    """The calendar quarter of a UTC timestamp as ``year * 10 + quarter`` (20264 for Q4 2026)."""

    type = Integer()
    inherit_cache = True
    name = "year_quarter"

    def __init__(self, moment: SQLColumnExpression[Any]) -> None:
        super().__init__(moment)


def _arguments(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(clause, **kw) for clause in element.clauses]


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _arguments(element, compiler, **kw)
    return f"(julianday({end}) - julianday({start}))"


@compiles(days_between, "postgresql")
def _days_between_postgresql(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _arguments(element, compiler, **kw)
    # Casting to timestamp makes dates and timestamps alike; EPOCH of an interval is seconds.
    return (
        f"(EXTRACT(EPOCH FROM (CAST({end} AS TIMESTAMP) - CAST({start} AS TIMESTAMP))) / 86400.0)"
    )


@compiles(year_quarter, "sqlite")
def _year_quarter_sqlite(element: year_quarter, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = _arguments(element, compiler, **kw)
    return (
        f"(CAST(strftime('%Y', {moment}) AS INTEGER) * 10"
        f" + (CAST(strftime('%m', {moment}) AS INTEGER) + 2) / 3)"
    )


@compiles(year_quarter, "postgresql")
def _year_quarter_postgresql(element: year_quarter, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = _arguments(element, compiler, **kw)
    # Timestamps are stored with their zone: read the calendar in UTC, whatever the session's.
    utc = f"(CAST({moment} AS TIMESTAMPTZ) AT TIME ZONE 'UTC')"
    return (
        f"(CAST(EXTRACT(YEAR FROM {utc}) AS INTEGER) * 10"
        f" + CAST(EXTRACT(QUARTER FROM {utc}) AS INTEGER))"
    )


class utc_date(FunctionElement[date]):  # noqa: N801 - used like an SQL function
    """The calendar day (in UTC) of a UTC timestamp."""

    type = Date()
    inherit_cache = True
    name = "utc_date"

    def __init__(self, moment: SQLColumnExpression[Any]) -> None:
        super().__init__(moment)


@compiles(utc_date, "sqlite")
def _utc_date_sqlite(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = _arguments(element, compiler, **kw)
    return f"date({moment})"


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = _arguments(element, compiler, **kw)
    return f"CAST((CAST({moment} AS TIMESTAMPTZ) AT TIME ZONE 'UTC') AS DATE)"


class joined_codes(FunctionElement[str]):  # noqa: N801 - used like an SQL aggregate
    """The codes of a group joined by spaces, in order (an aggregate)."""

    type = String()
    inherit_cache = True
    name = "joined_codes"

    def __init__(self, code: SQLColumnExpression[Any]) -> None:
        super().__init__(code)


@compiles(joined_codes, "sqlite")
def _joined_codes_sqlite(element: joined_codes, compiler: SQLCompiler, **kw: Any) -> str:
    (code,) = _arguments(element, compiler, **kw)
    return f"group_concat({code}, ' ')"


@compiles(joined_codes, "postgresql")
def _joined_codes_postgresql(element: joined_codes, compiler: SQLCompiler, **kw: Any) -> str:
    (code,) = _arguments(element, compiler, **kw)
    return f"string_agg({code}, ' ' ORDER BY {code})"


def uses_percentile(session: Session) -> bool:
    """Whether medians use ``percentile_cont`` (PostgreSQL) rather than window functions."""
    return session.get_bind().dialect.name == "postgresql"
