"""Writing the audit log, in the caller's transaction, as a tamper-evident chain.

Every row gets its place ``seq`` (1, 2, 3... without gaps) and ``mac``, an HMAC-SHA256 under
the audit key (``RELAIS_AUDIT_KEY``, never used for anything else) over a canonical encoding of
``seq``, the previous row's MAC and every column of the row (``_encode``). ``audit_chain_head``
holds the last ``seq`` and MAC and moves in the same transaction as the rows, so that
``verify_chain`` detects an edited, deleted, inserted or reordered row *and* rows dropped from
the end. The surrogate key ``id`` is not covered: the order of the log is ``seq``.

Writers are serialised, so the chain never forks:

* PostgreSQL: ``pg_advisory_xact_lock`` on one fixed key before reading the head, held until
  the transaction ends; the next writer waits, then (READ COMMITTED) reads the new head;
* SQLite: one writer at a time and serialisable transactions. A transaction that read the
  head before another one committed cannot write any more: its write fails with "database is
  locked" (``SQLITE_BUSY_SNAPSHOT``) instead of forking. Most transactions have written
  before they audit, and then hold the write lock already when they read the head.

On both, the unique index on ``seq`` and the head update conditioned on the ``seq`` read make
a fork impossible even if the lock were bypassed.

Every writer goes through ``_chain``: ``record`` (one event, ORM) and ``append_many`` (bulk
inserts of the import and the synthetic caseloads). Rows written before the chain existed
(``seq <= legacy_until``, no MAC) are the *legacy segment*: ``seal_legacy`` appends one chained
event holding a MAC of that whole segment, without rewriting a row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, func, insert, select, text
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.models import AuditChainHead, AuditEvent, User
from app.models.base import utcnow
from app.services.errors import N_, Conflict

MAC_CONTEXT = b"relais-audit-v1"
LEGACY_CONTEXT = b"relais-audit-legacy-v1"
GENESIS_MAC = bytes(32)
# pg_advisory_xact_lock key of the audit chain ("RELAISAU" as a big-endian int64).
ADVISORY_LOCK_KEY = int.from_bytes(b"RELAISAU", "big")
# The columns a row's MAC covers, in this order, after its seq and the previous MAC.
COLUMNS = (
    "at",
    "actor_id",
    "actor_structure_id",
    "action",
    "subject_type",
    "subject_id",
    "beneficiary_id",
    "purpose",
    "data",
)
VERIFY_BATCH = 2000

_EVENTS = cast(Table, AuditEvent.__table__)
_HEAD = cast(Table, AuditChainHead.__table__)
_NULL = b"\xff\xff\xff\xff"

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


# -- canonical encoding ----------------------------------------------------------------------


def _text(value: object) -> bytes:
    if value is None:
        return _NULL
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in an audit row")
        raw = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode()
    elif isinstance(value, uuid.UUID):
        raw = value.hex.encode()
    elif isinstance(value, bool):  # before int: bool is an int
        raise TypeError("a boolean is not an audit column value")
    elif isinstance(value, int | str):
        raw = str(value).encode("utf-8")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} in an audit row")
    return struct.pack(">I", len(raw)) + raw


def canonical_data(data: Mapping[str, Any] | None) -> str:
    """The ``data`` column as JSON with sorted keys, the same before and after storage."""
    return json.dumps(
        data or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _encode(seq: int, previous: bytes, row: Mapping[str, Any], data_json: str) -> bytes:
    """The MAC input: context, seq, previous MAC, then each column, length-prefixed."""
    parts = [MAC_CONTEXT, struct.pack(">Q", seq), struct.pack(">I", len(previous)), previous]
    for name in COLUMNS[:-1]:
        value = row.get(name)
        if name == "beneficiary_id" and isinstance(value, str):
            value = uuid.UUID(value)
        parts.append(_text(value))
    parts.append(_text(data_json))
    return b"".join(parts)


def row_mac(key: bytes, seq: int, previous: bytes, row: Mapping[str, Any]) -> bytes:
    """The MAC of one row at place ``seq`` after a row whose MAC is ``previous``."""
    message = _encode(seq, previous, row, canonical_data(row.get("data")))
    return hmac.new(key, message, hashlib.sha256).digest()


# -- appending ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Head:
    seq: int
    mac: bytes
    legacy_until: int
    exists: bool


def _lock_and_read_head(connection: Connection) -> _Head:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    found = connection.execute(
        select(_HEAD.c.seq, _HEAD.c.mac, _HEAD.c.legacy_until).where(_HEAD.c.id == 1)
    ).first()
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
    moved = connection.execute(
        _HEAD.update().where(_HEAD.c.id == 1, _HEAD.c.seq == head.seq).values(seq=seq, mac=mac)
    )
    if moved.rowcount != 1:  # pragma: no cover - the lock makes this impossible
        raise RuntimeError("the audit chain head moved during an append")


def _chain(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Give ``rows`` their places and MACs after the current head, and move the head.

    Runs on the session's connection without flushing: the head already counts the events
    ``record`` added to the session and not flushed yet.
    """
    key = audit_key()
    connection = session.connection()
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


