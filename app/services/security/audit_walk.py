"""Walking the audit chain: the rows of a run of places checked against their MACs, the seals
ending inside and the chain's own upkeep events. ``audit_check`` decides where a walk starts
(the first kept row, the last seal, a sealed month) and what its end must meet."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.services.security.audit import _EVENTS, _HEAD
from app.services.security.audit_mac import (
    COLUMNS,
    GENESIS_MAC,
    LEGACY_CONTEXT,
    _encode,
    canonical_data,
    row_mac,
)
from app.services.security.audit_seal import Seal, month_digest, seal_event_data


@dataclass(frozen=True)
class BrokenRow:
    """The first place where the chain does not hold. ``reason`` is an English sentence."""

    seq: int
    id: int | None
    reason: str


def rows(session: Session, batch: int, start: int = 1, stop: int | None = None) -> Iterator[Any]:
    """The rows from place ``start`` (to ``stop``) in ``seq`` order, ``batch`` at a time."""
    last = start - 1
    columns = [_EVENTS.c.id, _EVENTS.c.seq, _EVENTS.c.mac, *(_EVENTS.c[n] for n in COLUMNS)]
    while True:
        query = select(*columns).where(_EVENTS.c.seq > last)
        if stop is not None:
            query = query.where(_EVENTS.c.seq <= stop)
        page = session.execute(query.order_by(_EVENTS.c.seq).limit(batch)).all()
        yield from page
        if len(page) < batch:
            return
        last = int(page[-1].seq)


def legacy_digest_start(key: bytes) -> hmac.HMAC:
    return hmac.new(key, LEGACY_CONTEXT, hashlib.sha256)


@dataclass(frozen=True)
class ChainHead:
    seq: int
    mac: bytes
    legacy_until: int


def read_head(session: Session) -> ChainHead | None:
    found = session.execute(
        select(_HEAD.c.seq, _HEAD.c.mac, _HEAD.c.legacy_until).where(_HEAD.c.id == 1)
    ).first()
    return ChainHead(int(found.seq), bytes(found.mac), int(found.legacy_until)) if found else None


def head_matches(session: Session, key: bytes) -> bool | None:
    """Whether ``key`` computes the MAC of the chain's last row from the row before it (two
    rows read by place: ``app/services/security/key_check.py``). ``None`` when there is
    nothing to compute: no chained row yet, or the last row or the one before it not chained
    or not there (``audit verify`` says why)."""
    head = read_head(session)
    # The first chained row after the legacy segment follows no row's MAC.
    if head is None or (head.seq != 1 and head.seq - 1 <= head.legacy_until):
        return None
    places = [head.seq - 1, head.seq]
    columns = [_EVENTS.c.seq, _EVENTS.c.mac, *(_EVENTS.c[n] for n in COLUMNS)]
    found = {
        int(row.seq): row
        for row in session.execute(select(*columns).where(_EVENTS.c.seq.in_(places)))
    }
    last, before = found.get(head.seq), found.get(head.seq - 1)
    previous = GENESIS_MAC if head.seq == 1 else (before.mac if before is not None else None)
    if last is None or last.mac is None or previous is None:
        return None
    computed = row_mac(key, head.seq, bytes(previous), dict(last._mapping))
    return hmac.compare_digest(computed, bytes(last.mac))


@dataclass
class Walk:
    """Check the rows from ``start`` (whose previous MAC is ``previous``) to ``stop``.

    Counts them, compares the run of each seal ending inside with the seal, each chained
    ``audit:seal`` event with its seal, and notes the places the ``audit:prune`` events say
    the log was pruned up to.
    """

    key: bytes
    head: ChainHead | None
    seals: list[Seal]
    start: int
    previous: bytes
    count: int = 0
    legacy_sealed: bool = False
    prunes: set[int] = field(default_factory=set)
    # The digest of the rows since the last seal boundary passed.
    running: hmac.HMAC | None = None
    # Set by ``run``: the legacy digest (when the walk starts at 1) and the seals by place.
    _legacy: hmac.HMAC | None = field(default=None, init=False)
    _ending: dict[int, Seal] = field(default_factory=dict, init=False)
    _by_month: dict[str, Seal] = field(default_factory=dict, init=False)

    @property
    def _head_seq(self) -> int:
        return self.head.seq if self.head else 0

    @property
    def _legacy_until(self) -> int:
        return self.head.legacy_until if self.head else 0

    def run(
        self, session: Session, batch: int, stop: int | None, progress: Callable[[int], None] | None
    ) -> BrokenRow | None:
        self._ending = {s.last_seq: s for s in self.seals if not s.empty}
        self._by_month = {s.month: s for s in self.seals}
        self._legacy = legacy_digest_start(self.key) if self.start == 1 else None
        self.running = month_digest(self.key)
        expected = self.start
        for row in rows(session, batch, self.start, stop):
            broken = self._step(row, expected)
            if broken is not None:
                return broken
            self.count += 1
            expected += 1
            if progress is not None:
                progress(1)
        return None

    def _step(self, row: Any, expected: int) -> BrokenRow | None:
        seq, row_id = int(row.seq), int(row.id)
        if seq < expected:
            return BrokenRow(seq, row_id, f"two rows hold seq {seq}")
        if seq != expected:
            return BrokenRow(seq, row_id, f"rows from seq {expected} to {seq - 1} are missing")
        if self.head is None:
            return BrokenRow(seq, row_id, "the chain head is missing")
        if seq > self._head_seq:
            return BrokenRow(
                seq, row_id, f"the row lies beyond the chain head (seq {self._head_seq})"
            )
        if seq <= self._legacy_until:
            broken = self._legacy_row(seq, row_id, row)
        else:
            broken = self._chained_row(seq, row_id, row)
        return broken if broken is not None else self._seal_end(seq, row_id)

    def _legacy_row(self, seq: int, row_id: int, row: Any) -> BrokenRow | None:
        if row.mac is not None:
            return BrokenRow(seq, row_id, "a chained row lies in the legacy segment")
        encoded = _encode(seq, b"", row._mapping, canonical_data(row.data))
        assert self.running is not None
        self.running.update(encoded)
        if self._legacy is not None:
            self._legacy.update(encoded)
        return None

    def _chained_row(self, seq: int, row_id: int, row: Any) -> BrokenRow | None:
        if row.mac is None:
            return BrokenRow(seq, row_id, "the row has no MAC")
        computed = row_mac(self.key, seq, self.previous, row._mapping)
        if not hmac.compare_digest(computed, bytes(row.mac)):
            return BrokenRow(
                seq, row_id, "the row does not match its MAC (edited, moved or replaced)"
            )
        self.previous = computed
        assert self.running is not None
        self.running.update(computed)
        return self._event(seq, row_id, row)

    def _seal_end(self, seq: int, row_id: int) -> BrokenRow | None:
        """At the last place of a seal, compare the run since the previous one with it."""
        sealed = self._ending.get(seq)
        if sealed is None:
            return None
        assert self.running is not None
        if sealed.last_mac != self.previous or sealed.digest != self.running.digest():
            return BrokenRow(
                seq,
                row_id,
                f"the rows of {sealed.month} (seq {sealed.first_seq} to {seq}) do not "
                "match their seal",
            )
        self.running = month_digest(self.key)
        return None

    def month_digest_of(self, session: Session, batch: int, stop: int) -> bytes | BrokenRow:
        """Walk to ``stop`` (the end of a month to seal) and return the month's digest."""
        broken = self.run(session, batch, stop, None)
        if broken is not None:
            return broken
        if self.count < stop - self.start + 1:
            return BrokenRow(self.start + self.count, None, "rows are missing")
        assert self.running is not None
        return self.running.digest()

    def _event(self, seq: int, row_id: int, row: Any) -> BrokenRow | None:
        """Check what a chained event of the log's own upkeep says."""
        if row.action == AuditAction.AUDIT_SEAL_LEGACY.value and not self.legacy_sealed:
            # After a prune the legacy rows are gone: their months' seals vouched for them.
            legacy, legacy_until = self._legacy, self._legacy_until
            if legacy is not None and (
                row.data.get("rows") != legacy_until or row.data.get("digest") != legacy.hexdigest()
            ):
                return BrokenRow(
                    seq,
                    row_id,
                    f"the legacy rows (seq 1 to {legacy_until}) changed after this seal",
                )
            self.legacy_sealed = True
        elif row.action == AuditAction.AUDIT_SEAL.value:
            seal = self._by_month.get(str(row.data.get("month")))
            if seal is None or seal_event_data(seal) != row.data:
                return BrokenRow(
                    seq,
                    row_id,
                    f"the seal of {row.data.get('month')} written at this row is missing from "
                    "audit_seals or differs from it",
                )
        elif row.action == AuditAction.AUDIT_PRUNE.value:
            self.prunes.add(int(row.data.get("last_seq", 0)))
        return None
