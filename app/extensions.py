"""Extensions, created unbound and attached to an application by ``create_app``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, has_request_context, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, MetaData, create_engine, event, exc
from sqlalchemy.engine import Dialect, ExceptionContext
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from app.models import Base


class Database:
    """SQLAlchemy 2 engine and a request-scoped session, without Flask-SQLAlchemy's magic.

    Services receive ``db.session`` as a plain ``Session``. The session is removed at the end of
    each application context; nothing commits implicitly.

    ``reading()`` is the session of the statistics pages and exports: on the read replica
    (``RELAIS_READ_DATABASE_URL``) when one is configured, in read-only transactions, else the
    request's own session. Nothing written goes through it: the audit events of an export
    are written through ``session``.
    """

    metadata: MetaData = Base.metadata

    def __init__(self) -> None:
        self._engine: Engine | None = None
        self._read_engine: Engine | None = None
        self._listen_engine: Engine | None = None
        self._factory = sessionmaker(expire_on_commit=False)
        self.session = scoped_session(self._factory)
        self._read_factory = sessionmaker(expire_on_commit=False)
        self._read_session = scoped_session(self._read_factory)

    def init_app(
        self,
        app: Flask,
        url: str,
        read_url: str | None = None,
        *,
        pgbouncer: bool = False,
        listen_url: str | None = None,
    ) -> None:
        self._engine = make_engine(url, pgbouncer=pgbouncer)
        self._factory.configure(bind=self._engine)
        # LISTEN needs a session of its own on the server: behind PgBouncer in transaction
        # mode the workers listen through a direct URL, or poll.
        self._listen_engine = self._engine
        if listen_url:
            self._listen_engine = make_engine(listen_url)
        elif pgbouncer:
            self._listen_engine = None
        self.use_read_engine(
            make_engine(read_url, read_only=True, pgbouncer=pgbouncer) if read_url else None
        )
        app.extensions["relais_db"] = self

        @app.teardown_appcontext
        def _remove_session(_exc: BaseException | None) -> None:
            self.session.remove()
            self._read_session.remove()

    def use_read_engine(self, engine: Engine | None) -> None:
        """Read the statistics through ``engine`` (None: through the main session)."""
        self._read_session.remove()
        self._read_engine = engine
        self._read_factory.configure(bind=engine)

    @property
    def listen_engine(self) -> Engine | None:
        """The engine the workers LISTEN through (None: they poll)."""
        return self._listen_engine

    @property
    def read_engine(self) -> Engine | None:
        return self._read_engine

    def reading(self) -> Session:
        """The session the statistics read through (see the class)."""
        if self._read_engine is None:
            return self.session()
        return self._read_session()

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("the database is not initialised")
        return self._engine

    def get_engine(self) -> Engine:  # Flask-Migrate's templates call this
        return self.engine

    def bind_to(self, bind: Any) -> None:
        """Bind new sessions to ``bind`` (an engine or a connection; tests use a connection)."""
        self.session.remove()
        self._factory.configure(bind=bind)


CONNECT_TIMEOUT_SECONDS = 10


def make_engine(url: str, *, read_only: bool = False, pgbouncer: bool = False) -> Engine:
    """An engine that never shows SQL parameters in logs or errors.

    ``read_only``: every transaction is read-only (``BEGIN READ ONLY`` on PostgreSQL, the
    ``query_only`` pragma on SQLite): a write through it fails. On PostgreSQL a pooled
    connection idle for ``PING_AFTER_IDLE_SECONDS`` or more is checked before use
    (``_ping_if_idle``). ``pgbouncer``: the URL leads to
    PgBouncer in transaction mode, where a server-side prepared statement would outlive the
    transaction on a server connection another client gets next: psycopg prepares none
    (``prepare_threshold=None``; docs/scaling.md, "Connection pooling"). Otherwise, on
    PostgreSQL, the JIT compiler is off for the connections it opens.
    """
    options: dict[str, Any] = {"hide_parameters": True, "future": True}
    connect_args: dict[str, Any] = {}
    if url.startswith("sqlite"):
        connect_args["check_same_thread"] = False
    else:
        if "connect_timeout" not in url:
            # A database host that does not answer fails the request within seconds (the 503
            # page of app/web/errors.py) instead of holding a worker until TCP gives up.
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
        if pgbouncer and url.startswith("postgresql+psycopg"):
            connect_args["prepare_threshold"] = None
        elif not pgbouncer:
            # PostgreSQL's JIT compiles any statement its planner costs above jit_above_cost:
            # the statistics pages' statements at 100,000 people, where compiling took longer
            # than running (the people lost from view 12 s with it, 4 s without). A startup
            # option, not a SET: nothing is left on the session. PgBouncer refuses startup
            # options: behind it, set it on the database (docs/scaling.md).
            connect_args["options"] = "-c jit=off"
    if connect_args:
        options["connect_args"] = connect_args
    if read_only and not url.startswith("sqlite"):
        options["execution_options"] = {"postgresql_readonly": True}
    engine = create_engine(url, **options)
    engine_logger = logging.getLogger("sqlalchemy.engine.Engine")  # engines without echo
    if _HIDE_RESULT_ROWS not in engine_logger.filters:
        engine_logger.addFilter(_HIDE_RESULT_ROWS)
    event.listen(engine, "handle_error", _scrub_error_detail)
    if engine.dialect.name != "sqlite":
        event.listen(engine, "connect", _note_returned)
        event.listen(engine, "checkin", _note_returned)
        event.listen(engine, "checkout", _ping_if_idle(engine.dialect))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        if read_only:
            event.listen(engine, "connect", _sqlite_query_only)
    return engine


# A pooled connection used less than this long ago is not checked before use (HikariCP's
# "alive bypass window" is 500 ms): under load every request would otherwise pay a round trip
# (``pool_pre_ping``: one more statement for PostgreSQL, a wait for the worker, about 1 % of
# an accept's instructions). A connection that has waited longer - after a
# quiet spell, a database restart or an idle-connection killer - is checked, and replaced
# without a failed request if dead; a restart within the window fails at most the request
# that finds its connection dead (the 503 page), and the pool is then renewed.
PING_AFTER_IDLE_SECONDS = 1.0
_RETURNED_AT = "relais_returned_at"


def _note_returned(dbapi_connection: Any, record: Any) -> None:
    """On connecting and at each return to the pool: when the connection was last known good."""
    record.info[_RETURNED_AT] = time.monotonic()


def _ping_if_idle(dialect: Dialect) -> Callable[[Any, Any, Any], None]:
    """The checkout hook: ``SELECT 1`` on a connection idle for ``PING_AFTER_IDLE_SECONDS``
    or more (``dialect``'s own ping, as ``pool_pre_ping`` does); a dead one invalidates the
    pool, and the pool connects again (SQLAlchemy's checkout retries on a
    ``DisconnectionError``)."""

    def ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is not None and time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.InvalidatePoolError() from error
            raise
        record.info[_RETURNED_AT] = time.monotonic()

    return ping


def _sqlite_query_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


class _HideResultRows(logging.Filter):
    """With SQL logging at DEBUG, SQLAlchemy logs every result row ("Row %r"): e-mail
    addresses, password hashes, ciphertexts. ``hide_parameters`` does not cover them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == "Row %r":
            record.msg, record.args = "Row (values hidden)", ()
        return True


_HIDE_RESULT_ROWS = _HideResultRows()


def _scrub_error_detail(context: ExceptionContext) -> None:
    """Drop the server's DETAIL lines from driver errors before anything can show them.

    PostgreSQL explains a failed constraint with the values involved ("Failing row contains
    ...", "Key (email)=(...) already exists"); ``hide_parameters`` does not cover them. The
    first line (which constraint failed) is kept, and so is the driver's ``diag`` for code.
    """
    for error in (context.original_exception, context.sqlalchemy_exception):
        if error is None or not error.args or not isinstance(error.args[0], str):
            continue
        kept = [line for line in error.args[0].splitlines() if not line.startswith("DETAIL:")]
        error.args = ("\n".join(kept), *error.args[1:])


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 driver, decide when transactions begin: the driver only
    # begins one before a write, so a SAVEPOINT issued first would commit on release (see
    # "Enabling Non-Legacy SQLite Transactional Modes" in the SQLAlchemy documentation).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    # Sorts and groupings of the statistics (window functions, UNION) in memory, not in
    # temporary files: a third faster at 100,000 people.
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


# The methods of a request that changes nothing (RFC 9110's safe methods).
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _sqlite_begin(connection: Any) -> None:
    """Begin a transaction; ``BEGIN IMMEDIATE`` in a request that sends a form.

    SQLite takes one writer at a time, and a transaction that has read cannot write once
    another one has committed since (``SQLITE_BUSY_SNAPSHOT``: "database is locked" at once,
    whatever ``busy_timeout``). The same form sent twice at once (a double click) read "not
    sent yet" in both requests, and the second failed with an error page. A request that
    sends a form takes the write lock before its first read: the second waits for the first
    to commit (``busy_timeout``), then reads that the form was sent."""
    if connection.connection.dbapi_connection.in_transaction:
        return
    immediate = has_request_context() and request.method not in _SAFE_METHODS
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


db = Database()
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
# Request-rate limits by client address (``request.remote_addr``: the real client once
# ProxyFix trusts the proxy); storage from RATELIMIT_STORAGE_URI.
limiter = Limiter(key_func=get_remote_address)
# Its INFO line for each refused request names the client address: keep addresses out of logs.
logging.getLogger("flask-limiter").setLevel(logging.WARNING)