def record(
    session: Session,
    actor: User | None,
    action: AuditAction,
    subject: Any,
    *,
    beneficiary_id: uuid.UUID | None = None,
    purpose: str | None = None,
    **data: str | int | None,
) -> AuditEvent:
    """Append one audit event about ``subject`` (a model with an ``id``). Ids only in ``data``."""
    (row,) = _chain(session, [_event_row(actor, action, subject, beneficiary_id, purpose, data)])
    event = AuditEvent(**row)
    session.add(event)
    return event


def _event_row(
    actor: User | None,
    action: AuditAction,
    subject: Any,
    beneficiary_id: uuid.UUID | None,
    purpose: str | None,
    data: Mapping[str, str | int | None],
) -> dict[str, Any]:
    """The columns ``record`` fills for one event (``_chain`` adds the place and the MAC)."""
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
    """Append many audit events in bulk, chained, in the caller's transaction.

    ``rows`` are mappings of the columns ``record`` fills (``at`` defaults to now, ``data`` to
    ``{}``); ``write(table, rows)`` inserts the completed rows (default: one Core
    ``executemany``; the import passes its own bulk writer). Returns the number of rows.
    """
    chained = _chain(session, rows)
    if chained:
        (write or _execute_insert(session))(_EVENTS, chained)
    return len(chained)


def record_many(
    session: Session,
    actor: User | None,
    action: AuditAction,
    subjects: Sequence[tuple[Any, uuid.UUID | None]],
    *,
    purpose: str | None = None,
    **data: str | int | None,
) -> int:
    """``record`` for each (subject, beneficiary id) of ``subjects``, in that order, in one
    append to the chain (``append_many``): the same events, in a fixed number of queries.

    For the events of one page (the reveals of a list); returns the number of events.
    """
    return append_many(
        session,
        [
            _event_row(actor, action, subject, beneficiary_id, purpose, data)
            for subject, beneficiary_id in subjects
        ],
    )


# -- verifying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokenRow:
    """The first place where the chain does not hold. ``reason`` is an English sentence."""

    seq: int
    id: int | None
    reason: str


@dataclass(frozen=True)
class ChainReport:
    rows: int
    head_seq: int
    legacy_rows: int
    legacy_sealed: bool
    broken: BrokenRow | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def _rows(session: Session, batch: int) -> Iterator[Any]:
    last = 0
    columns = [_EVENTS.c.id, _EVENTS.c.seq, _EVENTS.c.mac, *(_EVENTS.c[n] for n in COLUMNS)]
    while True:
        page = session.execute(
            select(*columns).where(_EVENTS.c.seq > last).order_by(_EVENTS.c.seq).limit(batch)
        ).all()
        yield from page
        if len(page) < batch:
            return
        last = int(page[-1].seq)


def _legacy_digest_start(key: bytes) -> hmac.HMAC:
    return hmac.new(key, LEGACY_CONTEXT, hashlib.sha256)


