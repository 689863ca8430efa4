"""Writing the audit log, in the caller's transaction, as a tamper-evident chain.

Every row gets its place ``seq`` (1, 2, 3... without gaps) and ``mac``, an HMAC-SHA256 under
the audit key (``RELAIS_AUDIT_KEY``, never used for anything else) over a canonical encoding of
``seq``, the previous row's MAC and every column of the row (``_encode``). ``audit_chain_head``
holds the last ``seq`` and MAC and moves in the same transaction as the rows, so that
``verify_chain`` detects an edited, deleted, inserted or reordered row *and* rows dropped from
the end. The surrogate key ``id`` is not covered: the order of the log is ``seq``.

``record`` and ``record_many`` do not chain at once: they queue the event on the session
(``audit_queue``), and the chain takes the queue in one append when the transaction commits,
after every other change is flushed (or earlier, when the transaction reads the audit tables
or appends in bulk). The chain's lock is thus held for the moment of chaining and the commit,
not from a request's first audit event to its end. ``append_many`` (the bulk writers: import,
synthetic caseloads, key rotations) chains at once, after the queue.

Writers are serialised, so the chain never forks:

* PostgreSQL: the head's row is read ``FOR UPDATE``, a row lock held until the transaction
  ends; the next writer's read waits for it, then (READ COMMITTED) reads the row as the first
  writer committed it: the new head. One statement locks and reads (it was an advisory lock on
  a fixed key, then the read); a database without its head row (made without the migration,
  which writes it) takes that advisory lock before starting the chain;
* SQLite: one writer at a time and serialisable transactions. A transaction that read the
  head before another one committed cannot write any more: its write fails with "database is
  locked" (``SQLITE_BUSY_SNAPSHOT``) instead of forking. A transaction that has only read
  when its queued events are chained (a page view) has nothing to lose: it restarts as
  ``BEGIN IMMEDIATE`` (``_write_from_now``), waits for the write lock and reads the newest
  head, instead of failing at commit because another request wrote in the meantime.

On both, the head update conditioned on the ``seq`` read makes a fork impossible even if the
lock were bypassed; SQLite also refuses a ``seq`` already taken (a trigger), and ``audit
verify`` names a place held twice (PostgreSQL's partitioned table cannot hold a unique index
on ``seq`` alone: migration ``e6b8d0f2a4c7``).

Every writer goes through ``_chain``. Rows written before the chain existed (``seq <=
legacy_until``, no MAC) are the *legacy segment*: ``seal_legacy`` appends one chained event
holding a MAC of that whole segment, without rewriting a row.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, event, func, insert, select, text
from sqlalchemy.orm import Session

from app.domain.actors import StructureByLink
from app.domain.audit import AuditAction
from app.models import AuditChainHead, AuditEvent, User
from app.models.base import utcnow
from app.services.security import audit_people, audit_queue
from app.services.security.audit_mac import (
    COLUMNS,
    GENESIS_MAC,
    _encode,
    canonical_data,
)

# pg_advisory_xact_lock key of the audit chain ("RELAISAU" as a big-endian int64): taken only
# to start a chain in a database without its head row (the head's row lock does the rest).
ADVISORY_LOCK_KEY = int.from_bytes(b"RELAISAU", "big")
VERIFY_BATCH = 2000

_EVENTS = cast(Table, AuditEvent.__table__)
_INSERT_EVENTS = insert(_EVENTS).returning(_EVENTS.c.id, _EVENTS.c.seq)
_HEAD = cast(Table, AuditChainHead.__table__)

# The audit key, set by ``create_app`` (one application per process): services receive a
# session, and ``audit.record`` is called from everywhere without the vault.
_key: list[bytes] = []

Writer = Callable[[Table, list[dict[str, Any]]], None]


def use_key(key: bytes) -> None:
    """Chain the audit rows written from now on with ``key`` (``RELAIS_AUDIT_KEY``)."""
    if len(key) != 32:
        raise ValueError("the audit key is 32 bytes")
    _key[:] = [key]


def audit_key() -> bytes:
    if not _key:
        raise RuntimeError("no audit key is configured (create_app sets it)")
    return _key[0]


# -- appending ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Head:
    seq: int
    mac: bytes
    legacy_until: int
    exists: bool


# The statements of every append, built once (each commit that wrote an event runs them).
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
# FOR UPDATE on PostgreSQL; nothing on SQLite, where a writer holds the database's lock.
_READ_HEAD_LOCKED = (
    select(_HEAD.c.seq, _HEAD.c.mac, _HEAD.c.legacy_until).where(_HEAD.c.id == 1).with_for_update()
)
_MOVE_HEAD = (
    _HEAD.update()
    .where(_HEAD.c.id == 1, _HEAD.c.seq == bindparam("read_seq", type_=_HEAD.c.seq.type))
    .values(
        seq=bindparam("new_seq", type_=_HEAD.c.seq.type),
        mac=bindparam("new_mac", type_=_HEAD.c.mac.type),
    )
)


def _lock_and_read_head(connection: Connection) -> _Head:
    found = connection.execute(_READ_HEAD_LOCKED).first()
    if found is None and connection.dialect.name == "postgresql":
        # No row to lock: the writers that would start the chain at once wait for each other.
        connection.execute(_LOCK, {"key": ADVISORY_LOCK_KEY})
        found = connection.execute(_READ_HEAD_LOCKED).first()
    if found is not None:
        return _Head(int(found.seq), bytes(found.mac), int(found.legacy_until), True)
    # No head: a database made without the migration (which creates it). Only an empty log
    # may start a chain; rows without a head mean the head was removed.
    if connection.execute(select(func.count()).select_from(_EVENTS)).scalar_one():
        raise RuntimeError("the audit chain head is missing; run: flask --app app audit verify")
    return _Head(0, GENESIS_MAC, 0, False)


def _move_head(connection: Connection, head: _Head, seq: int, mac: bytes) -> None:
    if not head.exists:
        connection.execute(
            insert(_HEAD).values(id=1, seq=seq, mac=mac, legacy_until=head.legacy_until)
        )
        return
    moved = connection.execute(_MOVE_HEAD, {"read_seq": head.seq, "new_seq": seq, "new_mac": mac})
    if moved.rowcount != 1:  # pragma: no cover - the lock makes this impossible
        raise RuntimeError("the audit chain head moved during an append")


def _chain(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Give ``rows`` their places and MACs after the current head, and move the head.

    Runs on the session's connection; the rows are the caller's to insert. ``at`` defaults to
    now, taken under the lock, so that the times of the log follow its order.
    """
    key = audit_key()
    connection = session.connection()
    _write_from_now(connection)
    head = _lock_and_read_head(connection)
    chained: list[dict[str, Any]] = []
    seq, previous = head.seq, head.mac
    now = utcnow()
    last_data: object = None
    last_json = ""
    for row in rows:
        data = row.get("data") or {}
        if data is not last_data:  # bulk writers share one mapping between many rows
            last_data, last_json = data, canonical_data(data)
        complete = {name: row.get(name) for name in COLUMNS}
        complete["at"] = row.get("at") or now
        complete["data"] = data
        seq += 1
        message = _encode(seq, previous, complete, last_json)
        previous = hmac.new(key, message, hashlib.sha256).digest()
        complete["seq"] = seq
        complete["mac"] = previous
        chained.append(complete)
    if chained:
        _move_head(connection, head, seq, previous)
    return chained


