"""Seals: each finished month of the audit log closed by one row of ``audit_seals``.

A seal names the run of places chained up to the month's end: ``first_seq`` is the place
after the previous seal (1 for the first), ``last_seq`` the last place whose row is stamped
before the month's end (``first_seq - 1`` for a month without rows). It keeps ``last_mac``
(the chain's MAC at ``last_seq``, from which a later period is checked without reading what
comes before), ``digest`` (an HMAC of the month's rows: their MACs, or their encoding for rows
of the legacy segment, which have none) and ``tag``, an HMAC under the audit key of every
column *and the previous seal's tag*: an edited seal, or one removed from the middle, breaks
the tags after it. Sealing also appends a chained ``audit:seal`` event naming the seal, so a
seal removed from the end is missed by the chain (``audit_check``).

``flask --app app audit seal`` (``seal_finished_months``) seals, in order, every month that
ended at least ``SEAL_MARGIN`` ago and is not sealed yet; it checks each month's rows against
their MACs first and seals nothing after a broken row.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.models import AuditSeal
from app.services.security.audit import _EVENTS, append_many, audit_key
from app.services.security.audit_mac import GENESIS_MAC

SEALS = cast(Table, AuditSeal.__table__)
DIGEST_CONTEXT = b"relais-audit-month-v1"
TAG_CONTEXT = b"relais-audit-seal-v1"
# A month is sealed this long after its end at the earliest: a transaction that chained rows
# stamped in the month and had not committed at midnight has committed by then.
SEAL_MARGIN = timedelta(hours=1)


# -- months ---------------------------------------------------------------------------------


def month_of(moment: datetime) -> str:
    """The month of a time, in UTC: ``"2026-11"``."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def month_start(month: str) -> datetime:
    return datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return f"{year:04d}-{number:02d}"


def previous_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return f"{year:04d}-{number:02d}"


def parse_month(raw: str) -> str | None:
    """``"2026-11"`` as written, or ``None`` when it is not a month."""
    try:
        parsed = datetime.strptime(raw.strip(), "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        return None
    return parsed.strftime("%Y-%m")


# -- seals ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seal:
    month: str
    first_seq: int
    last_seq: int
    rows: int
    last_mac: bytes
    digest: bytes
    sealed_at: datetime
    tag: bytes

    @property
    def empty(self) -> bool:
        return self.last_seq < self.first_seq


def seal_tag(key: bytes, seal: Seal, previous_tag: bytes) -> bytes:
    """The tag of a seal: its columns and the previous seal's tag, under the audit key."""
    stamp = seal.sealed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode()
    message = b"".join(
        [
            TAG_CONTEXT,
            seal.month.encode(),
            struct.pack(">QQQ", seal.first_seq, seal.last_seq, seal.rows),
            seal.last_mac,
            seal.digest,
            struct.pack(">I", len(stamp)),
            stamp,
            previous_tag,
        ]
    )
    return hmac.new(key, message, hashlib.sha256).digest()


def month_digest(key: bytes) -> hmac.HMAC:
    """The running digest of a month's rows (``audit_check`` feeds it row by row)."""
    return hmac.new(key, DIGEST_CONTEXT, hashlib.sha256)


def load_seals(session: Session) -> list[Seal]:
    """Every seal, oldest month first."""
    rows = session.execute(select(SEALS).order_by(SEALS.c.month)).all()
    return [
        Seal(
            r.month,
            int(r.first_seq),
            int(r.last_seq),
            int(r.rows),
            bytes(r.last_mac),
            bytes(r.digest),
            r.sealed_at,
            bytes(r.tag),
        )
        for r in rows
    ]


def broken_seal(key: bytes, seals: Sequence[Seal]) -> tuple[Seal, str] | None:
    """The first seal that does not hold by itself: its tag, its place after the previous
    seal, its month, its count; an empty month's MAC and digest. English reason."""
    previous: Seal | None = None
    empty_digest = month_digest(key).digest()
    for seal in seals:
        if previous is not None and seal.month != next_month(previous.month):
            return seal, (
                f"the seals of the months between {previous.month} and {seal.month} are missing"
            )
        previous_tag = previous.tag if previous else b""
        if not hmac.compare_digest(seal_tag(key, seal, previous_tag), seal.tag):
            return seal, (
                f"the seal of {seal.month} does not carry its tag (the seal was edited, or a "
                "seal before it was removed)"
            )
        expected_first = previous.last_seq + 1 if previous else 1
        if seal.first_seq != expected_first or seal.rows != seal.last_seq - seal.first_seq + 1:
            return seal, f"the seal of {seal.month} does not follow the seal before it"
        if seal.empty:
            before = previous.last_mac if previous else GENESIS_MAC
            if seal.last_mac != before or seal.digest != empty_digest:
                return seal, f"the seal of {seal.month} (a month without rows) is not empty"
        previous = seal
    return None


def seal_event_data(seal: Seal) -> dict[str, str | int]:
    """What the chained ``audit:seal`` event says of its seal (``audit_check`` compares)."""
    return {
        "month": seal.month,
        "first_seq": seal.first_seq,
        "last_seq": seal.last_seq,
        "digest": seal.digest.hex(),
    }


# -- sealing --------------------------------------------------------------------------------


def sealable_months(session: Session, seals: Sequence[Seal], now: datetime) -> list[str]:
    """The finished months to seal, in order: from the month after the last seal (or the
    month of the first row) to the last month ended ``SEAL_MARGIN`` before ``now``."""
    if seals:
        month = next_month(seals[-1].month)
    else:
        first = session.execute(select(func.min(_EVENTS.c.at))).scalar()
        if first is None:
            return []
        month = month_of(first)
    months = []
    while month_start(next_month(month)) + SEAL_MARGIN <= now:
        months.append(month)
        month = next_month(month)
    return months


def last_seq_before(session: Session, first_seq: int, end: datetime) -> int:
    """The last place, from ``first_seq`` on, of a row stamped before ``end``."""
    found = session.execute(
        select(func.max(_EVENTS.c.seq)).where(_EVENTS.c.seq >= first_seq, _EVENTS.c.at < end)
    ).scalar()
    return int(found) if found is not None else first_seq - 1


def write_seal(
    session: Session, month: str, first_seq: int, last_seq: int, last_mac: bytes, digest: bytes
) -> Seal:
    """Insert the seal of ``month`` after the last one, tagged, and chain its event."""
    key = audit_key()
    previous_tag = session.execute(
        select(SEALS.c.tag).order_by(SEALS.c.month.desc()).limit(1)
    ).scalar()
    unsigned = Seal(
        month,
        first_seq,
        last_seq,
        last_seq - first_seq + 1,
        last_mac,
        digest,
        datetime.now(UTC),
        b"",
    )
    seal = Seal(**{**unsigned.__dict__, "tag": seal_tag(key, unsigned, previous_tag or b"")})
    session.execute(insert(SEALS).values(**seal.__dict__))
    append_many(
        session,
        [
            {
                "action": AuditAction.AUDIT_SEAL.value,
                "subject_type": SEALS.name,
                "subject_id": month,
                "data": seal_event_data(seal),
            }
        ],
    )
    return seal
