"""Shared fixtures: one application and one migrated database per run, a rollback per test.

The database is ``RELAIS_TEST_DATABASE_URL`` (a SQLite file in a temporary folder when unset).
At the start of the run it is emptied (PostgreSQL: the ``public`` schema is dropped and made
again; SQLite: a fresh file) and brought to head by the Alembic migrations, never by
``create_all``, so that the tests run on the schema production gets.

Each test that uses ``db_session`` (directly or through ``client`` or ``runner``) runs inside
one outer transaction that is rolled back afterwards. Services, views and commands may commit:
a commit only releases a savepoint. Two consequences for test authors:

* data a request or a command must see has to be committed first (``db_session.commit()``), as
  the end of each application context closes the session and drops what was not committed;
* after a request the session is a new one: load objects again rather than reusing old ones.

Every log record of the run is kept and scanned at its end for personal values, keys,
passwords and tokens (``tests/log_leaks.py``): one found fails the run.

The suite runs in parallel (pytest-xdist, ``-n auto`` in ``pyproject.toml``; ``-n 0`` runs it
in one process). Each worker has a database of its own: a SQLite file in its own temporary
folder, or on PostgreSQL a database named after ``RELAIS_TEST_DATABASE_URL``'s with the
worker's name (``relais_ci_gw0``...), made when the worker starts and dropped when it ends. The
worker's URL replaces the variable in its environment, so that every fixture deriving a
database from it (the browser tests' servers, the migration tests' scratch databases) stays
within the worker's own. Each worker scans its own log records and sends what it found to
the controller, which fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, scoped_session

from app import create_app
from app.crypto import KeyRing
from app.extensions import db
from app.services.security.vault import Vault
from config import TestingConfig
from tests import factories, log_leaks
from tests.world import World, make_world

TEST_DATABASE_VARIABLE = "RELAIS_TEST_DATABASE_URL"


def _configured_url() -> str | None:
    return os.environ.get(TEST_DATABASE_VARIABLE) or None


def _is_sqlite(url: str | None) -> bool:
    return url is None or make_url(url).get_backend_name() == "sqlite"


# In an xdist worker on PostgreSQL: the run's configured URL, beside which the worker's is made.
_SHARED_URL = pytest.StashKey[str]()
# The log leaks the workers reported to the controller (``pytest_testnodedown``).
WORKER_LEAKS: list[str] = []


def _worker_name() -> str | None:
    """This process's xdist worker name (``gw0``...), or None in the controller or a plain run."""
    return os.environ.get("PYTEST_XDIST_WORKER") or None


def _worker_database(url: str, worker: str, *, create: bool) -> str:
    """The worker's PostgreSQL database beside ``url``'s: made empty, or dropped."""
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    maintenance = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if create:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        maintenance.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def pytest_configure(config: pytest.Config) -> None:
    """Capture every log record of the run (see tests/log_leaks.py); in an xdist worker on
    PostgreSQL, move the run to the worker's own database."""
    log_leaks.install()
    worker, configured = _worker_name(), _configured_url()
    if worker is not None and not _is_sqlite(configured):
        assert configured is not None
        os.environ[TEST_DATABASE_VARIABLE] = _worker_database(configured, worker, create=True)
        config.stash[_SHARED_URL] = configured


def pytest_unconfigure(config: pytest.Config) -> None:
    """Drop the worker's PostgreSQL database."""
    worker, shared = _worker_name(), config.stash.get(_SHARED_URL, None)
    if worker is not None and shared is not None:
        _worker_database(shared, worker, create=False)


def pytest_testnodedown(node: Any, error: object) -> None:
    """In the controller: keep the log leaks a worker found (see ``pytest_sessionfinish``)."""
    WORKER_LEAKS.extend(getattr(node, "workeroutput", {}).get("log_leaks", []))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a log record held a personal value, a key, a password or a token."""
    lines: list[str] = list(WORKER_LEAKS)
    if log_leaks.CAPTURE:
        capture = log_leaks.CAPTURE[0]
        found = capture.leaks()
        log_leaks.uninstall(capture)
        if found:
            kinds = sorted({(leak.logger, leak.kind) for leak in found})
            lines.append(f"log records leaked secrets ({len(found)}):")
            lines += [f"  logger {logger!r}: {kind}" for logger, kind in kinds]
    if not lines:
        return
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:  # an xdist worker: the controller reports and fails the run
        worker_output["log_leaks"] = lines
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("\n".join(lines), red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _is_sqlite(_configured_url()):
        return
    skip = pytest.mark.skip(reason=f"needs PostgreSQL (set {TEST_DATABASE_VARIABLE})")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


def _recreate_database(url: str) -> None:
    """Empty the test database: a fresh SQLite file, or a new ``public`` schema."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(parsed.database + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(parsed)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