# -- SQLite: a transaction that has only read writes from the newest head ------------------

_CHANGES_AT_BEGIN = "relais_audit_changes_at_begin"


@event.listens_for(Engine, "begin")
def _note_changes_at_begin(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        connection.info[_CHANGES_AT_BEGIN] = raw.total_changes if raw is not None else None


def _write_from_now(connection: Connection) -> None:
    """On SQLite, restart a transaction that has changed nothing as ``BEGIN IMMEDIATE``.

    Its snapshot may predate another writer's commit, and then its first write would fail
    (``SQLITE_BUSY_SNAPSHOT``) however long it waited. Having written nothing, it loses
    nothing by starting again: it waits for the write lock (``busy_timeout``) and reads the
    newest head. Not inside a savepoint (the rollback would take the outer transaction).
    """
    if connection.dialect.name != "sqlite" or connection.in_nested_transaction():
        return
    raw = connection.connection.dbapi_connection
    begun = connection.info.get(_CHANGES_AT_BEGIN)
    if raw is None or not raw.in_transaction or begun != raw.total_changes:
        return
    connection.exec_driver_sql("ROLLBACK")  # below SQLAlchemy, which still sees one transaction
    connection.exec_driver_sql("BEGIN IMMEDIATE")


# -- writing events ----------------------------------------------------------------------


def _chain_pending(session: Session) -> None:
    """Chain the session's queued events in one append, inserted by one statement (their
    ``id``, ``seq`` and MAC are then set on the objects ``record`` returned, which join the
    session as if read from it), with the index rows of the people they list."""
    events = audit_queue.pending(session)
    if not events:
        return
    session.flush()  # the transaction's other changes first: the lock is taken last
    chained = _chain(session, [{name: getattr(e, name) for name in COLUMNS} for e in events])
    for audit_event, row in zip(events, chained, strict=True):
        audit_event.at, audit_event.seq, audit_event.mac = row["at"], row["seq"], row["mac"]
    audit_queue.mark_chained(session)
    connection = session.connection()
    # One Core statement (the ORM's unit of work cost as much CPU as the chaining): a
    # multi-row INSERT on both databases, its ids matched back by place.
    ids = {seq: row_id for row_id, seq in connection.execute(_INSERT_EVENTS, chained)}
    for audit_event in events:
        audit_event.id = ids[audit_event.seq]
        audit_queue.attach(session, audit_event)
    people = audit_people.index_rows(chained)
    if people:
        connection.execute(insert(audit_people.PEOPLE), people)


audit_queue.listen(_chain_pending)


def record(
    session: Session,
    actor: User | StructureByLink | None,
    action: AuditAction,
    subject: Any,
    *,
    beneficiary_id: uuid.UUID | None = None,
    purpose: str | None = None,
    **data: str | int | None,
) -> AuditEvent:
    """Record one audit event about ``subject`` (a model with an ``id``). Ids only in ``data``.

    The event is chained when the transaction commits (see the module): until then its
    ``seq``, MAC and ``id`` are None; a rollback discards it."""
    return _queue(session, _event_row(actor, action, subject, beneficiary_id, purpose, data))


def _queue(session: Session, row: Mapping[str, Any]) -> AuditEvent:
    audit_event = AuditEvent(**row, at=None, seq=None, mac=None)
    audit_queue.queue(session, audit_event)
    return audit_event


def _event_row(
    actor: User | StructureByLink | None,
    action: AuditAction,
    subject: Any,
    beneficiary_id: uuid.UUID | None,
    purpose: str | None,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    """The columns ``record`` fills for one event (``_chain`` adds the place and the MAC).

    A structure acting from a mailed link (no account) is named as the actor's structure,
    its channel in ``data``."""
    if isinstance(actor, StructureByLink):
        data = {**data, "channel": actor.channel}
    return {
        "actor_id": actor.id if actor else None,
        "actor_structure_id": actor.structure_id if actor else None,
        "action": action.value,
        "subject_type": type(subject).__tablename__,
        "subject_id": str(subject.id),
        "beneficiary_id": beneficiary_id,
        "purpose": purpose,
        "data": data,
    }


def _execute_insert(session: Session) -> Writer:
    def write(table: Table, rows: list[dict[str, Any]]) -> None:
        session.execute(insert(table), rows)

    return write


def append_many(
    session: Session, rows: Sequence[Mapping[str, Any]], *, write: Writer | None = None
) -> int:
    """Append many audit events in bulk, chained at once, in the caller's transaction (after
    the events ``record`` queued, which are chained first).

    ``rows`` are mappings of the columns ``record`` fills (``at`` defaults to now, ``data`` to
    ``{}``); ``write(table, rows)`` inserts the completed rows and the ``audit_event_people``
    rows of the people they list (default: one Core ``executemany`` each; the import passes
    its own bulk writer). Returns the number of rows.
    """
    _chain_pending(session)
    chained = _chain(session, rows)
    if chained:
        writer = write or _execute_insert(session)
        writer(_EVENTS, chained)
        people = audit_people.index_rows(chained)
        if people:
            writer(audit_people.PEOPLE, people)
    return len(chained)


# The subject of an event listing several people: the list is in its data.
LISTED = "*"


def record_many(
    session: Session,
    actor: User | StructureByLink | None,
    action: AuditAction,
    subjects: Sequence[tuple[Any, uuid.UUID | None]],
    *,
    purpose: str | None = None,
    **data: str | int | None,
) -> AuditEvent | None:
    """Record one event for a page that shows several (subject, person id) at once - the
    reveals of a list - instead of one event a row.

    The event's ``subject_id`` is ``*`` and ``data["people"]`` the people's ids in the order
    given (``data["subjects"]`` too when the subjects are not the people themselves); each
    listed person is findable through ``audit_event_people`` (``audit_people.about_person``),
    and a list of one person also names them in ``beneficiary_id``. The same statements for
    any number of rows. Subjects of one table; nothing is recorded for none. Queued like
    ``record``."""
    if not subjects:
        return None
    first = subjects[0][0]
    if any(type(subject) is not type(first) for subject, _ in subjects):
        raise ValueError("the subjects of one audit event are rows of one table")
    people = [str(person_id) for _, person_id in subjects if person_id is not None]
    listing: dict[str, Any] = {audit_people.LIST_KEY: people}
    subject_ids = [str(subject.id) for subject, _ in subjects]
    if subject_ids != people:
        listing["subjects"] = subject_ids
    only = subjects[0][1] if len(people) == 1 else None
    row = _event_row(actor, action, first, only, purpose, {**data, **listing})
    row["subject_id"] = LISTED
    return _queue(session, row)


# -- verifying -------------------------------------------------------------------------------
