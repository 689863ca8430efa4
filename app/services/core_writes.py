"""Writes sent as Core statements on the session's connection, past the ORM's unit of work,
and what keeps the session's objects true to them.

The answers to a hand-off (``app.services.handoffs``) write a handful of rows each; through
the ORM each row costs its unit-of-work pass (object state, dependency sort, an autoflush
before the next query), about as much CPU as the statement itself. They write them instead
with statements built once per process (SQLAlchemy then finds their compiled form by a cache
key memoised on the statement) on ``session.connection()``: same transaction, same
savepoints, no flush.

Two things the ORM did by itself are then the writer's to do:

* an object whose row a Core ``UPDATE`` changed gets the new values as its committed state
  (``written``): a later flush does not write them again, and reading them costs no query;
* a savepoint rolled back undoes the row but the ORM only expires the objects it flushed
  itself: ``written`` remembers the object, and every rollback expires the objects so
  written since the outermost transaction began (they are read again when next used).

Rows a Core ``INSERT`` adds are not in the session; a relationship collection already
loaded that would list them is expired by the writer (``expire_loaded``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, event, inspect
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value

_INFO_KEY = "relais_core_written"


def written(session: Session, obj: object, values: Mapping[str, Any]) -> None:
    """``obj``'s columns ``values`` were just written to its row by a Core statement."""
    for name, value in values.items():
        set_committed_value(obj, name, value)
    session.info.setdefault(_INFO_KEY, []).append(obj)


def expire_loaded(session: Session, obj: object, *names: str) -> None:
    """Expire the relationships ``names`` of ``obj`` that are loaded (rows were added to them
    by a Core statement); those not loaded are left alone (no query either way)."""
    state = inspect(obj)
    loaded = [name for name in names if name not in state.unloaded]
    if loaded and state.session is session:
        session.expire(obj, loaded)


# -- whether the transaction has written anything yet ------------------------------------------

_WRITES = "relais_writes"  # on the connection's info: statements sent that may have written
_WRITES_AT_BEGIN = "relais_writes_at_begin"  # on the session's info, when its transaction began
# Statements that write nothing: reads, and the transaction's own control (a savepoint alone
# changes no row). Anything else counts - a lock, a NOTIFY too: when in doubt the caller
# keeps its savepoint.
_NO_WRITE = ("SELECT", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK TO")


@event.listens_for(Engine, "after_cursor_execute")
def _count_write(
    connection: Connection, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
) -> None:
    head = statement.lstrip()[:11].upper()
    if not head.startswith(_NO_WRITE) or "FOR UPDATE" in statement:
        connection.info[_WRITES] = connection.info.get(_WRITES, 0) + 1


@event.listens_for(Session, "after_begin")
def _mark_begin(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    if transaction.parent is None:
        session.info[_WRITES_AT_BEGIN] = connection.info.get(_WRITES, 0)


def holds_changes(session: Session) -> bool:
    """Whether the session's transaction holds anything a rollback would lose: a statement
    other than a read sent in it, or changes still to flush (the caller checks its own
    queues, such as ``app.services.security.audit_queue.pending``)."""
    if session.new or session.dirty or session.deleted:
        return True
    if not session.in_transaction():
        return False
    began = session.info.get(_WRITES_AT_BEGIN)
    return began is None or session.connection().info.get(_WRITES, 0) != began


@event.listens_for(Session, "after_soft_rollback")
def _expire_written(session: Session, transaction: SessionTransaction) -> None:
    # Any rollback, a savepoint's included: the rows of the objects written may have gone back
    # to what they were. Expiring an object that kept its row costs one read, when next used.
    for obj in session.info.pop(_INFO_KEY, ()):
        if inspect(obj).session is session:
            session.expire(obj)


@event.listens_for(Session, "after_transaction_end")
def _forget_written(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_INFO_KEY, None)