def verify_chain(
    session: Session,
    *,
    batch: int = VERIFY_BATCH,
    progress: Callable[[int], None] | None = None,
) -> ChainReport:
    """Check every row against its MAC and the chain's head; report the first broken row."""
    key = audit_key()
    head_row = session.execute(
        select(_HEAD.c.seq, _HEAD.c.mac, _HEAD.c.legacy_until).where(_HEAD.c.id == 1)
    ).first()
    head_seq = int(head_row.seq) if head_row else 0
    legacy_until = int(head_row.legacy_until) if head_row else 0
    legacy = _legacy_digest_start(key)
    sealed = False
    previous = GENESIS_MAC
    expected = 1
    count = 0

    def report(broken: BrokenRow | None) -> ChainReport:
        return ChainReport(count, head_seq, legacy_until, sealed, broken)

    for row in _rows(session, batch):
        seq, row_id = int(row.seq), int(row.id)
        values = row._mapping
        if seq != expected:
            return report(
                BrokenRow(seq, row_id, f"rows from seq {expected} to {seq - 1} are missing")
            )
        if head_row is None:
            return report(BrokenRow(seq, row_id, "the chain head is missing"))
        if seq > head_seq:
            return report(
                BrokenRow(seq, row_id, f"the row lies beyond the chain head (seq {head_seq})")
            )
        if seq <= legacy_until:
            if row.mac is not None:
                return report(BrokenRow(seq, row_id, "a chained row lies in the legacy segment"))
            legacy.update(_encode(seq, b"", values, canonical_data(row.data)))
        else:
            if row.mac is None:
                return report(BrokenRow(seq, row_id, "the row has no MAC"))
            computed = row_mac(key, seq, previous, values)
            if not hmac.compare_digest(computed, bytes(row.mac)):
                return report(
                    BrokenRow(
                        seq, row_id, "the row does not match its MAC (edited, moved or replaced)"
                    )
                )
            previous = computed
            if row.action == AuditAction.AUDIT_SEAL_LEGACY.value and not sealed:
                digest = legacy.hexdigest()
                if row.data.get("rows") != legacy_until or row.data.get("digest") != digest:
                    return report(
                        BrokenRow(
                            seq,
                            row_id,
                            f"the legacy rows (seq 1 to {legacy_until}) changed after this seal",
                        )
                    )
                sealed = True
        count += 1
        expected += 1
        if progress is not None:
            progress(1)
    if count < head_seq:
        return report(
            BrokenRow(
                count + 1,
                None,
                f"the chain ends at seq {count} but its head says {head_seq}: "
                "rows were removed from the end",
            )
        )
    if head_row is not None and not hmac.compare_digest(previous, bytes(head_row.mac)):
        return report(BrokenRow(count, None, "the last row is not the one the chain head recorded"))
    return report(None)


def chain_length(session: Session) -> int:
    """How many rows ``verify_chain`` will read (for a progress bar)."""
    return int(session.execute(select(func.count()).select_from(_EVENTS)).scalar_one())


# -- the legacy segment ----------------------------------------------------------------------


def legacy_state(session: Session) -> tuple[int, bool]:
    """(number of legacy rows, whether a seal covers them)."""
    found = session.execute(select(_HEAD.c.legacy_until).where(_HEAD.c.id == 1)).scalar()
    legacy_until = int(found or 0)
    sealed = (
        session.execute(
            select(_EVENTS.c.id)
            .where(
                _EVENTS.c.action == AuditAction.AUDIT_SEAL_LEGACY.value,
                _EVENTS.c.seq > legacy_until,
            )
            .limit(1)
        ).first()
        is not None
    )
    return legacy_until, sealed


def seal_legacy(session: Session, *, batch: int = VERIFY_BATCH) -> int:
    """Append one chained event with a MAC of the legacy rows; returns how many it covers.

    Raises ``Conflict`` when there is nothing to seal or the seal exists. Seal right after
    the upgrade: the seal vouches for the legacy rows as they are when it is written.
    """
    legacy_until, sealed = legacy_state(session)
    if legacy_until == 0:
        raise Conflict(N_("There are no legacy audit rows to seal."))
    if sealed:
        raise Conflict(N_("The legacy audit rows are sealed already."))
    key = audit_key()
    digest = _legacy_digest_start(key)
    expected = 1
    for row in _rows(session, batch):
        if int(row.seq) > legacy_until:
            break
        if int(row.seq) != expected or row.mac is not None:
            raise Conflict(N_("The legacy audit rows are not intact: they cannot be sealed."))
        digest.update(_encode(int(row.seq), b"", row._mapping, canonical_data(row.data)))
        expected += 1
    if expected - 1 != legacy_until:
        raise Conflict(N_("The legacy audit rows are not intact: they cannot be sealed."))
    append_many(
        session,
        [
            {
                "action": AuditAction.AUDIT_SEAL_LEGACY.value,
                "subject_type": _EVENTS.name,
                "subject_id": str(legacy_until),
                "data": {"rows": legacy_until, "digest": digest.hexdigest()},
            }
        ],
    )
    return legacy_until
