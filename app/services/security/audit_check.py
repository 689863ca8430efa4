"""Checking the audit chain: ``verify_chain`` recomputes every row's MAC and names the first
broken row (edited, deleted, reordered, truncated), then checks the people index against the
lists the rows carry; ``seal_legacy`` closes the segment of rows
written before the chain existed. What ``flask --app app audit verify|seal-legacy`` run."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.services.errors import N_, Conflict
from app.services.security import audit_people
from app.services.security.audit import (
    _EVENTS,
    _HEAD,
    COLUMNS,
    GENESIS_MAC,
    LEGACY_CONTEXT,
    VERIFY_BATCH,
    _encode,
    append_many,
    audit_key,
    canonical_data,
    row_mac,
)


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
    listed = audit_people.index_mismatch(session, batch=batch)
    if listed is not None:
        return report(
            BrokenRow(
                listed,
                None,
                "the people index (audit_event_people) does not match the people the row lists",
            )
        )
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
