"""Connection pooling (PgBouncer in transaction mode): the application keeps no state in a
database session that would outlive its transaction - no session advisory lock, no plain
``SET``, no cursor ``WITH HOLD``, no ``PREPARE``, ``LISTEN`` only in the workers' wake-ups -
and ``RELAIS_PGBOUNCER`` turns off psycopg's server-side prepared statements
(docs/scaling.md, "Connection pooling")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from app import extensions
from app.extensions import Database, make_engine

APP = Path(__file__).resolve().parents[1] / "app"

# Each construct that would tie state to a server session, and where it may appear.
SESSION_STATE = {
    "a session advisory lock (pg_advisory_lock without _xact)": (
        re.compile(r"pg_(?:try_)?advisory_lock(?:_shared)?\s*\(", re.IGNORECASE),
        set(),
    ),
    "a SET without LOCAL": (
        # SQL is written in capitals here: "Set" in a docstring is not a statement.
        re.compile(r"""["']\s*SET\s+(?!LOCAL\b|TRANSACTION\b)(?:SESSION\s+)?\w+\s*(?:=|TO\b)"""),
        set(),
    ),
    "set_config(..., false): for the session": (
        re.compile(r"set_config\s*\([^)]*false", re.IGNORECASE),
        set(),
    ),
    "a cursor WITH HOLD": (re.compile(r"WITH\s+HOLD", re.IGNORECASE), set()),
    "a PREPARE statement": (re.compile(r"""["']\s*PREPARE\s"""), set()),
    "LISTEN": (
        re.compile(r"""["']LISTEN\s""", re.IGNORECASE),
        {"services/mail/worker.py"},
    ),
}


@pytest.mark.parametrize("construct", sorted(SESSION_STATE))
def test_no_state_outlives_a_transaction(construct: str) -> None:
    pattern, allowed = SESSION_STATE[construct]
    found = [
        str(path.relative_to(APP))
        for path in APP.rglob("*.py")
        if "demo" not in path.parts and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert sorted(set(found) - allowed) == []


def test_the_patterns_find_what_they_look_for() -> None:
    samples = {
        "a session advisory lock (pg_advisory_lock without _xact)": 'text("SELECT pg_advisory_lock(1)")',
        "a SET without LOCAL": 'text("SET statement_timeout = 5")',
        "set_config(..., false): for the session": "select set_config('a', 'b', false)",
        "a cursor WITH HOLD": "DECLARE c CURSOR WITH HOLD FOR",
        "a PREPARE statement": 'text("PREPARE q AS SELECT 1")',
        "LISTEN": 'execute(f"LISTEN {channel}")',
    }
    for construct, sample in samples.items():
        assert SESSION_STATE[construct][0].search(sample), construct
    harmless = 'text("UPDATE beneficiaries SET pseudonym = pseudonym WHERE 1 = 0")'
    assert not SESSION_STATE["a SET without LOCAL"][0].search(harmless)
    assert not SESSION_STATE["a SET without LOCAL"][0].search('"SET LOCAL lock_timeout = 1"')
    xact = 'text("SELECT pg_advisory_xact_lock(:k)")'
    assert not SESSION_STATE["a session advisory lock (pg_advisory_lock without _xact)"][0].search(
        xact
    )


@pytest.mark.postgres_only
def test_direct_connections_compile_nothing_just_in_time(db_url: str) -> None:
    """JIT off on a direct connection (a startup option: no SET left on the session);
    behind PgBouncer no startup option is sent (it refuses them): the database's own."""
    for pgbouncer, options in ((False, "-c jit=off"), (True, "")):
        engine = make_engine(db_url, pgbouncer=pgbouncer)
        try:
            with engine.connect() as connection:
                driver = connection.connection.driver_connection
                assert driver is not None
                assert driver.info.options == options
                if not pgbouncer:
                    assert connection.execute(text("SHOW jit")).scalar_one() == "off"
        finally:
            engine.dispose()


@pytest.mark.postgres_only
def test_pgbouncer_mode_prepares_no_statement(db_url: str) -> None:
    for pgbouncer, threshold in ((False, 5), (True, None)):
        engine = make_engine(db_url, pgbouncer=pgbouncer)
        try:
            with engine.connect() as connection:
                driver = connection.connection.driver_connection
                assert driver is not None
                assert driver.prepare_threshold == threshold
        finally:
            engine.dispose()


def test_behind_pgbouncer_the_workers_listen_through_a_direct_url_or_poll(db_url: str) -> None:
    for pgbouncer, listen_url, listens in (
        (False, None, "main"),
        (True, None, None),
        (True, db_url, "own"),
    ):
        database = Database()
        database.init_app(Flask(__name__), db_url, pgbouncer=pgbouncer, listen_url=listen_url)
        try:
            if listens is None:
                assert database.listen_engine is None
            elif listens == "main":
                assert database.listen_engine is database.engine
            else:
                assert database.listen_engine is not None
                assert database.listen_engine is not database.engine
        finally:
            database.engine.dispose()
            if database.listen_engine is not None:
                database.listen_engine.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(db_url: str, pid: int) -> None:
    killer = make_engine(db_url)
    try:
        with killer.connect() as connection:
            # Waits (up to 5 s) until the backend is gone, not only signalled (PostgreSQL 14+).
            gone = connection.execute(
                text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}
            ).scalar_one()
            assert gone
    finally:
        killer.dispose()


@pytest.mark.postgres_only
def test_a_connection_used_a_moment_ago_is_not_pinged(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection just returned goes back to work without a round trip; one idle
    for ``PING_AFTER_IDLE_SECONDS`` is checked first."""
    monkeypatch.setattr(extensions, "PING_AFTER_IDLE_SECONDS", 3600.0)  # a loaded machine
    engine = make_engine(db_url)
    pings: list[object] = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or ping(c))
    try:
        first = _backend(engine)  # a fresh connection: nothing to check
        assert _backend(engine) == first  # the same one, back a moment ago
        assert pings == []
        monkeypatch.setattr(extensions, "PING_AFTER_IDLE_SECONDS", 0.0)
        assert _backend(engine) == first
        assert len(pings) == 1
    finally:
        engine.dispose()


@pytest.mark.postgres_only
def test_an_idle_connection_that_died_is_replaced_without_an_error(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database restart or an idle-connection killer while the pool waited: the check
    finds the connection dead and the request gets a new one, no error."""
    engine = make_engine(db_url)
    try:
        dead = _backend(engine)
        _terminate(db_url, dead)
        monkeypatch.setattr(extensions, "PING_AFTER_IDLE_SECONDS", 0.0)
        assert _backend(engine) != dead
    finally:
        engine.dispose()


@pytest.mark.postgres_only
def test_within_the_window_a_dead_connection_fails_one_statement_then_the_pool_renews(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window's price, bounded: the statement that finds its connection dead fails as a
    disconnection (the 503 page), and the next checkout connects again."""
    monkeypatch.setattr(extensions, "PING_AFTER_IDLE_SECONDS", 3600.0)  # a loaded machine
    engine = make_engine(db_url)
    try:
        dead = _backend(engine)
        _terminate(db_url, dead)
        with pytest.raises(DBAPIError) as failed, engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        assert failed.value.connection_invalidated
        assert _backend(engine) != dead
    finally:
        engine.dispose()
