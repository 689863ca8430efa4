"""SQLite, the embedded database: a request that sends a form takes the write lock before its
first read (``BEGIN IMMEDIATE``), so that the same form sent twice at once waits for the first
instead of failing ("database is locked": a read snapshot older than another commit cannot
write). A page view begins as before, sharing the database with the writers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from flask import Flask

from app.extensions import make_engine


def test_a_form_s_request_holds_the_write_lock_from_its_first_read(
    app: Flask, tmp_path: Path
) -> None:
    path = tmp_path / "writes.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    try:
        with app.test_request_context("/people/", method="GET"), engine.connect() as reading:
            reading.exec_driver_sql("SELECT count(*) FROM t").scalar()
            other.execute("INSERT INTO t VALUES (1)")  # another writer is not held
            reading.rollback()
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            with app.test_request_context("/people/new", method=method), engine.connect() as sent:
                sent.exec_driver_sql("SELECT count(*) FROM t").scalar()
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("INSERT INTO t VALUES (2)")
                sent.rollback()
        with engine.connect() as outside:  # a command, no request: as before
            outside.exec_driver_sql("SELECT count(*) FROM t").scalar()
            other.execute("INSERT INTO t VALUES (3)")
            outside.rollback()
    finally:
        other.close()
        engine.dispose()
    assert sqlite3.connect(path).execute("SELECT x FROM t ORDER BY x").fetchall() == [(1,), (3,)]
