"""The audit log's upkeep as the tables' owner: monthly partitions, and pruning sealed months.

**Partitions** (PostgreSQL only; SQLite has none). ``audit_events`` is partitioned by month of
``at`` (migration ``e6b8d0f2a4c7``); ``ensure_partitions`` creates the partitions of this month
and the next ones, and moves rows the default partition took (a month without its partition)
into their own: it detaches the default partition, creates the missing months and a new
default, copies the rows back through the parent (which routes them) and drops the old one.

**Pruning** (``prune_before``) removes every row of the sealed months before a month and
keeps their seals: on PostgreSQL it drops the months' partitions and deletes the rows of those
months that lie elsewhere (the default partition, or a row stamped after its month's end);
on SQLite it deletes them. The people index of those rows (``audit_event_people``) goes with
them. Either way the guard triggers against DELETE are disabled (dropped on SQLite) and
restored in the same transaction, and a chained ``audit:prune`` event records
the last place pruned: ``audit verify`` then starts from the seal ending there. Only the
owner of the tables can do this; the application's role cannot (``database_role``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, column, func, select, table, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnClause

from app.domain.audit import AuditAction
from app.models.audit import AUDIT_PARTITION
from app.services.errors import N_, Conflict
from app.services.security.audit import _EVENTS, append_many
from app.services.security.audit_people import PEOPLE
from app.services.security.audit_seal import (
    Seal,
    load_seals,
    month_of,
    month_start,
    next_month,
    previous_month,
)

SQLITE_NO_DELETE = "audit_events_no_delete"
SQLITE_NO_DELETE_SQL = """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END"""
POSTGRESQL_GUARD = "audit_events_no_update_delete"
# The people index of the pruned rows goes with them (``audit_people``), past its own guard.
SQLITE_PEOPLE_NO_DELETE = "audit_event_people_no_delete"
SQLITE_PEOPLE_NO_DELETE_SQL = """CREATE TRIGGER audit_event_people_no_delete BEFORE DELETE ON audit_event_people
    BEGIN SELECT RAISE(ABORT, 'audit_event_people is append-only: DELETE refused'); END"""
POSTGRESQL_PEOPLE_GUARD = "audit_event_people_no_update_delete"
DEFAULT_PARTITION = "audit_events_default"


def partition_name(month: str) -> str:
    return f"audit_events_{month.replace('-', '_')}"


def _is_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def _check_owner(connection: Connection) -> None:
    owner = connection.execute(
        text(
            "SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class"
            " WHERE oid = 'audit_events'::regclass"
        )
    ).scalar()
    if not owner:
        role = connection.execute(text("SELECT current_user")).scalar_one()
        raise Conflict(
            N_(
                "Only the owner of the tables can do this (the role that runs the migrations), "
                "not %(role)s."
            ),
            role=role,
        )


def month_partitions(connection: Connection) -> dict[str, str]:
    """The month partitions of ``audit_events``: {"2026-11": "audit_events_2026_11"}."""
    names = connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'audit_events'::regclass"
        )
    ).scalars()
    found: dict[str, str] = {}
    for name in names:
        match = AUDIT_PARTITION.match(name)
        if match and match["year"]:
            found[f"{match['year']}-{match['month']}"] = name
    return found


# -- partitions -----------------------------------------------------------------------------


def _create_partition(connection: Connection, month: str) -> None:
    start, end = month_start(month), month_start(next_month(month))
    connection.exec_driver_sql(
        f"CREATE TABLE {partition_name(month)} PARTITION OF audit_events"
        f" FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    )


def ensure_partitions(session: Session, now: datetime, ahead: int) -> list[str]:
    """Create the partitions of this month and the ``ahead`` next ones, and of the months the
    default partition holds rows of (moving those rows); returns the months created."""
    connection = session.connection()
    if not _is_postgresql(connection):
        raise Conflict(N_("SQLite has no partitions: the audit log is one table."))
    _check_owner(connection)
    existing = month_partitions(connection)
    at: ColumnClause[Any] = column("at")
    stranded = set(
        connection.execute(
            select(func.to_char(func.timezone("UTC", at), "YYYY-MM"))
            .distinct()
            .select_from(table(DEFAULT_PARTITION, at))
        ).scalars()
    )
    wanted = set(stranded)
    month = month_of(now)
    for _ in range(ahead + 1):
        wanted.add(month)
        month = next_month(month)
    missing = sorted(wanted - set(existing))
    if stranded - set(existing):
        # The rows of a month cannot stay in the default partition once its partition exists.
        connection.exec_driver_sql(f"ALTER TABLE audit_events DETACH PARTITION {DEFAULT_PARTITION}")
        connection.exec_driver_sql(f"ALTER TABLE {DEFAULT_PARTITION} RENAME TO audit_events_moving")
        connection.exec_driver_sql(
            f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF audit_events DEFAULT"
        )
        for month in missing:
            _create_partition(connection, month)
        connection.exec_driver_sql("INSERT INTO audit_events SELECT * FROM audit_events_moving")
        connection.exec_driver_sql("DROP TABLE audit_events_moving")
    else:
        for month in missing:
            _create_partition(connection, month)
    return missing


# -- pruning --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pruned:
    before: str
    first_seq: int
    last_seq: int
    partitions: list[str]

    @property
    def rows(self) -> int:
        return self.last_seq - self.first_seq + 1


def prune_before(session: Session, before: str) -> Pruned | None:
    """Remove the rows of every month before ``before``, all sealed; ``None`` when they are
    gone already, or when the audit log begins after them (a young instance: the months
    before its first row are never sealed, and hold nothing to prune). ``Conflict`` when the
    month before ``before`` is not sealed though the log holds it."""
    connection = session.connection()
    last_month = previous_month(before)
    ordered = load_seals(session)
    seals = {seal.month: seal for seal in ordered}
    cut = seals.get(last_month)
    if cut is None and _begins_later(session, ordered, before):
        return None
    if cut is None:
        raise Conflict(
            N_(
                "%(month)s is not sealed: only sealed months are pruned. Run flask --app app "
                "audit seal (a month is sealed once it is over) and prune before a month whose "
                "previous month is sealed."
            ),
            month=last_month,
        )
    found = session.execute(select(func.min(_EVENTS.c.seq))).scalar()
    first = int(found) if found is not None else cut.last_seq + 1
    if first > cut.last_seq:
        return None
    dropped: list[str] = []
    if _is_postgresql(connection):
        _check_owner(connection)
        for month, name in sorted(month_partitions(connection).items()):
            if month > last_month:
                continue
            seq: ColumnClause[Any] = column("seq")
            beyond = connection.execute(
                select(func.max(seq)).select_from(table(name, seq))
            ).scalar()
            if beyond is not None and int(beyond) > cut.last_seq:
                raise Conflict(
                    N_(
                        "The partition of %(month)s holds seq %(seq)s, after the seal of "
                        "%(last)s: a row was stamped in a sealed month after its seal. Nothing "
                        "was pruned; run flask --app app audit verify."
                    ),
                    month=month,
                    seq=int(beyond),
                    last=last_month,
                )
            connection.exec_driver_sql(f"DROP TABLE {name}")
            dropped.append(name)
        for name, guard, target in (
            ("audit_events", POSTGRESQL_GUARD, _EVENTS),
            ("audit_event_people", POSTGRESQL_PEOPLE_GUARD, PEOPLE),
        ):
            connection.exec_driver_sql(f"ALTER TABLE {name} DISABLE TRIGGER {guard}")
            connection.execute(target.delete().where(target.c.seq <= cut.last_seq))
            connection.exec_driver_sql(f"ALTER TABLE {name} ENABLE TRIGGER {guard}")
    else:
        for trigger, create, target in (
            (SQLITE_NO_DELETE, SQLITE_NO_DELETE_SQL, _EVENTS),
            (SQLITE_PEOPLE_NO_DELETE, SQLITE_PEOPLE_NO_DELETE_SQL, PEOPLE),
        ):
            connection.exec_driver_sql(f"DROP TRIGGER {trigger}")
            connection.execute(target.delete().where(target.c.seq <= cut.last_seq))
            connection.exec_driver_sql(create)
    append_many(
        session,
        [
            {
                "action": AuditAction.AUDIT_PRUNE.value,
                "subject_type": _EVENTS.name,
                "subject_id": before,
                "data": {"before": before, "first_seq": first, "last_seq": cut.last_seq},
            }
        ],
    )
    return Pruned(before, first, cut.last_seq, dropped)


def _begins_later(session: Session, seals: list[Seal], before: str) -> bool:
    """Whether the audit log begins in ``before`` or later: its first seal (kept by every
    prune: the month of its first row) is not before ``before``, or, nothing sealed yet, no
    row is stamped before ``before``."""
    if seals:
        return seals[0].month >= before
    first = session.execute(select(func.min(_EVENTS.c.at))).scalar()
    return first is None or month_of(first) >= before