def _take_over_sqlite_transactions(engine: Engine) -> None:
    """Make SQLAlchemy emit BEGIN on SQLite, so that savepoints nest in the outer transaction.

    Python 3.11's sqlite3 driver only begins a transaction before INSERT/UPDATE/DELETE: a
    SAVEPOINT issued first becomes the outermost transaction, and releasing it (what a
    ``session.commit()`` does here) would write to the file past the test's rollback. This is
    the recipe of the SQLAlchemy SQLite documentation ("Enabling Non-Legacy SQLite
    Transactional Modes"). It is idempotent, in case ``make_engine`` adopts it one day.
    """

    @event.listens_for(engine, "connect")
    def _no_driver_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _emit_begin(connection: Any) -> None:
        if not connection.connection.dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN")


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of the test database."""
    configured = _configured_url()
    if configured:
        return configured
    return f"sqlite:///{tmp_path_factory.mktemp('database') / 'relais-test.sqlite3'}"


@pytest.fixture(scope="session")
def keyring() -> KeyRing:
    """Fresh keys for the whole run; nothing is read from the environment."""
    return KeyRing.generate()


@pytest.fixture(scope="session")
def app(db_url: str, keyring: KeyRing) -> Iterator[Flask]:
    """The application on an empty test database migrated to head."""
    _recreate_database(db_url)
    application = create_app(
        TestingConfig,
        overrides={"DATABASE_URL": db_url, "SERVER_NAME": "localhost"},
        keyring=keyring,
    )
    if db.engine.dialect.name == "sqlite":
        _take_over_sqlite_transactions(db.engine)
    with application.app_context():
        flask_migrate.upgrade()
    factories.use_keys(keyring)
    yield application
    db.session.remove()
    db.engine.dispose()  # close every pooled connection (no ResourceWarning at exit)


@contextmanager
def _rolled_back_session() -> Iterator[scoped_session[Session]]:
    """``db.session``, bound to one connection whose transaction is rolled back at the end
    (see ``db_session``)."""
    connection = db.engine.connect()
    outer = connection.begin()
    db.bind_to(connection)
    db._factory.configure(join_transaction_mode="create_savepoint")
    try:
        yield db.session
    finally:
        db.session.remove()
        db._factory.configure(join_transaction_mode="conditional_savepoint")
        db.bind_to(db.engine)
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture
def db_session(app: Flask) -> Iterator[scoped_session[Session]]:
    """``db.session``, bound for this test to one connection whose transaction is rolled back.

    ``join_transaction_mode="create_savepoint"`` makes every session work in a SAVEPOINT of the
    outer transaction: a commit by a service, a view or a command releases the savepoint, a
    rollback returns to it, and neither ends the outer transaction. The default mode
    ("conditional_savepoint") would let a rollback in the code under test roll back the
    test's own transaction. ``Database.bind_to`` only sets the bind, hence the direct
    ``_factory.configure``; both are restored after the test.
    """
    with _rolled_back_session() as session:
        yield session


@pytest.fixture(scope="module")
def module_db_session(app: Flask) -> Iterator[scoped_session[Session]]:
    """Like ``db_session``, for one world shared by every test of a module (built once, for a
    module of many cheap parametrised tests; rolled back after its last test). Its tests must
    not use ``db_session`` or ``client`` too."""
    with _rolled_back_session() as session:
        yield session


@pytest.fixture
def client(app: Flask, db_session: scoped_session[Session]) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask, db_session: scoped_session[Session]) -> FlaskCliRunner:
    """A CLI runner; commands run in the test's rolled-back transaction too."""
    return app.test_cli_runner()


@pytest.fixture
def vault(app: Flask) -> Vault:
    vault: Vault = app.extensions["relais_vault"]
    return vault


@pytest.fixture
def world(db_session: scoped_session[Session]) -> World:
    """A small network written row by row, for the statistics tests (see tests/world.py)."""
    return make_world(db_session())
