"""Bulk work on tables: many rows inserted with one statement per table, many values looked up
with one ``IN`` list per query.

``BulkInserts(session)`` is the insert engine of the import, for any caller writing rows by
the thousand (the synthetic caseloads too)::

    inserts = BulkInserts(session)
    inserts(table, rows)  # rows: mappings with the same keys, the columns of ``table``

It writes what ``session.execute(insert(table), rows)`` writes (same columns, same type
converters, same transaction, nothing committed), with less work per row, and fits
``audit.append_many(..., write=inserts)``. ``in_literals`` and ``chunks`` (``app/services/in_lists.py``) make the lookups of
such batches (which of these pseudonyms, blind indexes... are taken) cheap.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, cast

import psycopg
from sqlalchemy import LargeBinary, Table, insert, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.services.in_lists import LOOKUP_CHUNK, chunks, in_literals

_BindProcessor = Callable[[Any], Any]

# Rows per multi-row INSERT on SQLite, into a table with an INSERT trigger (fewer when the
# bound parameters would exceed the connection's limit).
SQLITE_ROWS = 500

# COPY on PostgreSQL in the binary format when every column of the statement has one of these
# types (``pg_type.typname``): the values cross as psycopg's binary dumpers write them (a UUID
# as its 16 bytes, a ciphertext as itself, a timestamp as an integer) and the server reads them
# without parsing text (``uuid_in``, ``byteain`` of the hex form, ``timestamptz_in``...).
_BINARY_TYPES = frozenset(
    {"uuid", "bytea", "int2", "int4", "int8", "date", "timestamptz", "bool", "json"}
)
# Columns of these types are sent as ``text``, whose binary form (the UTF-8 bytes) is also
# theirs: the server checks a ``varchar``'s length as for a text COPY.
_TEXT_TYPES = frozenset({"varchar", "text"})
_TEXT_OID = 25


class _Statement(NamedTuple):
    sql: str
    columns: tuple[str, ...]  # in the order of the statement's parameters
    processors: list[_BindProcessor | None]
    values: str = ""  # SQLite, a table with a trigger: the ``(?, ?, ...)`` of one row
    types: tuple[int, ...] = ()  # a binary COPY: the type oid given for each column


class BulkInserts:
    """Bulk inserts into any table: one statement per table and call, little work per row.

    What a Core ``executemany`` does row by row and value by value - convert each value with
    its column type's bind processor (a UUID to text on SQLite, a datetime to its storage
    format, a mapping to JSON...) - is done here column by column, and once per object when
    the rows share a few (a batch's creation time, the consent dates, the ``data`` of the
    audit events...); the statement is compiled once per table and set of columns, for the
    life of the object (one per import or batch loop). The rows then go to the driver:

    - on PostgreSQL (psycopg), with ``COPY ... FROM STDIN`` into the same columns (in the
      binary format when every column's type allows it: ``_BINARY_TYPES``): the rows
      cross in one stream and the server does not run an INSERT per row. Constraints,
      foreign keys and column defaults apply as for an INSERT. A driver error is raised as
      SQLAlchemy raises it (``IntegrityError``...), with the first line of the server's
      message only (``app.extensions`` drops the DETAIL lines of errors raised through the
      engine; a COPY error may also quote the row in a CONTEXT line);
    - on SQLite, in one ``executemany`` of the compiled INSERT, except into a table with an
      ``INSERT`` trigger (``audit_events``, whose trigger refuses a place already taken):
      multi-row INSERTs there (``VALUES (...), (...), ...``, up to ``SQLITE_ROWS`` rows and
      the connection's limit of bound parameters a statement). A trigger that may abort
      makes each execution of the INSERT a statement with its own statement journal, and
      inside a savepoint (the web import runs in one, ``unit_of_work.attempt``) SQLite
      keeps these journals until the savepoint ends: row by row, 16,747 audit events took
      7 s of CPU instead of 0.3. Elsewhere a single-row INSERT needs no statement journal
      and the ``executemany`` is the cheaper;
    - elsewhere (another driver), in one ``executemany`` of the compiled INSERT.

    Same columns, same converters, same transaction as ``session.execute(insert(table),
    rows)``; nothing is committed. Every column with a default computed in Python must be
    given in the rows (``RuntimeError`` otherwise): the defaults are not run here.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.connection = session.connection()
        self.dialect = self.connection.dialect
        self.copy = self.dialect.name == "postgresql" and self.dialect.driver == "psycopg"
        self.sqlite = self.dialect.name == "sqlite" and self.dialect.positional
        self._statements: dict[tuple[str, tuple[str, ...]], _Statement] = {}

    def __repr__(self) -> str:
        return f"BulkInserts({self.dialect.name}, copy={self.copy})"

    def __call__(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` (mappings with the same keys) into ``table``."""
        if not rows:
            return
        names = tuple(rows[0])
        key = (table.name, names)
        if key not in self._statements:
            self._statements[key] = self._statement(table, names)
        statement = self._statements[key]
        columns = [
            _converted([row[name] for row in rows], process)
            for name, process in zip(statement.columns, statement.processors, strict=True)
        ]
        if self.copy:
            self._copy(statement, zip(*columns, strict=True))
        elif statement.values:
            self._insert_multirow(statement, list(zip(*columns, strict=True)))
        elif self.dialect.positional:
            self.connection.exec_driver_sql(statement.sql, list(zip(*columns, strict=True)))
        else:
            self.connection.exec_driver_sql(
                statement.sql,
                [
                    dict(zip(statement.columns, values, strict=True))
                    for values in zip(*columns, strict=True)
                ],
            )

    def _statement(self, table: Table, names: tuple[str, ...]) -> _Statement:
        compiled = insert(table).compile(dialect=self.dialect, column_keys=list(names))
        order = tuple(compiled.positiontup) if compiled.positiontup is not None else names
        if compiled.insert_prefetch or set(order) != set(names):
            # A column whose default is computed in Python, missing from the rows: a bug of
            # the caller.
            raise RuntimeError(f"the rows for {table.name} leave out a column with a default")
        processors: list[_BindProcessor | None] = [
            # COPY: psycopg writes ``bytes`` as ``bytea`` itself; the type's processor would
            # wrap each value in a ``psycopg.Binary`` dumped through Python, a value at a time.
            None
            if self.copy and isinstance(table.c[name].type, LargeBinary)
            else table.c[name].type.dialect_impl(self.dialect).bind_processor(self.dialect)
            for name in order
        ]
        sql = str(compiled)
        values = ""
        if self.sqlite and self._has_insert_trigger(table):
            sql, values = _head_and_values(sql)
        types: tuple[int, ...] = ()
        if self.copy:
            quote = self.dialect.identifier_preparer
            types = self._binary_types(quote.format_table(table), order)
            sql = (
                f"COPY {quote.format_table(table)} "
                f"({', '.join(quote.quote(name) for name in order)}) FROM STDIN"
                + (" (FORMAT BINARY)" if types else "")
            )
        return _Statement(sql, order, processors, values, types)

    def _binary_types(self, table: str, names: tuple[str, ...]) -> tuple[int, ...]:
        """The type oids a binary COPY of these columns gives psycopg (``_BINARY_TYPES`` as
        themselves, ``_TEXT_TYPES`` as ``text``), or ``()`` (a text COPY) when a column has
        another type."""
        found = {
            name: (oid, type_name)
            for name, oid, type_name in self.connection.execute(
                text(
                    "SELECT a.attname, a.atttypid::int, t.typname FROM pg_attribute a "
                    "JOIN pg_type t ON t.oid = a.atttypid "
                    "WHERE a.attrelid = CAST(:table AS regclass) AND a.attnum > 0 "
                    "AND NOT a.attisdropped"
                ),
                {"table": table},
            )
        }
        types: list[int] = []
        for name in names:
            oid, type_name = found[name]
            if type_name in _BINARY_TYPES:
                types.append(oid)
            elif type_name in _TEXT_TYPES:
                types.append(_TEXT_OID)
            else:
                return ()
        return tuple(types)

    def _has_insert_trigger(self, table: Table) -> bool:
        found = self.connection.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? "
            "AND upper(sql) LIKE '% INSERT ON %'",
            (table.name,),
        ).scalar()
        return bool(found)

    def _insert_multirow(self, statement: _Statement, rows: list[tuple[Any, ...]]) -> None:
        """SQLite: the rows in multi-row INSERTs, the full ones sharing one statement text (that
        the driver prepares once and keeps in its cache)."""
        driver = self.connection.connection.driver_connection
        limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if driver else 999
        size = max(1, min(SQLITE_ROWS, limit // len(statement.columns)))
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            self.connection.exec_driver_sql(
                f"{statement.sql} VALUES {', '.join([statement.values] * len(chunk))}",
                tuple(value for row in chunk for value in row),
            )

    def _copy(self, statement: _Statement, rows: Iterable[Sequence[Any]]) -> None:
        driver_connection = cast(
            "psycopg.Connection[Any]", self.connection.connection.driver_connection
        )
        sql = statement.sql
        try:
            with driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
                if statement.types:
                    copy.set_types(statement.types)
                for values in rows:
                    copy.write_row(values)
        except psycopg.Error as exc:
            # Only the first line of the server's message (which constraint, which table):
            # DETAIL and CONTEXT lines may quote the values of the row.
            if exc.args and isinstance(exc.args[0], str):
                exc.args = (exc.args[0].split("\n", 1)[0], *exc.args[1:])
            wrapped = DBAPIError.instance(
                sql, None, exc, psycopg.Error, hide_parameters=True, dialect=self.dialect
            )
            if not isinstance(wrapped, DBAPIError):  # pragma: no cover - psycopg errors wrap
                raise
            raise wrapped from exc


def _head_and_values(sql: str) -> tuple[str, str]:
    """``INSERT INTO t (a, b) VALUES (?, ?)`` as ``INSERT INTO t (a, b)`` and ``(?, ?)``."""
    head, found, values = sql.rpartition(" VALUES ")
    if not found or not values.startswith("(") or not values.endswith(")"):
        raise RuntimeError(f"not a single-row INSERT: {sql}")  # pragma: no cover
    return head, values


def _converted(values: list[Any], process: _BindProcessor | None) -> list[Any]:
    """A column's values as the driver takes them; each shared object converted once."""
    if process is None:
        return values
    distinct = {id(value): value for value in values}
    if len(distinct) * 2 <= len(values):  # shared objects: each converted once
        converted = {key: process(value) for key, value in distinct.items()}
        return [converted[id(value)] for value in values]
    return [process(value) for value in values]


__all__ = ["LOOKUP_CHUNK", "BulkInserts", "chunks", "in_literals"]
