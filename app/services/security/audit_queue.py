"""The audit events a transaction has recorded and not yet chained, kept on its session.

``audit.record`` does not touch the chain: it queues the event here, and the chain takes
the queue in one append at the last moment (``audit._chain_pending``):

* when the session commits (``before_commit`` of the outermost transaction, after the flush
  of every other change), so the chain's lock is held for that append and the commit only;
* when the transaction reads the audit tables itself (``do_orm_execute``), so that a
  transaction sees its own events as it sees its own flushed rows (the way autoflush works);
* before a bulk append (``audit.append_many``), so the chain keeps the order of the calls.

A rollback discards what it undoes: the whole queue for the outermost transaction, the events
recorded inside a savepoint for that savepoint; events chained inside a rolled-back savepoint
although recorded before it go back to the queue (the savepoint's rollback removed their rows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, TextClause, event, inspect
from sqlalchemy.orm import (
    ORMExecuteState,
    Session,
    SessionTransaction,
    make_transient,
    make_transient_to_detached,
)
from sqlalchemy.sql.util import find_tables

from app.models import AuditEvent

_INFO_KEY = "relais_audit_queue"
# A read of one of these tables sees the transaction's own events: the queue is chained first.
AUDIT_TABLES = frozenset({"audit_events", "audit_chain_head", "audit_event_people"})


@dataclass
class _Log:
    """Every event the outermost transaction recorded, in order; ``chained`` of them (a
    prefix) are in the chain already. ``marks``: (length, chained) when each savepoint began."""

    events: list[AuditEvent] = field(default_factory=list)
    chained: int = 0
    marks: dict[SessionTransaction, tuple[int, int]] = field(default_factory=dict)
    chaining: bool = False


def _log(session: Session) -> _Log:
    found = session.info.get(_INFO_KEY)
    if found is None:
        found = session.info[_INFO_KEY] = _Log()
    return found


def queue(session: Session, audit_event: AuditEvent) -> None:
    """Keep ``audit_event`` until the chain takes it."""
    _log(session).events.append(audit_event)


def pending(session: Session) -> list[AuditEvent]:
    """The queued events, in the order they were recorded."""
    found = session.info.get(_INFO_KEY)
    return found.events[found.chained :] if found is not None else []


def mark_chained(session: Session) -> None:
    """The chain has taken every queued event."""
    found = _log(session)
    found.chained = len(found.events)


def attach(session: Session, audit_event: AuditEvent) -> None:
    """``audit_event``, just inserted by a Core statement with its ``id``, joins the session as
    a row read from it (no flush writes it again); a rollback that removes its row takes it
    out again (``_rolled_back``)."""
    make_transient_to_detached(audit_event)
    session.add(audit_event)


def _detach(session: Session, audit_event: AuditEvent) -> None:
    """Its row was rolled back: out of the session (its id may be given again)."""
    if inspect(audit_event).session is session:
        make_transient(audit_event)


Chainer = Callable[[Session], None]


# Whether a statement's shape reads an audit table, by its SQL cache key (the key SQLAlchemy
# computes once per statement to find its compiled form): the tables of a shape seen before
# are not looked for again in its expression tree. Emptied when full.
_SHAPES: dict[tuple[Any, ...], bool] = {}
_SHAPES_KEPT = 2000


def _reads_audit(statement: Any) -> bool:
    if isinstance(statement, TextClause):
        return any(name in statement.text for name in AUDIT_TABLES)
    found = statement._generate_cache_key()  # memoised on the statement, reused to compile it
    if found is None:  # a statement SQLAlchemy does not cache either
        return _names_audit_table(statement)
    reads = _SHAPES.get(found.key)
    if reads is None:
        if len(_SHAPES) >= _SHAPES_KEPT:
            _SHAPES.clear()
        reads = _SHAPES[found.key] = _names_audit_table(statement)
    return reads


def _names_audit_table(statement: Any) -> bool:
    return any(
        isinstance(table, Table) and table.name in AUDIT_TABLES
        for table in find_tables(statement, include_joins=True, include_aliases=True)
    )


def listen(chain_pending: Chainer) -> None:
    """Install the session hooks that call ``chain_pending(session)`` at the moments above.
    Once per process (``audit`` calls it at import)."""

    def chain_now(session: Session) -> None:
        found = session.info.get(_INFO_KEY)
        if found is None or found.chaining or found.chained == len(found.events):
            return
        found.chaining = True
        try:
            chain_pending(session)
        finally:
            found.chaining = False

    @event.listens_for(Session, "before_commit")
    def _before_commit(session: Session) -> None:
        # Releasing a savepoint fires this too: its events wait for the outermost commit.
        if not session.in_nested_transaction():
            chain_now(session)

    @event.listens_for(Session, "do_orm_execute")
    def _before_read(state: ORMExecuteState) -> None:
        if pending(state.session) and _reads_audit(state.statement):
            chain_now(state.session)

    @event.listens_for(Session, "after_transaction_create")
    def _savepoint_begins(session: Session, transaction: SessionTransaction) -> None:
        found = session.info.get(_INFO_KEY)
        if transaction.nested and found is not None:
            found.marks[transaction] = (len(found.events), found.chained)

    @event.listens_for(Session, "after_soft_rollback")
    def _rolled_back(session: Session, transaction: SessionTransaction) -> None:
        found = session.info.get(_INFO_KEY)
        if found is None:
            return
        if not transaction.nested:
            if transaction.parent is None:
                for undone in found.events[: found.chained]:
                    _detach(session, undone)
                session.info.pop(_INFO_KEY, None)
            return
        length, chained = found.marks.pop(transaction, (0, 0))
        for undone in found.events[chained:]:
            _detach(session, undone)
        del found.events[length:]
        for undone in found.events[chained : found.chained]:
            undone.seq, undone.mac = None, None
            undone.id = None  # a new row id at the next append
        found.chained = min(found.chained, chained)

    @event.listens_for(Session, "after_transaction_end")
    def _ended(session: Session, transaction: SessionTransaction) -> None:
        # A savepoint's mark stays until the outermost transaction ends: a rollback fires
        # ``after_soft_rollback`` after this event, and still needs it.
        if transaction.parent is None:
            session.info.pop(_INFO_KEY, None)
