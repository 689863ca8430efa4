"""The audit log: who did what to which record, when and why. Ids only, never personal values.

The log is a hash chain (see ``app/services/security/audit.py``): each row has its place ``seq`` and a
MAC over its columns and the previous row's MAC; ``AuditChainHead`` holds the last place and
MAC. Database triggers (migration ``7a3d2c1b9e01``) refuse UPDATE and DELETE on both tables,
except moving the head forward.

On PostgreSQL ``audit_events`` is partitioned by month of ``at`` (migration ``e6b8d0f2a4c7``):
its primary key there is ``(id, at)`` and ``seq`` is indexed without a unique index, which a
partitioned table cannot hold without the partition key (``docs/security.md``, "Audit over
years"). ``AuditSeal`` closes each finished month.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, big_pk, created_at

# The partitions of ``audit_events`` on PostgreSQL, made by the migrations and by
# ``flask --app app audit partitions``, not by the models: ``audit_events_2026_11`` (one a
# month) and ``audit_events_default``. Schema comparisons leave them out.
AUDIT_PARTITION = re.compile(r"^audit_events_(?:(?P<year>\d{4})_(?P<month>\d{2})|default)$")


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_beneficiary_at", "beneficiary_id", "at"),)

    id: Mapped[big_pk]
    # The place in the chain: 1, 2, 3... without gaps. Rows written before the chain existed
    # (``seq <= AuditChainHead.legacy_until``) have no MAC. Not a unique index: on PostgreSQL
    # the head's conditioned move keeps places unique, on SQLite a trigger too.
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    mac: Mapped[bytes | None]
    at: Mapped[created_at]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    beneficiary_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    purpose: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuditChainHead(Base):
    """The one row naming the chain's last place and MAC, moved with every append.

    Without it, deleting the last rows of the log would leave a valid shorter chain.
    """

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    mac: Mapped[bytes]
    legacy_until: Mapped[int] = mapped_column(BigInteger)


class AuditEventPerson(Base):
    """One person an audit event lists (``data["people"]``: the people a page displayed),
    so that a person's access history finds the event through an index.

    Written with the event; the event's MAC covers the list, and ``audit verify`` checks that
    these rows are exactly the lists (``app/services/security/audit_people.py``). By ``seq``,
    not by a foreign key: the chain's place is the event's identity.
    """

    __tablename__ = "audit_event_people"

    beneficiary_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)


class AuditSeal(Base):
    """One finished month of the log, closed: the run of places it holds and their MACs.

    ``first_seq``..``last_seq`` are the places chained up to the month's end (the next seal
    starts where this one ends; a month without rows has ``last_seq = first_seq - 1``),
    ``last_mac`` the chain's MAC at ``last_seq`` (the genesis MAC inside the legacy segment),
    ``digest`` an HMAC of the month's rows and ``tag`` an HMAC, under the audit key, of all
    these columns and the previous seal's tag. Append-only (triggers); pruning keeps them.
    """

    __tablename__ = "audit_seals"

    # The month's first day, "2026-11".
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    first_seq: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(BigInteger)
    last_mac: Mapped[bytes]
    digest: Mapped[bytes]
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tag: Mapped[bytes]
