"""Whether this instance can serve: what the load balancer's health check asks.

Each dependency a request needs is checked with the cheapest call it answers: the database
(``SELECT 1``) and the rate limits' shared storage (Redis, when configured; the in-memory
storage of a single process is always there). The read replica of the statistics pages and
exports (``RELAIS_READ_DATABASE_URL``), when one is configured, is checked too but is not
required: without it the instance still records pathways and hand-offs, so the answer is
"degraded" (and 200: a load balancer must not take every instance out for the replica they all
share) while monitoring sees which dependency is down. The answer names each dependency and
whether it answers, nothing else: no version, no address, no error text. Once the process
has tried its keys on the database (``app/web/key_guard.py``), ``keys`` says whether they
match: keys that do not are ``mismatch`` and make the instance unavailable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import exc as sa
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# The database cannot be reached: refused, lost, timed out (a pool without a free connection).
UNREACHABLE: tuple[type[Exception], ...] = (
    sa.OperationalError,
    sa.InterfaceError,
    sa.DisconnectionError,
    sa.TimeoutError,
)
# SQLite's codes of a file that cannot be opened or read (the others - a lock, a constraint -
# are answers of a database that is there).
SQLITE_UNREACHABLE = frozenset({"SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_NOTADB"})


def database_unreachable(exc: BaseException | None) -> bool:
    """Whether ``exc`` or one of its causes says the database cannot be reached: a connection
    refused, lost or timed out - not an answer of a database that is there (a serialization
    failure, a deadlock, a lock timeout, a constraint), which stays an error of the request."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, sa.DisconnectionError | sa.TimeoutError):
            return True
        if isinstance(exc, sa.OperationalError | sa.InterfaceError) and (
            exc.connection_invalidated or _no_connection(exc.orig)
        ):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


# SQLSTATEs of a table or a column that does not exist: a schema behind the release.
SCHEMA_BEHIND = frozenset({"42P01", "42703"})


def schema_behind(exc: BaseException | None) -> bool:
    """Whether ``exc`` says a table or column is missing: the schema is behind the code
    (``flask db upgrade`` not run after an install or an upgrade)."""
    if not isinstance(exc, sa.DBAPIError):
        return False
    state = getattr(exc.orig, "sqlstate", None)
    if isinstance(state, str):
        return state in SCHEMA_BEHIND
    return "no such table" in str(exc.orig) or "no such column" in str(exc.orig)


def _no_connection(error: BaseException | None) -> bool:
    """Whether the driver's error is a failure to connect or a lost connection."""
    if error is None:
        return False
    module = type(error).__module__
    if module.startswith("psycopg"):
        # A connection failure has no SQLSTATE; class 08 is "connection exception", 57P01-03
        # an administrator shutdown, a crash, "cannot connect now".
        state = getattr(error, "sqlstate", None)
        return state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03")
    if module == "sqlite3":
        return getattr(error, "sqlite_errorname", "") in SQLITE_UNREACHABLE
    return False


OPTIONAL = frozenset({"read_database"})  # down: degraded, not unavailable


@dataclass(frozen=True)
class Health:
    """Each dependency's state: ``ok`` or ``down`` (the keys: ``ok`` or ``mismatch``)."""

    checks: dict[str, str]

    @property
    def ok(self) -> bool:
        """Whether every required dependency answers (the instance can serve)."""
        return all(state == "ok" for name, state in self.checks.items() if name not in OPTIONAL)

    @property
    def status(self) -> str:
        """``ok``, ``degraded`` (an optional dependency is down) or ``unavailable``."""
        if not self.ok:
            return "unavailable"
        return "ok" if all(state == "ok" for state in self.checks.values()) else "degraded"


def database_answers(session: Session, name: str = "database") -> bool:
    """Whether the database answers the cheapest query (the session is rolled back)."""
    try:
        session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError as exc:
        log.error("health: the %s does not answer (%s)", name, type(exc).__name__)
        try:
            session.rollback()
        except SQLAlchemyError:
            session.close()
        return False


def storage_answers(storage: object) -> bool:
    """Whether the rate limits' storage answers (``limits`` storages have ``check()``)."""
    check = getattr(storage, "check", None)
    if check is None:
        return True
    try:
        return bool(check())
    except Exception as exc:  # a client library's own errors (redis.ConnectionError...)
        log.error("health: the rate-limit storage does not answer (%s)", type(exc).__name__)
        return False


def health(
    session: Session,
    rate_limit_storage: object,
    read_session: Session | None = None,
    keys_match: bool | None = None,
) -> Health:
    """The state of each dependency; ``read_session``: the read replica's, when configured;
    ``keys_match``: whether the keys open the database (``app/web/key_guard.py``; ``None``:
    not known, not reported), ``mismatch`` when they do not."""

    def state(answers: bool) -> str:
        return "ok" if answers else "down"

    checks = {
        "database": state(database_answers(session)),
        "rate_limits": state(storage_answers(rate_limit_storage)),
    }
    if keys_match is not None:
        checks["keys"] = "ok" if keys_match else "mismatch"
    if read_session is not None:
        checks["read_database"] = state(database_answers(read_session, "read replica"))
    return Health(checks)
