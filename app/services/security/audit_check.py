"""Checking the audit chain: ``verify_chain`` recomputes every row's MAC and names the first
broken row (edited, deleted, reordered, truncated), from the first kept row or from the last
seal, then checks the people index against the lists the rows carry; ``verify_month``
checks one sealed month; ``seal_months`` closes the finished months and ``seal_legacy``
the segment of rows written before the chain existed. What
``flask --app app audit verify|seal|seal-legacy`` run."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.services.errors import N_, Conflict
from app.services.security import audit_people
from app.services.security.audit import _EVENTS, _HEAD, VERIFY_BATCH, append_many, audit_key
from app.services.security.audit_mac import GENESIS_MAC, _encode, canonical_data
from app.services.security.audit_seal import (
    SEAL_MARGIN,
    Seal,
    broken_seal,
    last_seq_before,
    load_seals,
    month_of,
    month_start,
    next_month,
    sealable_months,
    write_seal,
)
from app.services.security.audit_walk import (
    BrokenRow,
    ChainHead,
    Walk,
    legacy_digest_start,
    read_head,
    rows,
)


@dataclass(frozen=True)
class ChainReport:
    rows: int
    head_seq: int
    legacy_rows: int
    legacy_sealed: bool
    broken: BrokenRow | None
    # The first place checked (after the pruned months, the last seal, or a month's start),
    # the last one for a month, and the number of sealed months.
    start: int = 1
    stop: int | None = None
    seals: int = 0

    @property
    def intact(self) -> bool:
        return self.broken is None


def _seal_problem(key: bytes, seals: list[Seal]) -> BrokenRow | None:
    found = broken_seal(key, seals)
    if found is None:
        return None
    return BrokenRow(found[0].first_seq, None, found[1])


def verify_chain(
    session: Session,
    *,
    batch: int = VERIFY_BATCH,
    progress: Callable[[int], None] | None = None,
    since_seal: bool = False,
) -> ChainReport:
    """Check the rows against their MACs, the seals and the chain's head; report the first
    broken row. The whole log (after the pruned months), or with ``since_seal`` only what
    follows the last seal, from the MAC it keeps - the whole log while no month is sealed
    (the report's ``seals`` is then 0)."""
    key = audit_key()
    head = read_head(session)
    head_seq = head.seq if head else 0
    legacy_until = head.legacy_until if head else 0
    seals = load_seals(session)

    def report(walk: Walk | None, broken: BrokenRow | None) -> ChainReport:
        return ChainReport(
            walk.count if walk else 0,
            head_seq,
            legacy_until,
            walk.legacy_sealed if walk else False,
            broken,
            walk.start if walk else 1,
            None,
            len(seals),
        )

    problem = _seal_problem(key, seals)
    if problem is not None:
        return report(None, problem)
    since_seal = since_seal and bool(seals)
    walk = _first_walk(session, key, head, seals, since_seal=since_seal)
    if isinstance(walk, BrokenRow):
        return report(None, walk)
    broken = walk.run(session, batch, None, progress)
    if broken is not None:
        return report(walk, broken)
    end = walk.start + walk.count - 1
    if end < head_seq:
        return report(
            walk,
            BrokenRow(
                end + 1,
                None,
                f"the chain ends at seq {end} but its head says {head_seq}: "
                "rows were removed from the end",
            ),
        )
    if head is not None and not hmac.compare_digest(walk.previous, head.mac):
        return report(
            walk, BrokenRow(end, None, "the last row is not the one the chain head recorded")
        )
    if not since_seal and walk.start > 1 and walk.start - 1 not in walk.prunes:
        return report(
            walk,
            BrokenRow(
                walk.start,
                None,
                f"the rows up to seq {walk.start - 1} are gone but no audit:prune event says "
                "they were pruned",
            ),
        )
    return report(walk, _people_mismatch(session, batch, walk.start))


def _first_walk(
    session: Session, key: bytes, head: ChainHead | None, seals: list[Seal], *, since_seal: bool
) -> Walk | BrokenRow:
    """The walk of ``verify_chain``: from the last seal, or from the first row kept (after
    the pruned months, whose last seal must end just before it)."""
    if since_seal:
        walk = Walk(key, head, seals, seals[-1].last_seq + 1, seals[-1].last_mac)
        legacy_until = head.legacy_until if head else 0
        walk.legacy_sealed = legacy_until == 0 or _legacy_seal_before(session, walk.start)
        return walk
    first = session.execute(select(func.min(_EVENTS.c.seq))).scalar()
    start = int(first) if first is not None else 1
    before = [s for s in seals if s.last_seq == start - 1]
    if start > 1 and not before:
        return BrokenRow(
            start,
            None,
            f"the rows before seq {start} are missing and no seal ends at seq "
            f"{start - 1}: rows were removed that were not sealed",
        )
    return Walk(key, head, seals, start, before[-1].last_mac if before else GENESIS_MAC)


def _people_mismatch(
    session: Session, batch: int, start: int, stop: int | None = None
) -> BrokenRow | None:
    """The first row from ``start`` (to ``stop``) whose people index (``audit_event_people``)
    differs from the people the row lists."""
    listed = audit_people.index_mismatch(session, batch=batch, start=start, stop=stop)
    if listed is None:
        return None
    return BrokenRow(
        listed,
        None,
        "the people index (audit_event_people) does not match the people the row lists",
    )


def _legacy_seal_before(session: Session, start: int) -> bool:
    """Whether the legacy seal lies before ``start`` (checked by an earlier verification)."""
    found = session.execute(
        select(_EVENTS.c.seq)
        .where(_EVENTS.c.action == AuditAction.AUDIT_SEAL_LEGACY.value, _EVENTS.c.seq < start)
        .limit(1)
    ).first()
    return found is not None


def verify_month(
    session: Session,
    month: str,
    *,
    batch: int = VERIFY_BATCH,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> ChainReport:
    """Check one sealed month: its seal, the seals before it, and its rows against their
    MACs from the previous seal's MAC to its own. Reads that month's rows only. A month not
    sealed is a ``Conflict`` saying why: not over yet, before the log began, or not sealed."""
    key = audit_key()
    head = read_head(session)
    seals = load_seals(session)
    found = [i for i, s in enumerate(seals) if s.month == month]
    if not found:
        raise _not_sealed(session, month, now or datetime.now(UTC))
    index = found[0]
    seal = seals[index]
    head_seq = head.seq if head else 0
    legacy_until = head.legacy_until if head else 0
    previous = seals[index - 1].last_mac if index else GENESIS_MAC
    walk = Walk(key, head, seals, seal.first_seq, previous)

    def report(broken: BrokenRow | None) -> ChainReport:
        return ChainReport(
            walk.count, head_seq, legacy_until, walk.legacy_sealed, broken,
            seal.first_seq, seal.last_seq, len(seals),
        )  # fmt: skip

    problem = _seal_problem(key, seals[: index + 1])
    if problem is not None:
        return report(problem)
    if seal.empty:
        return report(None)
    first = session.execute(select(func.min(_EVENTS.c.seq))).scalar()
    if first is None or int(first) > seal.last_seq:
        raise Conflict(N_("The rows of %(month)s were pruned: only its seal is left."), month=month)
    broken = walk.run(session, batch, seal.last_seq, progress)
    if broken is None and walk.count < seal.rows:
        broken = BrokenRow(
            seal.first_seq + walk.count,
            None,
            f"the rows of {month} end at seq {seal.first_seq + walk.count - 1} but its seal "
            f"says {seal.last_seq}",
        )
    if broken is None:
        broken = _people_mismatch(session, batch, seal.first_seq, seal.last_seq)
    return report(broken)


def _not_sealed(session: Session, month: str, now: datetime) -> Conflict:
    if month_start(next_month(month)) + SEAL_MARGIN > now:
        return Conflict(
            N_(
                "The month %(month)s is not over yet: it can be sealed (flask --app app audit "
                "seal) once it is, then checked on its own."
            ),
            month=month,
        )
    first = session.execute(select(func.min(_EVENTS.c.at))).scalar()
    if first is None or month < month_of(first):
        return Conflict(
            N_(
                "The audit log holds nothing for %(month)s: its first row is later. Check "
                "the whole chain with flask --app app audit verify."
            ),
            month=month,
        )
    return Conflict(
        N_("The month %(month)s is not sealed: run flask --app app audit seal."),
        month=month,
    )


def rows_to_check(session: Session, *, month: str | None, since_seal: bool) -> int:
    """How many rows ``verify_month`` or ``verify_chain`` will read (for a progress bar)."""
    if month is None and not since_seal:
        return chain_length(session)
    seals = load_seals(session)
    if month is not None:
        return next((s.rows for s in seals if s.month == month), 0)
    return chain_length(session, seals[-1].last_seq + 1 if seals else 1)


def chain_length(session: Session, start: int = 1, stop: int | None = None) -> int:
    """How many rows ``verify_chain`` or ``verify_month`` will read (for a progress bar)."""
    query = select(func.count()).select_from(_EVENTS).where(_EVENTS.c.seq >= start)
    if stop is not None:
        query = query.where(_EVENTS.c.seq <= stop)
    return int(session.execute(query).scalar_one())


# -- sealing the finished months ------------------------------------------------------------


def seal_months(session: Session, now: datetime, *, batch: int = VERIFY_BATCH) -> list[Seal]:
    """Seal, in order, every finished month not sealed yet; returns the new seals.

    Each month's rows are checked against their MACs (from the previous seal's MAC) before its
    seal is written: ``Conflict`` naming the first broken row, and nothing sealed after it.
    """
    key = audit_key()
    head = read_head(session)
    if head is None:
        raise Conflict(N_("The audit chain head is missing: run flask --app app audit verify."))
    seals = load_seals(session)
    found = broken_seal(key, seals)
    if found is not None:
        raise Conflict(
            N_("The seals do not hold (%(reason)s): run flask --app app audit verify."),
            reason=found[1],
        )
    first = session.execute(select(func.min(_EVENTS.c.seq))).scalar()
    if not seals and first is not None and int(first) > 1:
        raise Conflict(
            N_("The audit log does not start at seq 1: run flask --app app audit verify.")
        )
    written: list[Seal] = []
    for month in sealable_months(session, seals, now):
        previous = seals[-1] if seals else None
        first_seq = previous.last_seq + 1 if previous else 1
        last_seq = last_seq_before(session, first_seq, month_start(next_month(month)))
        walk = Walk(key, head, seals, first_seq, previous.last_mac if previous else GENESIS_MAC)
        digest = walk.month_digest_of(session, batch, last_seq)
        if isinstance(digest, BrokenRow):
            raise Conflict(
                N_(
                    "The audit log is broken at seq %(seq)s (%(reason)s): %(month)s was not "
                    "sealed. Run flask --app app audit verify."
                ),
                seq=digest.seq,
                reason=digest.reason,
                month=month,
            )
        seal = write_seal(session, month, first_seq, last_seq, walk.previous, digest)
        seals.append(seal)
        written.append(seal)
        head = read_head(session)
    return written


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
    digest = legacy_digest_start(key)
    expected = 1
    for row in rows(session, batch):
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
